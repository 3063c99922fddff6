//! Benchmark (ignored; `benches/image-evidence.sh` runs it in release mode):
//! one image in Debian's registry on loopback with the three pieces of
//! evidence a release like OpenMed's ships — a cosign signature (`.sig`),
//! a CycloneDX SBOM attestation (`.att`) and SLSA provenance (an OCI
//! referrer) — verified in one `attest verify --policy` run from the
//! registry, against the same verification from files (`--bundle`, the path
//! gh's data takes, and `verify-signature --bundle`), offline. Prints the
//! median wall time of each and the registry requests per run.

mod common;
#[path = "support/cosign_push.rs"]
mod cosign_push;
#[path = "support/registry.rs"]
mod registry;

use std::time::{Duration, Instant};

use attest::source::oci::{
    parse_oci_ref, push_bundle_referrer, push_image, ImageSpec, RegistryAuth,
};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use registry::Registry;
use serde_json::json;

const RUNS: usize = 20;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
#[ignore = "benchmark: run by benches/image-evidence.sh"]
fn image_evidence_benchmark() {
    let registry = Registry::start(false);
    let host = registry.host.clone();
    let tmp = tempfile::tempdir().unwrap();
    let anon = RegistryAuth::Anonymous;
    let r = parse_oci_ref(&format!("oci://{host}/octo/app:1.0"))
        .unwrap()
        .unwrap();
    let spec = ImageSpec {
        platform: ("linux".into(), "amd64".into()),
        config:
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                .to_vec(),
        layers: vec![vec![7u8; 4096]],
    };
    let image = push_image(&r, &[spec], &anon).unwrap();
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let hex = image.hex();
    let subject = [("octo/app", "sha256", hex.as_str())];
    // 1. SLSA provenance, an OCI referrer.
    let provenance = sigstore.sign_statement(
        &statement(&subject, SLSA_PROVENANCE_V1, provenance_predicate(&claims)),
        &claims,
        &SignOptions::tlog_only(),
    );
    push_bundle_referrer(&r, &image, &serde_json::to_vec(&provenance).unwrap(), &anon).unwrap();
    // 2. A CycloneDX SBOM under cosign's .att tag.
    let cyclonedx = "https://cyclonedx.org/bom";
    let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": (0..200).map(|i| json!({"type": "library", "name": format!("dep{i}"), "version": "1.0"})).collect::<Vec<_>>()});
    let sbom_bundle = sigstore.sign_statement(
        &statement(&subject, cyclonedx, sbom),
        &claims,
        &SignOptions::tlog_only(),
    );
    let mut att = serde_json::to_value(attest_testsign::cosign_annotations(&sbom_bundle)).unwrap();
    att["predicateType"] = cyclonedx.into();
    cosign_push::push_tag(
        &host,
        "octo/app",
        &format!("{}.att", image.to_string().replace(':', "-")),
        "application/vnd.dsse.envelope.v1+json",
        &[(
            serde_json::to_vec(&sbom_bundle["dsseEnvelope"]).unwrap(),
            att,
        )],
        tmp.path(),
    );
    // 3. A cosign signature under the .sig tag.
    let payload = format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{host}/octo/app\"}},\"image\":{{\"docker-manifest-digest\":\"{image}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
    );
    let sig = sigstore.sign_blob(payload.as_bytes(), &claims, &SignOptions::tlog_only());
    cosign_push::push_sig(
        &host,
        "octo/app",
        &image.to_string(),
        &[(
            payload.into_bytes(),
            serde_json::to_value(attest_testsign::cosign_annotations(&sig)).unwrap(),
        )],
        tmp.path(),
    );
    let root = tmp.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();
    let policy = tmp.path().join("attest.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 1\n[[rule]]\nimages = [\"{host}/octo/*\"]\n\
             [[rule.require]]\nsignature = true\nrepo = \"octo-org/octo-repo\"\n\
             [[rule.require]]\npredicate-type = \"cyclonedx\"\nrepo = \"octo-org/octo-repo\"\n\
             [[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"octo-org/octo-repo\"\ncheck-provenance = false\n"
        ),
    )
    .unwrap();
    let target = format!("oci://{host}/octo/app@{image}");

    // The files of the same evidence, as `attest download` saves them.
    let (code, out, err) = common::run(
        common::attest()
            .current_dir(tmp.path())
            .env_remove("ATTEST_OFFLINE")
            .args(["download", &target, "--source", "registry"]),
    );
    assert_eq!(code, 0, "{out}{err}");
    let bundles = tmp.path().join(format!("{image}.jsonl"));
    let sigs = tmp.path().join(format!("{image}.sig.jsonl"));

    let time = |f: &dyn Fn() -> (i32, String, String)| -> Duration {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let (code, out, err) = f();
            times.push(start.elapsed());
            assert_eq!(code, 0, "{out}{err}");
        }
        median(times)
    };
    let from_registry = || {
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .args(["verify", "--policy"])
                .arg(&policy)
                .args([
                    target.as_str(),
                    "--source",
                    "registry",
                    "--custom-trusted-root",
                ])
                .arg(&root),
        )
    };
    // Settle the log, then count one run's requests.
    std::thread::sleep(Duration::from_millis(300));
    let before = registry.requests();
    assert_eq!(from_registry().0, 0);
    std::thread::sleep(Duration::from_millis(300));
    let requests = registry.requests() - before;
    let registry_time = time(&from_registry);
    let file_attestations = || {
        let mut failed = (0, String::new(), String::new());
        for pt in [SLSA_PROVENANCE_V1, cyclonedx] {
            let r = common::run(
                common::attest()
                    .args([
                        "verify",
                        target.as_str(),
                        "--offline",
                        "--repo",
                        "octo-org/octo-repo",
                        "--predicate-type",
                        pt,
                        "--bundle",
                    ])
                    .arg(&bundles)
                    .arg("--custom-trusted-root")
                    .arg(&root),
            );
            if r.0 != 0 {
                failed = r;
            }
        }
        let r = common::run(
            common::attest()
                .args([
                    "verify-signature",
                    target.as_str(),
                    "--offline",
                    "--repo",
                    "octo-org/octo-repo",
                    "--bundle",
                ])
                .arg(&sigs)
                .arg("--custom-trusted-root")
                .arg(&root),
        );
        if r.0 != 0 {
            failed = r;
        }
        failed
    };
    let files_time = time(&file_attestations);
    println!("image with signature + SBOM + provenance, {RUNS} runs each, medians:");
    println!(
        "  from the registry, one `verify --policy` run: {:7.1} ms, {requests} registry requests",
        registry_time.as_secs_f64() * 1000.0
    );
    println!(
        "  from files (--bundle, offline), three runs:   {:7.1} ms, 0 registry requests",
        files_time.as_secs_f64() * 1000.0
    );
    println!(
        "  registry / files = {:.2}",
        registry_time.as_secs_f64() / files_time.as_secs_f64()
    );
}
