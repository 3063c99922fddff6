//! Kubernetes AdmissionReviews (`attest serve`'s /v1/admission): reading one
//! never panics, every image listed is a non-empty string listed once, and
//! the response echoes the uid as JSON.
#![no_main]

use attest::admission::{read_review, review_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_review(data) {
        Ok(r) => {
            assert!(!r.uid.is_empty());
            for (i, image) in r.images.iter().enumerate() {
                assert!(!image.is_empty());
                assert!(!r.images[..i].contains(image), "{image} listed twice");
            }
            let v = review_response(&r.uid, false, "denied");
            assert_eq!(v["response"]["uid"], r.uid.as_str());
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
