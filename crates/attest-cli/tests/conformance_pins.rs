//! Each of the sigstore-conformance `_fail` cases is pinned to the check that
//! rejects it. The conformance runner only asks for a non-zero exit, so a
//! case could "fail" for a reason unrelated to what it tests (a parse error,
//! a missing file) and hide a check that no longer exists; here every case
//! must be refused with its exit code and its check's name, in both of the
//! runner's modes (artifact file and `sha256:` digest).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run, shared_dir};
use serde_json::Value;

/// How attest refuses a case: the exit code and the text that names the
/// check (for a failed verification, `verification failed: CHECK: `).
struct Pin {
    case: &'static str,
    code: i32,
    names: &'static str,
}

/// Verification failed (exit 6) at the named check.
const fn check(case: &'static str, names: &'static str) -> Pin {
    Pin {
        case,
        code: 6,
        names,
    }
}

/// Input refused before verification (exit 3), with the named reason.
const fn input(case: &'static str, names: &'static str) -> Pin {
    Pin {
        case,
        code: 3,
        names,
    }
}

/// Built from each case's README and what attest prints for it. Cases whose
/// rejection is not the check the case was written for are marked; they are
/// pinned as they are so that a change of reason is noticed.
const PINS: &[Pin] = &[
    check(
        "bundle-empty-certificate-chain_fail",
        "verification failed: the bundle has no signing certificate",
    ),
    // A staging bundle: its log is not in the production root.
    check(
        "bundle-from-wrong-instance_fail",
        "verification failed: SET: invalid inclusion promise: No log key valid",
    ),
    input(
        "bundle-invalid-base64-signature_fail",
        "not a Sigstore bundle: Invalid encoding: invalid base64",
    ),
    input("bundle-malformed-json_fail", "not valid JSON: EOF while parsing"),
    input(
        "bundle-negative-log-index_fail",
        "field verificationMaterial.tlogEntries[0].logIndex: negative log index",
    ),
    input(
        "bundle-unknown-version_fail",
        "field mediaType: Invalid media type",
    ),
    // Not the check the case is about (a root certificate in the chain): its
    // v0.1 entry carries an inclusion proof without a checkpoint, which is
    // refused first.
    check(
        "bundle-with-root-cert_fail",
        "verification failed: bundle structure: Bundle error: inclusion proof has no checkpoint",
    ),
    check(
        "checkpoint-bad-keyhint_fail",
        "verification failed: checkpoint: invalid checkpoint: No matching Rekor key",
    ),
    check(
        "checkpoint-wrong-roothash_fail",
        "verification failed: bundle structure: Bundle error: inclusion proof root hash does not match checkpoint root hash",
    ),
    check(
        "dsse-invalid-sig_fail",
        "verification failed: signature: invalid signature: DSSE signature verification failed",
    ),
    check(
        "dsse-mismatch-envelope_fail",
        "verification failed: log entry consistency: log entry does not match the bundle: DSSE payload hash mismatch",
    ),
    check(
        "dsse-mismatch-sig_fail",
        "verification failed: log entry consistency: log entry does not match the bundle: DSSE signature in bundle does not match",
    ),
    check(
        "inclusion-proof-corrupted-hash_fail",
        "verification failed: inclusion proof: invalid inclusion proof",
    ),
    // The entry's body changed, so the SET over it no longer verifies.
    check(
        "incorrect-public-key_fail",
        "verification failed: SET: invalid inclusion promise: SET verification failed",
    ),
    // The integrated time (May 2026) is after the leaf expired: the chain is
    // checked at that time. (No longer "in the future"; the future case is
    // in crates/attest/tests/testsign_negative.rs.)
    check(
        "integrated-time-in-future_fail",
        "verification failed: certificate chain: certificate chain is invalid: certificate chain validation failed: CertExpired",
    ),
    check(
        "intoto-expired-certificate_fail",
        "verification failed: certificate chain: certificate chain is invalid: certificate chain validation failed: CertNotValidYet",
    ),
    // Not the consistency check: the entry's signature does not decode.
    check(
        "intoto-log-entry-mismatch_fail",
        "verification failed: log entry: malformed log entry: failed to decode Rekor signature",
    ),
    check(
        "intoto-missing-inclusion-proof_fail",
        "verification failed: inclusion proof: log entry 1 of 1 has no inclusion proof (bundles after v0.1 must carry one)",
    ),
    check(
        "intoto-set-outside-signing-cert-validity_fail",
        "verification failed: certificate chain: certificate chain is invalid: certificate chain validation failed: CertExpired",
    ),
    check(
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "verification failed: certificate chain: certificate chain is invalid: certificate chain validation failed: CertExpired",
    ),
    check(
        "invalid-checkpoint-signature_fail",
        "verification failed: checkpoint: invalid checkpoint: No valid Rekor signature",
    ),
    check(
        "invalid-ct-key_fail",
        "verification failed: SCT: invalid signed certificate timestamp",
    ),
    // Refused for a missing checkpoint before the stale proof is computed.
    check(
        "invalid-inclusion-proof_fail",
        "verification failed: bundle structure: Bundle error: inclusion proof has no checkpoint",
    ),
    check(
        "managed-key-no-key_fail",
        "verification failed: the bundle has no signing certificate (a key-signed bundle needs a public key to verify it)",
    ),
    // Upstream's "wrong key" is not valid base64, so it never reaches the
    // signature check.
    input(
        "managed-key-wrong-key_fail",
        "key.pub: not a PEM public key: Invalid encoding",
    ),
    check(
        "message-digest-mismatch_fail",
        "verification failed: subject digest: artifact mismatch: message digest in bundle does not match artifact hash",
    ),
    input(
        "rekor2-checkpoint-missing-log-signature_fail",
        "inclusionProof.checkpoint: Invalid checkpoint format: no signatures found",
    ),
    input(
        "rekor2-checkpoint-missing-origin_fail",
        "inclusionProof.checkpoint: Invalid checkpoint format: invalid tree size",
    ),
    input(
        "rekor2-checkpoint-missing-root-hash_fail",
        "inclusionProof.checkpoint: Invalid checkpoint format: missing root hash",
    ),
    input(
        "rekor2-checkpoint-missing-size_fail",
        "inclusionProof.checkpoint: Invalid checkpoint format: invalid tree size",
    ),
    check(
        "rekor2-checkpoint-no-matching-signature_fail",
        "verification failed: checkpoint: invalid checkpoint: No valid Rekor signature",
    ),
    check(
        "rekor2-dsse-invalid-sig_fail",
        "verification failed: signature: invalid signature: DSSE signature verification failed",
    ),
    // The envelope is not the one logged; the core reports the entry's
    // digest mismatch as an artifact mismatch.
    check(
        "rekor2-dsse-mismatch-envelope_fail",
        "verification failed: subject digest: artifact mismatch: artifact hash mismatch for hashedrekord entry",
    ),
    check(
        "rekor2-dsse-mismatch-sig_fail",
        "verification failed: log entry consistency: log entry does not match the bundle: DSSE signature in bundle does not match signature in Rekor entry",
    ),
    check(
        "rekor2-no-inclusion-proof_fail",
        "verification failed: inclusion proof: log entry 1 of 1 has no inclusion proof",
    ),
    check(
        "rekor2-no-timestamp_fail",
        "verification failed: verified timestamp: no verified timestamp",
    ),
    check(
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "verification failed: RFC 3161 timestamp: RFC 3161 timestamp 2025-06-12T12:02:20Z is outside the validity period of the authority",
    ),
    check(
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "verification failed: RFC 3161 timestamp: invalid RFC 3161 timestamp: TSA timestamp verification failed: TSA certificate validation failed",
    ),
    check(
        "rekor2-timestamp-payload-mismatch_fail",
        "verification failed: RFC 3161 timestamp: invalid RFC 3161 timestamp: TSA timestamp verification failed: Timestamp message hash mismatch",
    ),
    check(
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "verification failed: RFC 3161 timestamp: invalid RFC 3161 timestamp: TSA timestamp verification failed: Failed to verify timestamp signature: CMS signer does not match any trusted TSA certificate",
    ),
    check(
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "verification failed: RFC 3161 timestamp: invalid RFC 3161 timestamp: TSA timestamp verification failed: Failed to verify timestamp signature: CMS signer does not match any trusted TSA certificate",
    ),
    // Not the time check the case is about: the timestamp's base64 has a
    // line break, refused when the bundle is parsed.
    input(
        "rekor2-timestamp-with-incorrect-time_fail",
        "rfc3161Timestamps[0].signedTimestamp: Invalid encoding: invalid base64",
    ),
    check(
        "set-invalid-signature_fail",
        "verification failed: SET: invalid inclusion promise: SET verification failed",
    ),
    check(
        "signature-mismatch_fail",
        "verification failed: signature: invalid signature: signature verification failed",
    ),
    input(
        "trust-root-tlog-missing-validity-start_fail",
        "trusted_root.json:1: invalid trusted root: field tlogs[1].publicKey.validFor: missing field `start`",
    ),
    check(
        "wrong-hashedrekord-artifact_fail",
        "verification failed: subject digest: artifact mismatch: artifact hash mismatch for hashedrekord entry",
    ),
    check(
        "wrong-hashedrekord-cert-and-sig_fail",
        "verification failed: log entry consistency: log entry does not match the bundle: certificate in bundle does not match certificate in Rekor entry",
    ),
    check(
        "wrong-hashedrekord-entry_fail",
        "verification failed: subject digest: artifact mismatch: artifact hash mismatch for hashedrekord entry",
    ),
    check(
        "wrong-material_fail",
        "verification failed: subject digest: artifact mismatch: message digest in bundle does not match artifact hash",
    ),
];

fn conformance_dir() -> PathBuf {
    shared_dir().join("testdata/conformance")
}

fn fail_cases() -> Vec<Value> {
    let path = conformance_dir().join("cases.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; the shared test data is needed", path.display()));
    let manifest: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    manifest["cases"]
        .as_array()
        .expect("cases.json has a cases array")
        .iter()
        .filter(|c| c["expect"] == "fail")
        .cloned()
        .collect()
}

/// The runner's argument list (run.py `build_argv`, default options).
fn conformance_cmd(case: &Value, case_dir: &Path, digest_mode: bool) -> Command {
    let field = |k: &str| {
        case[k]
            .as_str()
            .unwrap_or_else(|| panic!("case {}: no {k}", case["name"]))
            .to_string()
    };
    let mut c = Command::new(env!("CARGO_BIN_EXE_attest-conformance"));
    c.current_dir(conformance_dir())
        .env_remove("ATTEST_CACHE_DIR")
        .arg("verify-bundle")
        .arg("--bundle")
        .arg(case_dir.join(field("bundle")));
    if let Some(key) = case["key"].as_str() {
        c.arg("--key").arg(case_dir.join(key));
    } else {
        c.args([
            "--certificate-identity",
            &field("identity"),
            "--certificate-oidc-issuer",
            &field("issuer"),
        ]);
    }
    c.arg("--trusted-root")
        .arg(case_dir.join(field("trusted_root")));
    if digest_mode {
        c.arg(field("digest"));
    } else {
        c.arg(case_dir.join(field("artifact")));
    }
    c
}

#[test]
fn the_table_covers_every_fail_case_once() {
    let cases: BTreeSet<String> = fail_cases()
        .iter()
        .map(|c| c["name"].as_str().expect("case name").to_string())
        .collect();
    let pinned: BTreeSet<String> = PINS.iter().map(|p| p.case.to_string()).collect();
    assert_eq!(pinned.len(), PINS.len(), "a case is pinned twice");
    assert_eq!(cases.len(), 49, "the suite has 49 fail cases");
    assert_eq!(pinned, cases);
}

#[test]
fn every_fail_case_is_refused_by_its_check() {
    let cases = fail_cases();
    let mut wrong = Vec::new();
    for pin in PINS {
        let case = cases
            .iter()
            .find(|c| c["name"] == pin.case)
            .unwrap_or_else(|| panic!("{}: not in cases.json", pin.case));
        let dir = conformance_dir().join(case["dir"].as_str().expect("case dir"));
        for digest_mode in [false, true] {
            let mode = if digest_mode { "DIGEST" } else { "PATH" };
            let (code, out, err) = run(&mut conformance_cmd(case, &dir, digest_mode));
            // One line naming the check, and nothing on stdout.
            let ok = code == pin.code
                && err.contains(pin.names)
                && err.lines().count() == 1
                && out.is_empty();
            if !ok {
                wrong.push(format!(
                    "{} {mode}: expected exit {} naming {:?}; got exit {code}: {}",
                    pin.case,
                    pin.code,
                    pin.names,
                    err.trim()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
