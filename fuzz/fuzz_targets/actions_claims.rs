//! What `attest provenance` reads from the outside: the Actions OIDC claims
//! (`--claims` JSON, or the payload of the ACTIONS_ID_TOKEN JWT), the
//! `--identity-token` JWT `attest sign` checks, and `--subject-checksums`
//! manifests. Nothing may panic, and a statement built from accepted claims
//! and subjects is one attest's own verifier parses back.
#![no_main]

use attest::artifact::ArtifactDigest;
use attest::bundle::{Statement, SLSA_PROVENANCE_V1};
use attest::produce::provenance::{
    jwt_payload, provenance_predicate, statement_bytes, subjects_from_manifest, ActionsClaims,
    SubjectSpec, REQUIRED_CLAIMS,
};
use libfuzzer_sys::fuzz_target;

const EMPTY_SHA256: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn round_trip(subjects: &[SubjectSpec], predicate: &serde_json::Value) {
    let bytes = statement_bytes(subjects, SLSA_PROVENANCE_V1, predicate);
    let st = Statement::from_payload(&bytes).unwrap_or_else(|e| {
        panic!(
            "attest built a statement it refuses: {e}: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(st.subjects.len(), subjects.len());
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fixed = [SubjectSpec {
        name: "a.whl".into(),
        digest: ArtifactDigest::parse(EMPTY_SHA256).expect("digest"),
    }];
    let claims = [
        ActionsClaims::from_json(&text, "claims.json"),
        ActionsClaims::from_jwt(&text, "ACTIONS_ID_TOKEN"),
    ];
    for c in claims.into_iter().flatten() {
        for name in REQUIRED_CLAIMS {
            assert!(!c.get(name).is_empty(), "accepted without {name}");
        }
        for server in ["https://github.com", "https://octo.ghe.com/"] {
            round_trip(&fixed, &provenance_predicate(&c, server));
        }
    }
    let _ = jwt_payload(&text, "ACTIONS_ID_TOKEN");
    let _ = attest::produce::sign::check_token(&text);
    if let Ok(subjects) = subjects_from_manifest(data, "checksums.txt") {
        assert!(!subjects.is_empty());
        round_trip(&subjects, &serde_json::json!({}));
    }
});
