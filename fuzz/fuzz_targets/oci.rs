//! OCI references, Docker config credentials, and what registries send:
//! `WWW-Authenticate` challenges and JSON error bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = attest::source::oci::parse_oci_ref(&format!("oci://{text}"));
    let _ = attest::source::oci::parse_oci_ref(&text);
    for registry in ["ghcr.io", "docker.io", "127.0.0.1:5000"] {
        let _ = attest::source::oci::docker_config_credentials(&text, registry, false);
    }
    let (scheme, params) = attest::source::oci::parse_challenge(&text);
    // Every parameter comes from the header; nothing is invented.
    assert!(scheme.len() <= text.len());
    assert!(params.iter().all(|(k, v)| k.len() + v.len() <= text.len()));
    let message = attest::source::oci::registry_message(data);
    assert!(!message.contains('\n'));
});
