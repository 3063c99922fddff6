//! attest.toml: compiling any text never panics, an error is one line with
//! its place, and a policy that compiles evaluates a subject without
//! panicking, failing an unmatched subject unless the policy allows it.
#![no_main]

use attest::artifact::{digest_bytes, DigestAlgorithm};
use attest::policy_file::{PolicyFile, Subject};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match PolicyFile::parse(text, "attest.toml", std::path::Path::new("/nonexistent")) {
        Ok(p) => {
            let d = digest_bytes(b"x", DigestAlgorithm::Sha256);
            for s in [
                Subject::file("dist/pkg-1.0-py3-none-any.whl", d.clone()),
                Subject::image("oci://ghcr.io/o/r@sha256:00", "ghcr.io/o/r", d.clone()),
                Subject::digest("sha256:00", d),
            ] {
                let r = p.evaluate(&s, &[]);
                if p.rules_for(&s).next().is_none() {
                    assert_eq!(r.passed, p.unmatched_allowed());
                } else {
                    assert!(!r.passed, "passed with no evidence");
                }
            }
        }
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "{e}");
            assert!(e.location.starts_with("attest.toml"), "{e}");
        }
    }
});
