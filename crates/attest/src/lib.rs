//! attest: build provenance for release artifacts.
//!
//! The library behind the `attest` command. Every command is one pass along
//! the same road, each stage a plain function over plain data:
//!
//! ```text
//! artifact ─► digest ─► bundles ─► cryptographic check ─► policy ─► report
//! (artifact)  (artifact) (bundle)   (trust + verify)        (policy)  (report)
//! ```
//!
//! The Sigstore cryptographic core (the `sigstore-*` crates, pinned exactly)
//! is only used from [`verify`], [`trust`], [`bundle`] and [`certificate`],
//! so it can be swapped without touching the rest.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod artifact;
pub mod bundle;
pub mod certificate;
pub mod json;
pub mod manifest;
pub mod outcome;
pub mod policy;
pub mod produce;
pub mod release;
pub mod report;
pub mod source;
pub mod text;
pub mod trust;
pub mod verifier;
pub mod verify;

/// An error with its causes, one line: `outer: cause: root cause` (each
/// cause once, as libraries often repeat their source in their message).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}
