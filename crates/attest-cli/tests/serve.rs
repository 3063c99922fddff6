//! `attest serve` against real components on loopback: Debian's registry
//! holding an image with a test-Sigstore attestation as an OCI referrer and
//! one without; AdmissionReviews shaped as the API server sends them; the
//! verification API; health, readiness and metrics; fail-closed and
//! fail-open; TLS with a test CA; graceful shutdown on SIGTERM.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;
#[path = "support/registry.rs"]
mod registry;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use attest::artifact::ArtifactDigest;
use attest::source::oci::{
    parse_oci_ref, push_bundle_referrer, push_image, ImageSpec, RegistryAuth,
};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use registry::Registry;
use serde_json::{json, Value};

struct Server {
    child: Child,
    addr: String,
    /// Everything the server wrote on stderr so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    start_env(args, &[])
}

fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
    // The registry is on loopback: the server is online (its trust roots
    // are a custom root file, so nothing else is asked for).
    let mut child = common::attest()
        .env_remove("ATTEST_OFFLINE")
        .envs(env.iter().copied())
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        log.lock().unwrap().push_str(&format!("{line}\n"));
        if let Some(rest) = line
            .split("://")
            .nth(1)
            .filter(|_| line.contains("listening on"))
        {
            break rest.trim().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    let drained = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            drained.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    Server { child, addr, log }
}

/// One HTTP/1.1 exchange over a fresh connection.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn wait_ready(addr: &str) {
    let start = Instant::now();
    while http(addr, "GET", "/readyz", b"").0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn review(kind: &str, images: &[&str]) -> Vec<u8> {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, img)| json!({"name": format!("c{i}"), "image": img}))
        .collect();
    let spec = json!({"containers": containers});
    let object = match kind {
        "Pod" => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "prod"}, "spec": spec})
        }
        _ => {
            json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "d", "namespace": "prod"}, "spec": {"replicas": 2, "template": {"metadata": {}, "spec": spec}}})
        }
    };
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816",
            "kind": {"group": if kind == "Pod" { "" } else { "apps" }, "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "prod",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": object,
            "oldObject": null,
            "dryRun": false,
        }
    }))
    .unwrap()
}

struct World {
    dir: tempfile::TempDir,
    _registry: Registry,
    host: String,
    good: String,
    bad: String,
    good_digest: ArtifactDigest,
    bundle: Value,
}

fn image(name: &str) -> ImageSpec {
    ImageSpec {
        platform: ("linux".into(), "amd64".into()),
        config:
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                .to_vec(),
        layers: vec![format!("serve test layer {name}").into_bytes()],
    }
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(false);
    let host = registry.host.clone();
    let anon = RegistryAuth::Anonymous;
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let good_ref = parse_oci_ref(&format!("oci://{host}/octo/app:1.0"))
        .unwrap()
        .unwrap();
    let good_digest = push_image(&good_ref, &[image("good")], &anon).unwrap();
    let st = statement(
        &[("octo/app", "sha256", &good_digest.hex())],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&claims),
    );
    let bundle = sigstore.sign_statement(&st, &claims, &sigstore.default_sign_options());
    push_bundle_referrer(
        &good_ref,
        &good_digest,
        &serde_json::to_vec(&bundle).unwrap(),
        &anon,
    )
    .unwrap();
    let bad_ref = parse_oci_ref(&format!("oci://{host}/octo/unsigned:1.0"))
        .unwrap()
        .unwrap();
    push_image(&bad_ref, &[image("bad")], &anon).unwrap();
    std::fs::write(
        dir.path().join("root.json"),
        sigstore.trusted_root_json() + "\n",
    )
    .unwrap();
    write_policy(dir.path(), "policy.toml", &host, "");
    World {
        good: format!("{host}/octo/app:1.0"),
        bad: format!("{host}/octo/unsigned:1.0"),
        host,
        good_digest,
        bundle,
        dir,
        _registry: registry,
    }
}

fn write_policy(dir: &Path, name: &str, host: &str, extra: &str) {
    std::fs::write(
        dir.join(name),
        format!(
            "version = 1\n{extra}\n[[rule]]\nname = \"octo images\"\nimages = [\"{host}/octo/*\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"octo-org/octo-repo\"\ncheck-provenance = false\n"
        ),
    )
    .unwrap();
}

impl World {
    fn serve(&self, policy: &str, extra: &[&str]) -> Server {
        let p = self.dir.path().join(policy).display().to_string();
        let root = self.dir.path().join("root.json").display().to_string();
        let mut args = vec![
            "--policy",
            &p,
            "--listen",
            "127.0.0.1:0",
            "--custom-trusted-root",
            &root,
        ];
        args.extend_from_slice(extra);
        let s = start(&args);
        wait_ready(&s.addr);
        s
    }
}

fn admit(addr: &str, body: &[u8]) -> Value {
    let (status, text) = http(addr, "POST", "/v1/admission", body);
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn admission_allows_what_the_policy_allows_and_names_what_it_denies() {
    let w = world();
    let s = w.serve("policy.toml", &[]);
    assert_eq!(http(&s.addr, "GET", "/healthz", b"").0, 200);

    // A Pod whose image (by tag) has a passing attestation.
    let v = admit(&s.addr, &review("Pod", &[&w.good]));
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "0df28fbd-5f5f-11e8-bc74-36e6bb280816");
    assert_eq!(v["response"]["allowed"], true, "{v}");
    // By digest too.
    let pinned = format!("{}/octo/app@{}", w.host, w.good_digest);
    assert_eq!(
        admit(&s.addr, &review("Pod", &[&pinned]))["response"]["allowed"],
        true
    );

    // A Deployment with one unsigned image: denied, naming the image and why.
    let v = admit(&s.addr, &review("Deployment", &[&w.good, &w.bad]));
    assert_eq!(v["response"]["allowed"], false, "{v}");
    assert_eq!(v["response"]["status"]["code"], 403);
    let msg = v["response"]["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("octo/unsigned:1.0") && msg.contains("no verified attestation"),
        "{msg}"
    );

    // An image no rule matches: denied by default.
    let other = format!("{}/elsewhere/app@{}", w.host, w.good_digest);
    let v = admit(&s.addr, &review("Pod", &[&other]));
    assert_eq!(v["response"]["allowed"], false);
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no rule"),
        "{v}"
    );

    // The verification API: the CLI's JSON for one subject.
    let body = serde_json::to_vec(&json!({"subject": format!("oci://{}", w.good)})).unwrap();
    let (status, text) = http(&s.addr, "POST", "/v1/verify", &body);
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["passed"], true, "{v}");
    assert!(v["policy"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(v["subjects"][0]["policyDigest"], v["policy"]["digest"]);
    assert_eq!(v["trustRoot"]["generation"], 1);
    // A digest with its bundle inline (the subject matches no image rule:
    // a bare digest is matched only by `all = true`).
    let body =
        serde_json::to_vec(&json!({"subject": w.good_digest.to_string(), "bundles": [w.bundle]}))
            .unwrap();
    let v: Value = serde_json::from_str(&http(&s.addr, "POST", "/v1/verify", &body).1).unwrap();
    assert_eq!(v["passed"], false);
    assert!(
        v["subjects"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no rule"),
        "{v}"
    );

    // Metrics: requests, verdicts (two admissions and one verification
    // denied), a cache hit (the good image twice).
    let (status, metrics) = http(&s.addr, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("attest_requests_total{endpoint=\"admission\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("attest_verdicts_total{result=\"denied\"} 3"),
        "{metrics}"
    );
    let hits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("attest_cache_hits_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(hits >= 1, "{metrics}");
    assert!(
        metrics.contains("attest_request_duration_seconds_count"),
        "{metrics}"
    );
}

#[test]
fn bad_requests_are_refused_and_what_cannot_be_decided_is_denied_unless_fail_open() {
    let w = world();
    let s = w.serve("policy.toml", &["--deadline", "5"]);
    // Malformed review, wrong method, unknown path, oversized body.
    let (status, body) = http(
        &s.addr,
        "POST",
        "/v1/admission",
        b"{\"apiVersion\":\"admission.k8s.io/v1\"}",
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(http(&s.addr, "GET", "/v1/admission", b"").0, 405);
    assert_eq!(http(&s.addr, "GET", "/nope", b"").0, 404);
    let huge = vec![b' '; 5 * 1024 * 1024];
    assert_eq!(http(&s.addr, "POST", "/v1/admission", &huge).0, 413);
    // A registry that is down: cannot verify, denied.
    let dead = "127.0.0.1:9/octo/app:1.0";
    let v = admit(&s.addr, &review("Pod", &[dead]));
    assert_eq!(v["response"]["allowed"], false, "{v}");
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("fail-closed"),
        "{v}"
    );
    drop(s);
    // The same with a policy that says fail-open: allowed, with a warning.
    write_policy(
        w.dir.path(),
        "open.toml",
        &w.host,
        "[admission]\nfail-open = true\n",
    );
    let s = w.serve("open.toml", &["--deadline", "5"]);
    let v = admit(&s.addr, &review("Pod", &[dead]));
    assert_eq!(v["response"]["allowed"], true, "{v}");
    assert!(
        v["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("fail-open"),
        "{v}"
    );
    // fail-open never allows what verified and failed.
    assert_eq!(
        admit(&s.addr, &review("Pod", &[&w.bad]))["response"]["allowed"],
        false
    );
}

#[test]
fn plain_http_only_on_loopback_tls_works_and_sigterm_finishes_cleanly() {
    let w = world();
    let p = w.dir.path().join("policy.toml").display().to_string();
    let (code, _, err) =
        common::run(common::attest().args(["serve", "--policy", &p, "--listen", "0.0.0.0:0"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("plain HTTP is only served on a loopback address"),
        "{err}"
    );

    // TLS with a test CA.
    let d = w.dir.path();
    let ok = |args: &[&str]| {
        let st = std::process::Command::new("openssl")
            .current_dir(d)
            .args(args)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl {args:?}");
    };
    ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=attest test CA",
    ]);
    ok(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(d.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    ok(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
    ]);
    let cert = d.join("srv.pem").display().to_string();
    let key = d.join("srv.key").display().to_string();
    let root = d.join("root.json").display().to_string();
    let mut s = start(&[
        "--policy",
        &p,
        "--listen",
        "127.0.0.1:0",
        "--custom-trusted-root",
        &root,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let curl = |extra: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(d.join("ca.pem"))
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let url = format!("https://{}", s.addr);
    let start = Instant::now();
    loop {
        let (ok, body) = curl(&[&format!("{url}/readyz")]);
        if ok && body.contains("ready") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "TLS server never ready: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let body = String::from_utf8(review("Pod", &[&w.good])).unwrap();
    let (ok, out) = curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body,
        &format!("{url}/v1/admission"),
    ]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["response"]["allowed"], true, "{v}");
    // Plain HTTP to the TLS port is not answered as HTTP.
    let mut plain = TcpStream::connect(&s.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));

    // SIGTERM: exits 0.
    let pid = s.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

/// A registry that answers after the deadline: the webhook still answers
/// within its deadline, denying and saying why; then a burst of 10,000
/// requests leaves it up and answering.
#[test]
fn a_slow_registry_is_denied_within_the_deadline_and_a_burst_is_absorbed() {
    let w = world();
    let slow = mock_http::MockServer::start(|_| {
        std::thread::sleep(Duration::from_secs(6));
        mock_http::Response::status(404, "too late")
    });
    let host = slow
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    write_policy(w.dir.path(), "slow.toml", &host, "");
    let s = w.serve("slow.toml", &["--deadline", "2"]);
    let started = Instant::now();
    let v = admit(&s.addr, &review("Pod", &[&format!("{host}/octo/app:1.0")]));
    let took = started.elapsed();
    assert_eq!(v["response"]["allowed"], false, "{v}");
    let msg = v["response"]["status"]["message"].as_str().unwrap();
    assert!(msg.contains("no verdict within the 2 s deadline"), "{msg}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    drop(s);

    let s = w.serve("policy.toml", &[]);
    let pinned = format!("{}/octo/app@{}", w.host, w.good_digest);
    let body = w.dir.path().join("burst.json");
    std::fs::write(&body, review("Pod", &[&pinned])).unwrap();
    let out = std::process::Command::new("ab")
        .args(["-q", "-n", "10000", "-c", "32", "-p"])
        .arg(&body)
        .args([
            "-T",
            "application/json",
            &format!("http://{}/v1/admission", s.addr),
        ])
        .output()
        .expect("ab (apache2-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Complete requests:      10000"), "{text}");
    assert!(text.contains("Failed requests:        0"), "{text}");
    assert!(!text.contains("Non-2xx"), "{text}");
    assert_eq!(http(&s.addr, "GET", "/healthz", b"").0, 200);
    let (_, metrics) = http(&s.addr, "GET", "/metrics", b"");
    assert!(
        metrics.contains("attest_requests_total{endpoint=\"admission\"} 10000"),
        "{metrics}"
    );
}

/// The load benchmark (not a test: run by `benches/serve-load.sh`, which
/// builds with `--release`): `ab` against /v1/admission at 1, 16 and 64
/// concurrent clients, warm (the verdict cached) and cold (no cache), and
/// the CLI's one-process verify of the same image for comparison. Prints
/// figures; asserts only that every request was answered.
#[test]
#[ignore = "a benchmark: benches/serve-load.sh"]
fn load_benchmark() {
    let w = world();
    let pinned = format!("{}/octo/app@{}", w.host, w.good_digest);
    let body = w.dir.path().join("review.json");
    std::fs::write(&body, review("Pod", &[&pinned])).unwrap();
    let ab = |addr: &str, n: usize, c: usize| -> (f64, f64, f64) {
        let out = std::process::Command::new("ab")
            .args(["-q", "-n", &n.to_string(), "-c", &c.to_string(), "-p"])
            .arg(&body)
            .args([
                "-T",
                "application/json",
                &format!("http://{addr}/v1/admission"),
            ])
            .output()
            .expect("ab (apache2-utils)");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let num = |prefix: &str| -> f64 {
            text.lines()
                .find_map(|l| l.trim_start().strip_prefix(prefix))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        };
        assert_eq!(num("Failed requests:"), 0.0, "{text}");
        assert!(num("Non-2xx responses:").is_nan(), "{text}");
        (num("Requests per second:"), num("50%"), num("99%"))
    };
    println!(
        "| cache | clients | requests | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|"
    );
    let mut cpu_per_request = Vec::new();
    for (label, extra) in [("warm", vec![]), ("cold", vec!["--cache-size", "0"])] {
        let s = w.serve("policy.toml", &extra);
        let v = admit(&s.addr, &review("Pod", &[&pinned]));
        assert_eq!(v["response"]["allowed"], true, "{v}");
        let (before, mut requests) = (cpu_seconds(s.child.id(), false), 0);
        for c in [1usize, 16, 64] {
            let n = if label == "warm" { 4000 } else { 400 };
            let (rps, p50, p99) = ab(&s.addr, n, c);
            requests += n;
            println!("| {label} | {c} | {n} | {rps:.0} | {p50} | {p99} |");
        }
        let cpu = cpu_seconds(s.child.id(), false) - before;
        cpu_per_request.push((label, cpu * 1000.0 / requests as f64));
    }
    for (label, ms) in cpu_per_request {
        println!("server CPU per request ({label} verdict cache): {ms:.3} ms");
    }
    // The CLI: one process per verification of the same image.
    let p = w.dir.path().join("policy.toml").display().to_string();
    let root = w.dir.path().join("root.json").display().to_string();
    let image = format!("oci://{pinned}");
    let runs = 20;
    let cpu_before = cpu_seconds(std::process::id(), true);
    let start = Instant::now();
    for _ in 0..runs {
        let (code, _, err) = common::run(common::attest().env_remove("ATTEST_OFFLINE").args([
            "verify",
            "--policy",
            &p,
            "--custom-trusted-root",
            &root,
            &image,
            "--bundle-from-oci",
        ]));
        assert_eq!(code, 0, "{err}");
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let cpu = (cpu_seconds(std::process::id(), true) - cpu_before) * 1000.0 / runs as f64;
    println!("CLI: attest verify --policy … --bundle-from-oci, one process per image: {per:.1} ms each, {cpu:.1} ms of CPU ({runs} runs)");
}

/// CPU seconds (user + system) of process `pid` from /proc, or of its
/// waited-for children when `children`; clock-tick resolution.
fn cpu_seconds(pid: u32, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest: Vec<&str> = stat[stat.rfind(')').expect("stat") + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of stat(5), cutime and cstime 16 and 17;
    // `rest` starts at field 3.
    let (u, s) = if children { (13, 14) } else { (11, 12) };
    let ticks: f64 = rest[u].parse::<f64>().unwrap() + rest[s].parse::<f64>().unwrap();
    let hz: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    ticks / hz
}

/// The value of a counter on `/metrics`.
fn metric(addr: &str, name: &str) -> u64 {
    let (_, text) = http(addr, "GET", "/metrics", b"");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A TUF repository of the operator's (python-tuf, loopback) that is down
/// when the server starts, comes up, and goes down again: before the roots
/// load, /readyz says why and nothing is admitted (fail-closed; TUF is never
/// read on a request); once they load, images are judged; when a later
/// refresh fails, the roots that verified keep serving, and the failure is
/// counted. SIGHUP refreshes at once.
#[test]
fn a_tuf_repository_down_at_start_and_later() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let w = world();
    let repos = w.dir.path().join("repos");
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/tuf/make_repos.py"))
        .arg(&repos)
        .arg(w.dir.path().join("root.json"))
        .status()
        .unwrap();
    assert!(status.success(), "make_repos.py: is python-tuf installed?");
    let up = Arc::new(AtomicBool::new(false));
    let (flag, happy) = (up.clone(), repos.join("happy"));
    let tuf = mock_http::MockServer::start(move |req| {
        if !flag.load(Ordering::SeqCst) {
            return mock_http::Response::status(503, "down for maintenance");
        }
        match std::fs::read(happy.join(req.path.trim_start_matches('/'))) {
            Ok(b) => mock_http::Response::json(b),
            Err(_) => mock_http::Response::status(404, "not found"),
        }
    });
    let policy = w.dir.path().join("policy.toml").display().to_string();
    let initial = repos.join("initial_root.json").display().to_string();
    let cache = w.dir.path().join("tuf-cache").display().to_string();
    let s = start(&[
        "--policy",
        &policy,
        "--listen",
        "127.0.0.1:0",
        "--tuf-url",
        &tuf.base,
        "--tuf-root",
        &initial,
        "--cache-dir",
        &cache,
    ]);
    let hup = |s: &Server| {
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &s.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    // Down at start: not ready, and why; an image is not admitted.
    let start_wait = Instant::now();
    while metric(&s.addr, "attest_tuf_errors_total") == 0 {
        assert!(
            start_wait.elapsed() < Duration::from_secs(30),
            "no TUF error counted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = http(&s.addr, "GET", "/readyz", b"");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("trust roots not loaded yet") && body.contains("503"),
        "{body}"
    );
    let v = admit(&s.addr, &review("Pod", &[&w.good]));
    assert_eq!(v["response"]["allowed"], false, "{v}");
    let msg = v["response"]["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("the trust roots are not loaded yet") && msg.contains("fail-closed"),
        "{v}"
    );
    // Up, and SIGHUP: loaded at once, and images are judged.
    up.store(true, Ordering::SeqCst);
    hup(&s);
    wait_ready(&s.addr);
    let v = admit(&s.addr, &review("Pod", &[&w.good]));
    assert_eq!(v["response"]["allowed"], true, "{v}");
    // Down again: the refresh fails and is counted; the verified roots keep
    // serving, still telling the signed image from the unsigned one.
    up.store(false, Ordering::SeqCst);
    let before = metric(&s.addr, "attest_tuf_errors_total");
    hup(&s);
    let wait = Instant::now();
    while metric(&s.addr, "attest_tuf_errors_total") == before {
        assert!(
            wait.elapsed() < Duration::from_secs(30),
            "the failed refresh was not counted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(http(&s.addr, "GET", "/readyz", b"").0, 200);
    assert_eq!(
        admit(&s.addr, &review("Deployment", &[&w.good]))["response"]["allowed"],
        true
    );
    assert_eq!(
        admit(&s.addr, &review("Pod", &[&w.bad]))["response"]["allowed"],
        false
    );
}

/// Registry credentials from a mounted Docker config reach the registry
/// (an authenticated one admits the signed image) and nothing else: not the
/// log (even with -v), not a denial's message, not /metrics, whether the
/// password is right or wrong.
#[test]
fn registry_credentials_are_used_and_never_logged() {
    use base64::Engine;
    let registry = Registry::start(true);
    let host = registry.host.clone();
    let auth = RegistryAuth::Basic(registry::USER.into(), registry::PASSWORD.into());
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let r = parse_oci_ref(&format!("oci://{host}/octo/app:1.0"))
        .unwrap()
        .unwrap();
    let digest = push_image(&r, &[image("private")], &auth).unwrap();
    let st = statement(
        &[("octo/app", "sha256", &digest.hex())],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&claims),
    );
    let bundle = sigstore.sign_statement(&st, &claims, &sigstore.default_sign_options());
    push_bundle_referrer(&r, &digest, &serde_json::to_vec(&bundle).unwrap(), &auth).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("root.json"),
        sigstore.trusted_root_json() + "\n",
    )
    .unwrap();
    write_policy(dir.path(), "policy.toml", &host, "");
    let secrets = |password: &str| {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{password}", registry::USER));
        let docker = dir.path().join(format!("docker-{password}"));
        std::fs::create_dir_all(&docker).unwrap();
        std::fs::write(
            docker.join("config.json"),
            json!({"auths": {host.clone(): {"auth": basic}}}).to_string(),
        )
        .unwrap();
        (docker, basic)
    };
    for (password, allowed) in [(registry::PASSWORD, true), ("wrong-password-1234", false)] {
        let (docker, basic) = secrets(password);
        let policy = dir.path().join("policy.toml").display().to_string();
        let root = dir.path().join("root.json").display().to_string();
        let s = start_env(
            &[
                "--policy",
                &policy,
                "--listen",
                "127.0.0.1:0",
                "--custom-trusted-root",
                &root,
                "-v",
            ],
            &[("DOCKER_CONFIG", docker.to_str().unwrap())],
        );
        wait_ready(&s.addr);
        let v = admit(&s.addr, &review("Pod", &[&format!("{host}/octo/app:1.0")]));
        assert_eq!(v["response"]["allowed"], allowed, "{password}: {v}");
        if !allowed {
            assert!(
                v.to_string().contains("registry authorization failed"),
                "{v}"
            );
        }
        let (_, metrics) = http(&s.addr, "GET", "/metrics", b"");
        std::thread::sleep(Duration::from_millis(200));
        let log = s.log.lock().unwrap().clone();
        assert!(
            log.contains("POST /v1/admission"),
            "-v logs requests: {log}"
        );
        for secret in [password, basic.as_str()] {
            for (what, text) in [
                ("log", &log),
                ("response", &v.to_string()),
                ("metrics", &metrics),
            ] {
                assert!(
                    !text.contains(secret),
                    "the {what} shows a credential: {text}"
                );
            }
        }
    }
}

/// `POST /v1/verify` of a PyPI release: every file the index lists, each
/// with its PEP 740 provenance (real: sampleproject 4.0.0 from PyPI), judged
/// by the same policy file as `verify --policy`.
#[test]
fn a_pypi_release_is_verified_through_the_index() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/data/pep740");
    let sdist = std::fs::read(data.join("sampleproject-4.0.0.tar.gz")).unwrap();
    let provenance = std::fs::read(data.join("sampleproject-4.0.0.tar.gz.provenance")).unwrap();
    let sdist3 = std::fs::read(data.join("sampleproject-3.0.0.tar.gz")).unwrap();
    let hex = |b: &[u8]| {
        attest::artifact::digest_bytes(b, attest::artifact::DigestAlgorithm::Sha256).hex()
    };
    let simple = json!({"meta": {"api-version": "1.3"}, "files": [
        {"filename": "sampleproject-4.0.0.tar.gz", "url": "x", "hashes": {"sha256": hex(&sdist)}, "provenance": "x"},
        {"filename": "sampleproject-3.0.0.tar.gz", "url": "x", "hashes": {"sha256": hex(&sdist3)}, "provenance": null}
    ]})
    .to_string();
    let index = mock_http::MockServer::start(move |req| match req.path.as_str() {
        "/simple/sampleproject/" => mock_http::Response::json(simple.clone()),
        "/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance" => {
            mock_http::Response::json(provenance.clone())
        }
        _ => mock_http::Response::status(404, "Not Found"),
    });
    let dir = tempfile::tempdir().unwrap();
    let policy = |repo: &str| {
        let p = dir.path().join(format!("{}.toml", repo.replace('/', "-")));
        std::fs::write(
            &p,
            format!("version = 1\n[[rule]]\npypi = [\"sampleproject\"]\n[[rule.require]]\npredicate-type = \"https://docs.pypi.org/attestations/publish/v1\"\nrepo = \"{repo}\"\n"),
        )
        .unwrap();
        p.display().to_string()
    };
    let root = data
        .join("trusted_root.public-good.json")
        .display()
        .to_string();
    let verify = |policy: &str, subject: &str| {
        let s = start(&[
            "--policy",
            policy,
            "--listen",
            "127.0.0.1:0",
            "--custom-trusted-root",
            &root,
            "--index-url",
            &index.base,
        ]);
        wait_ready(&s.addr);
        let (status, body) = http(
            &s.addr,
            "POST",
            "/v1/verify",
            json!({"subject": subject}).to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let good = policy("pypa/sampleproject");
    let v = verify(&good, "pypi:SampleProject==4.0");
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(
        v["subjects"][0]["subject"], "sampleproject-4.0.0.tar.gz",
        "{v}"
    );
    // Another publisher: denied, by the rule's requirement.
    let v = verify(&policy("pypa/other"), "pypi:sampleproject==4.0.0");
    assert_eq!(v["passed"], false, "{v}");
    // A release without provenance fails the rule that requires it.
    let v = verify(&good, "pypi:sampleproject==3.0.0");
    assert_eq!(v["passed"], false, "{v}");
    assert!(
        v["subjects"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("0 of 1"),
        "{v}"
    );
    // A release the index does not list: undecided, said why.
    let v = verify(&good, "pypi:sampleproject==9.9.9");
    assert_eq!(v["passed"], false, "{v}");
    assert!(
        v["subjects"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("lists no file of sampleproject 9.9.9"),
        "{v}"
    );
}
