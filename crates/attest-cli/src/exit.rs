//! The documented process exit codes (the README's table and `attest
//! --help`), and the one mapping from the library's verdict status to them.
//!
//! The library says how far verification got ([`Status`]); only the CLI
//! turns that into a number, so the numbers are decided in one place.
//! `attest-conformance` includes this file too (`#[path]`), so it must use
//! nothing from the `attest` binary's own modules.

use attest::outcome::Status;

/// Verified: at least one attestation matched the policy (or, elsewhere,
/// success).
pub const OK: i32 = 0;
/// An unexpected internal error.
pub const INTERNAL: i32 = 1;
/// `digest --check`: a file did not match or could not be read, as
/// sha256sum says it (the same number as [`INTERNAL`], as in sha256sum).
pub const CHECK_FAILED: i32 = 1;
/// Bad flags or arguments (clap's own code).
pub const USAGE: i32 = 2;
/// An input (artifact, bundle file, trusted root) could not be read or parsed.
pub const UNREADABLE: i32 = 3;
/// Authentication is required (as gh's 4).
pub const AUTH: i32 = 4;
/// No attestation is about this artifact (no subject with its digest, or
/// none with the requested predicate type).
pub const NO_ATTESTATION: i32 = 5;
/// An attestation for the artifact failed a cryptographic or trust check.
pub const VERIFICATION: i32 = 6;
/// An attestation verified but did not match the policy.
pub const POLICY: i32 = 7;
/// `sign`/`attest`: a signing service failed (Fulcio, Rekor, TSA, upload,
/// push).
pub const SERVICE: i32 = 8;
/// The output (stdout, a bundle, a statement) could not be written; a file
/// that was there is left as it was.
pub const OUTPUT: i32 = 9;
/// The reader of stdout has gone away: 128 + SIGPIPE, what a shell reports
/// for `sha256sum` killed by the signal. We cannot take the signal itself
/// without `unsafe`, so we exit with its status.
pub const BROKEN_PIPE: i32 = 141;

/// The exit code for a verdict status.
pub fn code(status: Status) -> i32 {
    match status {
        Status::Verified => OK,
        Status::Unreadable => UNREADABLE,
        Status::NoAttestation => NO_ATTESTATION,
        Status::Verification => VERIFICATION,
        Status::Policy => POLICY,
        // A status this CLI does not know yet must not read as success.
        _ => INTERNAL,
    }
}

/// The exit code of a run whose failures have these statuses: the one
/// that got furthest decides (6, then 7, then 5, then 3), as for a
/// release; `None` when there is no failure.
pub fn furthest(statuses: &[Status]) -> Option<i32> {
    furthest_status(statuses).map(code)
}

/// The status of those that got furthest (see [`furthest`]).
pub fn furthest_status(statuses: &[Status]) -> Option<Status> {
    [
        Status::Verification,
        Status::Policy,
        Status::NoAttestation,
        Status::Unreadable,
    ]
    .into_iter()
    .find(|s| statuses.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_their_documented_codes() {
        assert_eq!(code(Status::Verified), 0);
        assert_eq!(code(Status::Unreadable), 3);
        assert_eq!(code(Status::NoAttestation), 5);
        assert_eq!(code(Status::Verification), 6);
        assert_eq!(code(Status::Policy), 7);
    }

    #[test]
    fn the_failure_that_got_furthest_decides() {
        assert_eq!(furthest(&[]), None);
        assert_eq!(
            furthest(&[Status::Unreadable, Status::NoAttestation]),
            Some(5)
        );
        assert_eq!(furthest(&[Status::NoAttestation, Status::Policy]), Some(7));
        assert_eq!(furthest(&[Status::Policy, Status::Verification]), Some(6));
        assert_eq!(furthest(&[Status::Unreadable]), Some(3));
    }
}
