//! The release side: provenance statements, signing, and storing bundles.
//!
//! `provenance` builds SLSA v1 statements as actions/attest does; `sign`
//! turns a statement into a Sigstore bundle (keyless or with a key); `store`
//! uploads it to GitHub. Every bundle is verified with attest's own verifier
//! before it is written (the CLI does that, with a policy from the claims).

pub mod provenance;
pub mod sign;
pub mod store;
