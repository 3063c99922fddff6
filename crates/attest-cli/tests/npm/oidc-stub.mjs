// Stand-in for @actions/attest's lib/oidc.js: the claims come from the test.
export const getIDTokenClaims = async () => JSON.parse(process.env.ATTEST_TEST_CLAIMS);
