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
pub mod manifest;
pub mod outcome;
pub mod policy;
pub mod produce;
pub mod release;
pub mod report;
pub mod source;
pub mod trust;
pub mod verify;
