//! Bundle v0.1 log entries with only a signed entry timestamp (a promise of
//! inclusion): accepted and reported as `promised` offline, turned into a
//! verified proof online by asking the log for the entry, refused under
//! `--require-inclusion-proof` when no proof can be had, and never trusted
//! from a log that answers with another entry.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use std::path::Path;

use attest_testsign::services::{default_actions_claims, LoopbackSigstore};
use common::{attest, run};
use mock_http::{MockServer, Response};
use serde_json::{json, Value};

struct Setup {
    dir: tempfile::TempDir,
    sigstore: LoopbackSigstore,
}

impl Setup {
    /// A keyless bundle for `a.bin` made by `attest sign` against the
    /// loopback Sigstore (so its entry is in the loopback Rekor), rewritten
    /// as a v0.1 bundle whose entry keeps its SET and loses its proof.
    fn new() -> Self {
        let sigstore = LoopbackSigstore::start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.bin"), b"promised artifact\n").unwrap();
        std::fs::write(d.join("root.json"), sigstore.trusted_root_json()).unwrap();
        std::fs::write(
            d.join("signing-config.json"),
            sigstore.signing_config_json(),
        )
        .unwrap();
        let mut claims = default_actions_claims();
        claims["iss"] = json!(sigstore.oidc_issuer());
        std::fs::write(d.join("claims.json"), claims.to_string()).unwrap();
        let digest = attest::artifact::digest_bytes(
            b"promised artifact\n",
            attest::artifact::DigestAlgorithm::Sha256,
        );
        let (code, _, err) = run(attest().current_dir(d).args([
            "provenance",
            "--claims",
            "claims.json",
            "--subject-name",
            "a.bin",
            "--subject-digest",
            &digest.to_string(),
            "-o",
            "statement.json",
        ]));
        assert_eq!(code, 0, "{err}");
        let token = sigstore.mint_token(&claims, "sigstore");
        let (code, _, err) = run(attest().current_dir(d).args([
            "sign",
            "statement.json",
            "-o",
            "bundle.json",
            "--identity-token",
            &token,
            "--signing-config",
            "signing-config.json",
            "--trusted-root",
            "root.json",
        ]));
        assert_eq!(code, 0, "{err}");
        let signed: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("bundle.json")).unwrap()).unwrap();
        let v01 = attest_testsign::promise_only(&attest_testsign::as_bundle_v01(&signed));
        std::fs::write(d.join("v01.json"), v01.to_string()).unwrap();
        Self { dir, sigstore }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `attest verify a.bin --bundle v01.json` with the loopback root, as
    /// JSON; online unless `offline`.
    fn verify(&self, root: &str, offline: bool, extra: &[&str]) -> (i32, Value, String) {
        let mut cmd = attest();
        if !offline {
            cmd.env_remove("ATTEST_OFFLINE");
        }
        let (code, out, err) = run(cmd
            .current_dir(self.path())
            .args([
                "verify",
                "a.bin",
                "--bundle",
                "v01.json",
                "--repo",
                "octo-org/octo-repo",
                "--cert-oidc-issuer",
                &self.sigstore.oidc_issuer(),
                "--custom-trusted-root",
                root,
                "--format",
                "json",
            ])
            .args(extra));
        let json = serde_json::from_str(&out).unwrap_or(Value::Null);
        (code, json, err)
    }
}

fn inclusion(v: &Value) -> &str {
    v[0]["verificationResult"]["inclusion"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn a_promise_is_accepted_offline_and_proven_online() {
    let s = Setup::new();
    // Offline: the SET is verified, and the output says it is a promise.
    let (code, v, err) = s.verify("root.json", true, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(inclusion(&v), "promised", "{v}");
    // ... which --require-inclusion-proof refuses, naming the check.
    let (code, _, err) = s.verify("root.json", true, &["--require-inclusion-proof"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("inclusion proof"), "{err}");

    // Online: the proof comes from the log, and verifies.
    let before = s.sigstore.requests().len();
    let (code, v, err) = s.verify("root.json", false, &["--require-inclusion-proof"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(inclusion(&v), "proven", "{v}");
    let asked: Vec<_> = s.sigstore.requests()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        asked,
        ["GET /rekor/api/v1/log/entries"],
        "one request, for the entry"
    );
    // The output repeats the bundle as it was read (no proof added).
    assert!(
        v[0]["attestation"]["bundle"]["verificationMaterial"]["tlogEntries"][0]
            .get("inclusionProof")
            .is_none()
    );
}

#[test]
fn a_log_that_answers_with_another_entry_is_not_trusted() {
    let s = Setup::new();
    let real = s.sigstore.rekor_url();
    // A "log" that returns the real entry with its body swapped for another.
    let fetch_real = |path: &str| -> Value {
        let body = http_get(&format!("{real}{path}"));
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let path = "/api/v1/log/entries?logIndex=".to_string();
    let index = {
        let v01: Value =
            serde_json::from_str(&std::fs::read_to_string(s.path().join("v01.json")).unwrap())
                .unwrap();
        v01["verificationMaterial"]["tlogEntries"][0]["logIndex"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut entry = fetch_real(&format!("{path}{index}"));
    let Some(obj) = entry.as_object_mut() else {
        panic!("the loopback Rekor answered {entry}");
    };
    for (_, e) in obj.iter_mut() {
        e["body"] = json!("eyJvdGhlciI6ImVudHJ5In0=");
    }
    let body = entry.to_string();
    let fake = MockServer::start(move |_| Response::json(body.clone()));
    let root = std::fs::read_to_string(s.path().join("root.json"))
        .unwrap()
        .replace(&real, &fake.base);
    std::fs::write(s.path().join("fake-root.json"), root).unwrap();

    let (code, v, err) = s.verify("fake-root.json", false, &[]);
    assert_eq!(code, 0, "the promise still stands: {err}");
    assert_eq!(inclusion(&v), "promised", "{v}");
    assert!(err.contains("not the bundle's canonicalized body"), "{err}");
    let (code, _, err) = s.verify("fake-root.json", false, &["--require-inclusion-proof"]);
    assert_eq!(code, 6, "{err}");
    assert!(!fake.requests().is_empty());
}

/// A plain HTTP/1.1 GET on loopback (the test has no HTTP client of its own).
fn http_get(url: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("a loopback http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    conn.read_to_end(&mut all).unwrap();
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header end");
    all[split + 4..].to_vec()
}
