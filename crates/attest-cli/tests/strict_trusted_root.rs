//! A `--custom-trusted-root` that names a member twice is refused (exit 3),
//! with one line naming the key, where it is, and the file and line. Parsers
//! disagree on which duplicate counts (serde_json keeps the last, gh's
//! protojson refuses), so a root that reads two ways must not be read at all:
//! before, each root below verified the sigstore-js bundle (exit 0) because
//! the last duplicate happened to be the real one.

mod common;

use common::{gh_dir, run, verify_sigstore_js};

/// The real public-good root the sigstore-js bundle verifies under, on one line.
fn real_root() -> String {
    let text = std::fs::read_to_string(gh_dir().join("trusted_root.json")).unwrap();
    assert_eq!(text.trim_end().lines().count(), 1, "expected one JSON line");
    text.trim_end().to_string()
}

/// `text` with `needle` (which must occur exactly once) replaced.
fn replace_once(text: &str, needle: &str, with: &str) -> String {
    assert_eq!(text.matches(needle).count(), 1, "{needle:?}");
    text.replacen(needle, with, 1)
}

/// Verify sigstore-js with `root` written to a file named `name`.
fn verify_with_root(name: &str, root: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, root).unwrap();
    run(verify_sigstore_js()
        .args(["--bundle", "sigstore-js-2.1.0-bundle.json"])
        .arg("--custom-trusted-root")
        .arg(&path))
}

/// The refusal: exit 3, one line, naming the file, line, key and path.
fn assert_refused((code, out, err): (i32, String, String), file_line: &str, key: &str, path: &str) {
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    let want = format!(
        "{file_line}: invalid trusted root: duplicate key \"{key}\" in {path} \
         (a JSON object must name each member once)"
    );
    assert!(lines[0].ends_with(&want), "{err}\nwant: …{want}");
}

#[test]
fn the_real_root_verifies() {
    // The control: the same command with the untouched root passes, so the
    // refusals below are due to the duplicates alone.
    let (code, _, err) = verify_with_root("root.json", &real_root());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn certificate_authorities_named_twice_are_refused_in_either_order() {
    let root = real_root();
    // An empty list first, the real one last: serde_json read the real one.
    let empty_first = replace_once(
        &root,
        "\"certificateAuthorities\":",
        "\"certificateAuthorities\":[],\"certificateAuthorities\":",
    );
    assert_refused(
        verify_with_root("root.json", &empty_first),
        "root.json:1",
        "certificateAuthorities",
        "the top-level object",
    );
    // The real one first, an empty list last.
    let empty_last = replace_once(
        &root,
        "\"ctlogs\":",
        "\"certificateAuthorities\":[],\"ctlogs\":",
    );
    assert_refused(
        verify_with_root("root.json", &empty_last),
        "root.json:1",
        "certificateAuthorities",
        "the top-level object",
    );
}

#[test]
fn a_tlog_base_url_named_twice_is_refused() {
    let root = replace_once(
        &real_root(),
        "\"baseUrl\":\"https://rekor.sigstore.dev\"",
        "\"baseUrl\":\"https://rekor.evil.example\",\"baseUrl\":\"https://rekor.sigstore.dev\"",
    );
    assert_refused(
        verify_with_root("root.json", &root),
        "root.json:1",
        "baseUrl",
        "tlogs[0]",
    );
}

#[test]
fn a_duplicate_on_a_later_jsonl_line_names_that_line() {
    let root = real_root();
    let dup = replace_once(
        &root,
        "\"mediaType\":",
        "\"mediaType\":\"x\",\"mediaType\":",
    );
    // Line 1 is the real root (it serves the bundle), line 3 the bad one:
    // every line must be good, not only the one used.
    let jsonl = format!("{root}\n\n{dup}\n");
    assert_refused(
        verify_with_root("roots.jsonl", &jsonl),
        "roots.jsonl:3",
        "mediaType",
        "the top-level object",
    );
}

#[test]
fn sign_refuses_a_trusted_root_with_a_duplicate_before_signing() {
    // `attest sign --trusted-root` reads the root through the same parser;
    // the refusal comes before any key is read or service is called.
    let dir = tempfile::tempdir().unwrap();
    let root = replace_once(&real_root(), "\"tlogs\":", "\"tlogs\":[],\"tlogs\":");
    std::fs::write(dir.path().join("root.json"), root).unwrap();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "https://example.com/p",
        "predicate": {}
    });
    std::fs::write(dir.path().join("st.json"), statement.to_string()).unwrap();
    common::openssl_p256_key_pair(dir.path(), "key");
    // A signing config whose CA and TSA are a loopback listener that must
    // see no connection: were the root read only after signing, this would
    // fail as a service error (exit 8). Kept bound, so no other process can
    // take the port.
    let tripwire = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    tripwire.set_nonblocking(true).unwrap();
    let port = tripwire.local_addr().unwrap().port();
    let config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [{"url": format!("http://127.0.0.1:{port}"), "majorApiVersion": 1,
                    "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "test"}],
        "tsaUrls": [{"url": format!("http://127.0.0.1:{port}/api/v1/timestamp"),
                     "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"},
                     "operator": "test"}],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"}
    });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let (code, _, err) = run(common::attest().current_dir(dir.path()).args([
        "sign",
        "st.json",
        "--key",
        "key.pem",
        "--signing-config",
        "config.json",
        "--trusted-root",
        "root.json",
        "-o",
        "out.json",
    ]));
    assert!(!dir.path().join("out.json").exists());
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("root.json:1: invalid trusted root: duplicate key \"tlogs\""),
        "{err}"
    );
    assert!(
        tripwire.accept().is_err(),
        "a signing service was called before the trusted root was read"
    );
}
