//! OCI references and Docker config credentials.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = attest::source::oci::parse_oci_ref(&format!("oci://{text}"));
    let _ = attest::source::oci::parse_oci_ref(&text);
    for registry in ["ghcr.io", "docker.io", "127.0.0.1:5000"] {
        let _ = attest::source::oci::docker_config_credentials(&text, registry, false);
    }
});
