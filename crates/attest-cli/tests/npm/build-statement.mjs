// Build an SLSA provenance statement with @actions/attest's own code and
// print it as actions/attest serialises it (JSON.stringify).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const lib = path.join(process.env.ATTEST_NPM_PREFIX, 'node_modules/@actions/attest/lib');
const { buildSLSAProvenancePredicate } = await import(pathToFileURL(path.join(lib, 'provenance.js')).href);
const { buildIntotoStatement } = await import(pathToFileURL(path.join(lib, 'intoto.js')).href);
const predicate = await buildSLSAProvenancePredicate();
const subjects = JSON.parse(process.env.ATTEST_TEST_SUBJECTS);
process.stdout.write(JSON.stringify(buildIntotoStatement(subjects, predicate)));
