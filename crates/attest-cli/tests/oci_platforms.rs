//! Multi-arch images: the index digest is what is attested; `--platform`
//! and `--all-platforms` add each selected platform manifest as an artifact
//! of its own, verified with its own evidence. A real registry (Debian's
//! `docker-registry`) holds the index; a hostile loopback registry serves
//! another manifest than the digest it resolved (a moved tag, or a lie).

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;
#[path = "support/registry.rs"]
mod registry;

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::source::oci::{
    parse_oci_ref, platform_manifests, push_bundle_referrer, push_image, RegistryAuth,
};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use mock_http::{MockServer, Response};
use registry::{image, Registry};

fn verify(root: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    common::run(
        common::attest()
            .env_remove("ATTEST_OFFLINE")
            .arg("verify")
            .args(args)
            .args(["--repo", "octo-org/octo-repo", "--custom-trusted-root"])
            .arg(root),
    )
}

#[test]
fn platforms_of_an_index_are_verified_with_their_own_evidence() {
    let registry = Registry::start(false);
    let tmp = tempfile::tempdir().unwrap();
    let tagged = format!("oci://{}/octo/multi:1.0", registry.host);
    let r = parse_oci_ref(&tagged).unwrap().unwrap();
    let anon = RegistryAuth::Anonymous;
    let index = push_image(&r, &[image("amd64"), image("arm64")], &anon).unwrap();
    let platforms = platform_manifests(&r, &index, &anon).unwrap();
    let names: Vec<String> = platforms.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"]);
    let (amd64, arm64) = (&platforms[0].digest, &platforms[1].digest);

    // Provenance for the index (what OpenMed attests) and, separately, for
    // the amd64 manifest; none for arm64.
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let sign = |sigstore: &mut TestSigstore, digests: &[&ArtifactDigest]| {
        let hexes: Vec<String> = digests.iter().map(|d| d.hex()).collect();
        let subjects: Vec<(&str, &str, &str)> = hexes
            .iter()
            .map(|h| ("octo/multi", "sha256", h.as_str()))
            .collect();
        let st = statement(&subjects, SLSA_PROVENANCE_V1, provenance_predicate(&claims));
        serde_json::to_vec(&sigstore.sign_statement(&st, &claims, &SignOptions::tlog_only()))
            .unwrap()
    };
    let for_index = sign(&mut sigstore, &[&index]);
    push_bundle_referrer(&r, &index, &for_index, &anon).unwrap();
    push_bundle_referrer(&r, amd64, &sign(&mut sigstore, &[amd64]), &anon).unwrap();
    let root = tmp.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();

    // The index alone, by tag: resolved, printed, verified.
    let (code, out, err) = verify(&root, &[&tagged, "--source", "registry"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(&index.to_string()), "{err}");
    // With its amd64 manifest: two artifacts, both verified.
    let (code, out, err) = verify(
        &root,
        &[&tagged, "--source", "registry", "--platform", "linux/amd64"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("@{amd64} (linux/amd64)")), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK ")).count(),
        2,
        "{out}"
    );
    // arm64 has no evidence of its own: that artifact fails, and the run.
    for flags in [&["--platform", "linux/arm64"][..], &["--all-platforms"]] {
        let mut args = vec![tagged.as_str(), "--source", "registry"];
        args.extend_from_slice(flags);
        let (code, out, err) = verify(&root, &args);
        assert_eq!(code, 5, "{flags:?}: {out}{err}");
        assert!(out.contains(&format!("@{arm64} (linux/arm64)")), "{out}");
    }
    // A bundle file that covers the index and both platforms: all pass.
    let all = tmp.path().join("all.json");
    std::fs::write(&all, sign(&mut sigstore, &[&index, amd64, arm64])).unwrap();
    let pinned = format!("oci://{}/octo/multi@{index}", registry.host);
    let (code, out, err) = verify(
        &root,
        &[
            &pinned,
            "--bundle",
            all.to_str().unwrap(),
            "--all-platforms",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK ")).count(),
        3,
        "{out}"
    );
    // A platform the index lacks is named with what it has.
    let (code, _, err) = verify(&root, &[&tagged, "--platform", "linux/s390x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the index has no linux/s390x manifest; it has linux/amd64, linux/arm64"),
        "{err}"
    );
    // --platform on a single-platform image, or on a file, is refused.
    let single = format!("oci://{}/octo/single:1.0", registry.host);
    push_image(
        &parse_oci_ref(&single).unwrap().unwrap(),
        &[image("amd64")],
        &anon,
    )
    .unwrap();
    let (code, _, err) = verify(&root, &[&single, "--platform", "linux/amd64"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a single-platform image"), "{err}");
    let (code, _, err) = verify(
        &root,
        &[
            "Cargo.toml",
            "--bundle",
            all.to_str().unwrap(),
            "--all-platforms",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not Cargo.toml"), "{err}");
}

/// A registry that resolves the tag to one digest and then serves another
/// manifest for that digest (a tag that moved between the two requests, or
/// a registry that lies): the index is refused by name, nothing verified.
#[test]
fn an_index_that_is_not_the_resolved_digest_is_refused() {
    let first = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec();
    let resolved = digest_bytes(&first, DigestAlgorithm::Sha256);
    let moved = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"{resolved}","platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#
    );
    let header = resolved.to_string();
    let server = MockServer::start(move |req| {
        if req.path == "/v2/" {
            return Response::status(200, "{}");
        }
        if req.method == "HEAD" {
            return Response::status(200, "")
                .header("Docker-Content-Digest", &header)
                .header("Content-Type", "application/vnd.oci.image.index.v1+json");
        }
        // Every GET of the manifest: other bytes, which list the resolved
        // digest (as an index listing itself would).
        Response::json(moved.clone())
            .header("Content-Type", "application/vnd.oci.image.index.v1+json")
    });
    let host = server.base.trim_start_matches("http://");
    let tagged = format!("oci://{host}/octo/app:1.0");
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("b.json");
    std::fs::write(&bundle, "{}").unwrap();
    let (code, out, err) = common::run(
        common::attest()
            .env_remove("ATTEST_OFFLINE")
            .args([
                "verify",
                &tagged,
                "--all-platforms",
                "--repo",
                "octo-org/octo-repo",
                "--bundle",
            ])
            .arg(&bundle),
    );
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("a manifest whose digest is sha256:")
            && err.contains(&format!(
                "for {resolved}; the tag moved or the registry is not serving what it resolved"
            )),
        "{err}"
    );
    assert!(!out.contains("OK "), "{out}");
}
