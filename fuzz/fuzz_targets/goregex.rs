//! Go RE2 patterns (`--cert-identity-regex`, `--signer-repo`, ...) as attest
//! translates them for Rust's `regex`: the translation ends and never
//! panics on any pattern, a pattern that compiles can be matched, and the
//! patterns attest builds itself (`go_quote_meta`, `signer_workflow_pattern`)
//! compile and match the text they were built from.
#![no_main]

use attest::policy::{go_quote_meta, signer_workflow_pattern, GoRegex};
use libfuzzer_sys::fuzz_target;

const SAN: &str = "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(re) = GoRegex::new(text) {
        assert_eq!(re.as_str(), text);
        let _ = re.is_match(text);
        let _ = re.is_match("");
        let _ = re.is_match(SAN);
    }
    // Bounded so a long input cannot hit the regex size limit (that would be
    // a refusal, not a bug).
    if text.len() <= 4096 {
        let quoted = go_quote_meta(text);
        let exact = GoRegex::new(&format!("^{quoted}$"))
            .unwrap_or_else(|e| panic!("quoted {text:?} as {quoted:?}: {e}"));
        assert!(exact.is_match(text), "{quoted:?} does not match {text:?}");
        if let Ok(pattern) = signer_workflow_pattern(text, "github.com") {
            let re = GoRegex::new(&pattern)
                .unwrap_or_else(|e| panic!("signer workflow {text:?} as {pattern:?}: {e}"));
            assert!(
                re.is_match(&format!("https://{text}"))
                    || re.is_match(&format!("https://github.com/{text}")),
                "{pattern:?} does not match the workflow {text:?}"
            );
        }
    }
});
