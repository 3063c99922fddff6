// Route @actions/attest's OIDC module to a stub that returns fixed claims,
// so the package's real provenance.js and intoto.js build the statement
// without a GitHub Actions token.
import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
