//! Sigstore signing configs (`attest sign --signing-config`): parsing never
//! panics, and a config attest accepts names a Fulcio and something that
//! vouches for the signing time (a Rekor log or a TSA; Rekor v2 only with a
//! TSA), as `Endpoints::from_signing_config` promises.
#![no_main]

use attest::produce::sign::Endpoints;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Endpoints::from_signing_config(text) {
        Ok(e) => {
            assert!(e.rekor.is_some() || e.tsa.is_some(), "{e:?}");
            if let Some((_, 2)) = e.rekor {
                assert!(e.tsa.is_some(), "Rekor v2 without a TSA: {e:?}");
            }
            assert!(!e.fulcio.ends_with('/'));
        }
        Err(err) => assert!(!err.to_string().contains('\n'), "{err}"),
    }
});
