//! Every verdict-changing flag of `attest verify`, in every mode.
//!
//! The flag list comes from clap's own definition (`attest verify --help`),
//! so a new flag that is not classified here fails the test. Each verdict
//! flag has a case that must turn the baseline's pass into a failure (or a
//! usage error where the flag cannot apply to the mode), run in each mode:
//! one file, a digest, several files, a manifest with `--dir` and with
//! `--digests-only`, pinned `oci://` images with `--bundle` (one and
//! several), GitHub's API on loopback, and `--bundle-from-oci` against a
//! real registry. A flag that one mode silently ignored (as `--key` was with
//! several files) leaves that mode passing, and this test names it.

mod common;
#[path = "support/cosign_push.rs"]
mod cosign_push;
#[path = "support/mock_http.rs"]
mod mock_http;
#[path = "support/registry.rs"]
mod registry;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::source::oci::{
    parse_oci_ref, push_bundle_referrer, push_image, ImageSpec, RegistryAuth,
};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, ServiceUrls, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use common::run;
use mock_http::{MockServer, Response};
use registry::Registry;

/// Flags that select the mode, the source or the output, not the verdict;
/// each with why. Every other flag must have a row in [`verdict_rows`].
const NOT_VERDICT: &[(&str, &str)] = &[
    ("bundle", "selects the source (a mode of this matrix)"),
    (
        "bundle-from-oci",
        "selects the source (a mode of this matrix)",
    ),
    ("manifest", "selects the subjects (a mode of this matrix)"),
    (
        "dir",
        "where the manifest's files are (a mode of this matrix)",
    ),
    (
        "digests-only",
        "manifest without files (a mode of this matrix)",
    ),
    ("source", "selects the source (modes of this matrix)"),
    (
        "provenance-file",
        "selects the source: PEP 740 (modes of this matrix)",
    ),
    (
        "index-url",
        "where the package index is (the PyPI modes of this matrix)",
    ),
    ("limit", "bounds how many attestations are fetched online"),
    ("cache-dir", "where the TUF cache lives"),
    (
        "format",
        "output (every mode: output_flags_keep_the_verdict_in_every_mode)",
    ),
    (
        "quiet",
        "output: less on stderr (output_flags_keep_the_verdict_in_every_mode)",
    ),
    (
        "verbose",
        "output: more on stderr (output_flags_keep_the_verdict_in_every_mode)",
    ),
    ("jq", "output"),
    ("template", "output (refused: not supported)"),
    ("help", "help"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any exit code but 0 and 2: the evidence was judged and refused.
    Fail,
    /// Exit 2: the flag cannot apply to this mode and is refused up front.
    Refused,
    /// Exit 0: the flag does not change this mode's verdict (said explicitly).
    Pass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    File,
    Digest,
    Files,
    ManifestDir,
    ManifestDigestsOnly,
    ImagePinned,
    ImagesPinned,
    GitHubApi,
    BundleFromOci,
    /// `--source referrers`: OCI 1.1 referrers only.
    SourceReferrers,
    /// `--source cosign`: cosign's `.att` tag only.
    SourceCosign,
    /// A wheel with `--provenance-file` (PEP 740).
    Pep740File,
    /// A wheel and an sdist with one provenance file.
    Pep740Files,
    /// `pypi:openmed==1.0` from a loopback package index.
    PypiRelease,
    /// A wheel `--from pypi` (the Integrity API by file name).
    PypiFile,
}

const MODES: &[Mode] = &[
    Mode::File,
    Mode::Digest,
    Mode::Files,
    Mode::ManifestDir,
    Mode::ManifestDigestsOnly,
    Mode::ImagePinned,
    Mode::ImagesPinned,
    Mode::GitHubApi,
    Mode::BundleFromOci,
    Mode::SourceReferrers,
    Mode::SourceCosign,
    Mode::Pep740File,
    Mode::Pep740Files,
    Mode::PypiRelease,
    Mode::PypiFile,
];

impl Mode {
    fn online(self) -> bool {
        matches!(
            self,
            Mode::GitHubApi
                | Mode::BundleFromOci
                | Mode::SourceReferrers
                | Mode::SourceCosign
                | Mode::PypiRelease
                | Mode::PypiFile
        )
    }
    /// Subjects that name their own digest (a `-d` for them is refused).
    fn digests_given(self) -> bool {
        !matches!(
            self,
            Mode::File
                | Mode::Files
                | Mode::GitHubApi
                | Mode::Pep740File
                | Mode::Pep740Files
                | Mode::PypiFile
        )
    }
    /// PEP 740 modes: one attestation per file, always with proofs.
    fn pep740(self) -> bool {
        matches!(
            self,
            Mode::Pep740File | Mode::Pep740Files | Mode::PypiRelease | Mode::PypiFile
        )
    }
}

/// One row: a flag, the policy arguments that replace the baseline's, and
/// what each mode must do.
struct Row {
    flag: &'static str,
    policy: Vec<String>,
    expect: fn(Mode) -> Expect,
    /// Which set of [`World::sets`] the row runs on (0 unless the flag is
    /// about what only the second set has).
    set: usize,
}

/// Two files, their manifest, two images and one bundle over all four.
struct Set {
    /// `dist/NAME` of the two files.
    files: [String; 2],
    /// The manifest of the two files.
    sums: String,
    /// The first file's digest.
    first: ArtifactDigest,
    /// The two images, pinned by digest.
    images: Vec<String>,
    /// The bundle.
    bundle: PathBuf,
    /// Every digest the bundle covers (the GitHub API serves it for them).
    digests: Vec<String>,
}

struct World {
    dir: tempfile::TempDir,
    root: PathBuf,
    other_root: PathBuf,
    key: PathBuf,
    /// The main set (a v0.3 bundle with inclusion proofs), and a set whose
    /// bundle is v0.1 with only a promise (SET) for its log entry.
    sets: [Set; 2],
    registry: Registry,
    api: MockServer,
    _dead_log: MockServer,
    /// A wheel and an sdist of openmed 1.0 with PEP 740 attestations (one
    /// per file, SLSA provenance from the same signer), their provenance
    /// object, and a package index serving them.
    wheel: String,
    sdist: String,
    provenance: String,
    index: MockServer,
}

fn image(arch: &str) -> ImageSpec {
    ImageSpec {
        platform: ("linux".into(), arch.into()),
        config: format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        )
        .into_bytes(),
        layers: vec![format!("flag matrix layer for {arch}").into_bytes()],
    }
}

/// Two sets of two files and two images in a real registry, each with one
/// bundle from the test Sigstore over all four (a self-hosted runner, so that
/// `--deny-self-hosted-runners` has something to refuse), also served as a
/// referrer of each image and by a loopback GitHub API. The second set's
/// bundle is v0.1 with only a promise of log inclusion; its log (a loopback
/// server that knows no entry) cannot turn it into a proof.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("dist")).unwrap();
    let registry = Registry::start(false);
    let dead_log = MockServer::start(|_| Response::status(404, "no such entry"));
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    sigstore.set_service_urls(ServiceUrls {
        rekor: format!("{}/rekor", dead_log.base),
        ..ServiceUrls::default()
    });
    let claims = FulcioClaims {
        runner_environment: "self-hosted".into(),
        ..FulcioClaims::default()
    };
    let anon = RegistryAuth::Anonymous;
    let mut sets = Vec::new();
    for (n, promise_only) in [(0, false), (1, true)] {
        let names = [format!("a{n}.bin"), format!("b{n}.bin")];
        let mut digests = Vec::new();
        let mut subjects: Vec<(String, String)> = Vec::new();
        for name in &names {
            let content = format!("artifact {name}\n");
            std::fs::write(d.join("dist").join(name), &content).unwrap();
            let digest = digest_bytes(content.as_bytes(), DigestAlgorithm::Sha256);
            subjects.push((name.clone(), digest.hex()));
            digests.push(digest);
        }
        let sums = d.join(format!("SHA256SUMS-{n}"));
        std::fs::write(
            &sums,
            format!(
                "{}  {}\n{}  {}\n",
                digests[0].hex(),
                names[0],
                digests[1].hex(),
                names[1]
            ),
        )
        .unwrap();
        let mut images = Vec::new();
        let mut pushed = Vec::new();
        for (name, arch) in [("app", "amd64"), ("tool", "arm64")] {
            let tagged = format!("oci://{}/octo/{name}{n}:1.0", registry.host);
            let r = parse_oci_ref(&tagged).unwrap().unwrap();
            let digest = push_image(&r, &[image(&format!("{arch}-{n}"))], &anon).unwrap();
            images.push(format!("oci://{}/octo/{name}{n}@{digest}", registry.host));
            subjects.push((r.repository().to_string(), digest.hex()));
            digests.push(digest.clone());
            pushed.push((r, digest));
        }
        let subject_refs: Vec<(&str, &str, &str)> = subjects
            .iter()
            .map(|(n, h)| (n.as_str(), "sha256", h.as_str()))
            .collect();
        let st = statement(
            &subject_refs,
            SLSA_PROVENANCE_V1,
            provenance_predicate(&claims),
        );
        let opts = sigstore.default_sign_options();
        let mut bundle = sigstore.sign_statement(&st, &claims, &opts);
        // cosign's .att tag holds the same attestation as its annotations
        // (a signed entry timestamp, never an inclusion proof).
        let mut att = serde_json::to_value(attest_testsign::cosign_annotations(&bundle)).unwrap();
        att["predicateType"] = SLSA_PROVENANCE_V1.into();
        let envelope = serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap();
        if promise_only {
            bundle = attest_testsign::promise_only(&attest_testsign::as_bundle_v01(&bundle));
        }
        let bundle_json = serde_json::to_vec(&bundle).unwrap();
        for (r, digest) in &pushed {
            push_bundle_referrer(r, digest, &bundle_json, &anon).unwrap();
            cosign_push::push_tag(
                &registry.host,
                r.repository(),
                &format!("{}.att", digest.to_string().replace(':', "-")),
                "application/vnd.dsse.envelope.v1+json",
                &[(envelope.clone(), att.clone())],
                d,
            );
        }
        let bundle_path = d.join(format!("bundle-{n}.json"));
        std::fs::write(&bundle_path, &bundle_json).unwrap();
        sets.push(Set {
            files: names.map(|n| d.join("dist").join(n).display().to_string()),
            sums: sums.display().to_string(),
            first: digests[0].clone(),
            images,
            bundle: bundle_path,
            digests: digests.iter().map(|d| d.to_string()).collect(),
        });
    }
    let sets: [Set; 2] = sets.try_into().ok().unwrap();

    let root = d.join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();
    let other = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let other_root = d.join("other-root.json");
    std::fs::write(&other_root, other.trusted_root_json() + "\n").unwrap();

    let (_, key) = common::openssl_p256_key_pair(d, "key");

    // The API serves each set's bundle for the digests it covers.
    let served: Vec<(Vec<String>, serde_json::Value)> = sets
        .iter()
        .map(|set| {
            (
                set.digests.clone(),
                serde_json::from_slice(&std::fs::read(&set.bundle).unwrap()).unwrap(),
            )
        })
        .collect();
    let api = MockServer::start(move |req| {
        let bundles: Vec<_> = served
            .iter()
            .filter(|(digests, _)| digests.iter().any(|d| req.path.contains(d.as_str())))
            .map(|(_, b)| serde_json::json!({ "bundle": b }))
            .collect();
        if bundles.is_empty() {
            return Response::status(404, "Not Found");
        }
        Response::json(serde_json::json!({ "attestations": bundles }).to_string())
    });
    // PEP 740: each file's attestation names it alone.
    let mut pep740_atts = Vec::new();
    let mut listed = Vec::new();
    for name in ["openmed-1.0-py3-none-any.whl", "openmed-1.0.tar.gz"] {
        let content = format!("distribution {name}\n");
        std::fs::write(d.join("dist").join(name), &content).unwrap();
        let hex = digest_bytes(content.as_bytes(), DigestAlgorithm::Sha256).hex();
        let st = statement(
            &[(name, "sha256", &hex)],
            SLSA_PROVENANCE_V1,
            provenance_predicate(&claims),
        );
        let b = sigstore.sign_statement(&st, &claims, &sigstore.default_sign_options());
        pep740_atts.push(attest::pep740::attestation_from_bundle(&b).unwrap());
        listed.push((name.to_string(), hex));
    }
    let provenance_of = |atts: Vec<serde_json::Value>| {
        serde_json::json!({"version": 1, "attestation_bundles": [{
            "publisher": {"kind": "GitHub", "repository": "octo-org/octo-repo", "workflow": "release.yml", "environment": null},
            "attestations": atts}]})
    };
    let provenance = d.join("openmed.provenance");
    std::fs::write(&provenance, provenance_of(pep740_atts.clone()).to_string()).unwrap();
    let per_file: Vec<(String, String, String)> = listed
        .iter()
        .zip(&pep740_atts)
        .map(|((n, h), a)| {
            (
                n.clone(),
                h.clone(),
                provenance_of(vec![a.clone()]).to_string(),
            )
        })
        .collect();
    let index = MockServer::start(move |req| {
        if req.path == "/simple/openmed/" {
            let files: Vec<_> = per_file
                .iter()
                .map(|(n, h, _)| serde_json::json!({"filename": n, "url": "x", "hashes": {"sha256": h}, "provenance": "x"}))
                .collect();
            return Response::json(
                serde_json::json!({"meta": {"api-version": "1.3"}, "files": files}).to_string(),
            );
        }
        per_file
            .iter()
            .find(|(n, _, _)| req.path == format!("/integrity/openmed/1.0/{n}/provenance"))
            .map_or_else(
                || Response::status(404, "Not Found"),
                |(_, _, p)| Response::json(p.clone()),
            )
    });

    let wheel = d
        .join("dist/openmed-1.0-py3-none-any.whl")
        .display()
        .to_string();
    let sdist = d.join("dist/openmed-1.0.tar.gz").display().to_string();
    World {
        dir,
        root,
        other_root,
        key,
        sets,
        registry,
        api,
        _dead_log: dead_log,
        wheel,
        sdist,
        provenance: provenance.display().to_string(),
        index,
    }
}

impl World {
    fn path(&self, p: &str) -> String {
        self.dir.path().join(p).display().to_string()
    }

    fn root(&self) -> String {
        self.root.display().to_string()
    }

    /// A policy file (`all = true`) requiring SLSA provenance from `repo`.
    fn policy_file(&self, name: &str, repo: &str) -> String {
        let path = self.path(&format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "version = 1\n[[rule]]\nall = true\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"{repo}\"\ncheck-provenance = false\n"
            ),
        )
        .unwrap();
        path
    }

    /// A lock naming another signer for every image and package.
    fn drift_lock(&self) -> String {
        let path = self.path("drift.lock");
        let mut text = String::from("version = 1\n");
        for set in &self.sets {
            for image in &set.images {
                let r = parse_oci_ref(image).unwrap().unwrap();
                text.push_str(&format!(
                    "[[identity.\"image:{}/{}\"]]\nissuer = \"https://token.actions.githubusercontent.com\"\nsigner = \"https://github.com/other-org/x/.github/workflows/r.yml\"\n",
                    r.registry(),
                    r.repository()
                ));
            }
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The baseline policy: the repository and the test Sigstore's root.
    fn baseline(&self) -> Vec<String> {
        strings(&[
            "--repo",
            "octo-org/octo-repo",
            "--custom-trusted-root",
            &self.root(),
        ])
    }

    /// The subjects and the source of a mode, for one set.
    fn mode_args(&self, mode: Mode, set: &Set) -> Vec<String> {
        let bundle = set.bundle.display().to_string();
        let dist = self.path("dist");
        let [a, b] = &set.files;
        match mode {
            Mode::File => strings(&[a, "--bundle", &bundle]),
            Mode::Digest => strings(&[&set.first.to_string(), "--bundle", &bundle]),
            Mode::Files => strings(&[a, b, "--bundle", &bundle]),
            Mode::ManifestDir => {
                strings(&["--manifest", &set.sums, "--dir", &dist, "--bundle", &bundle])
            }
            Mode::ManifestDigestsOnly => strings(&[
                "--manifest",
                &set.sums,
                "--digests-only",
                "--bundle",
                &bundle,
            ]),
            Mode::ImagePinned => strings(&[&set.images[0], "--bundle", &bundle]),
            Mode::ImagesPinned => strings(&[&set.images[0], &set.images[1], "--bundle", &bundle]),
            Mode::GitHubApi => strings(&[a]),
            Mode::BundleFromOci => strings(&[&set.images[0], "--bundle-from-oci"]),
            Mode::SourceReferrers => strings(&[&set.images[0], "--source", "referrers"]),
            Mode::SourceCosign => strings(&[&set.images[0], "--source", "cosign"]),
            Mode::Pep740File => strings(&[&self.wheel, "--provenance-file", &self.provenance]),
            Mode::Pep740Files => strings(&[
                &self.wheel,
                &self.sdist,
                "--provenance-file",
                &self.provenance,
            ]),
            Mode::PypiRelease => strings(&["pypi:openmed==1.0", "--index-url", &self.index.base]),
            Mode::PypiFile => strings(&[
                &self.wheel,
                "--from",
                "pypi",
                "--index-url",
                &self.index.base,
            ]),
        }
    }

    fn run(&self, mode: Mode, set: usize, policy: &[String]) -> (i32, String, String) {
        let mut cmd = common::attest();
        cmd.arg("verify")
            .args(self.mode_args(mode, &self.sets[set]))
            .args(policy);
        if mode.online() {
            cmd.env_remove("ATTEST_OFFLINE")
                .env("GITHUB_API_URL", &self.api.base)
                .env("ATTEST_HTTP_TIMEOUT", "10");
        }
        let _ = &self.registry;
        run(&mut cmd)
    }
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn verdict_rows(w: &World) -> Vec<Row> {
    let root = w.root();
    let with_root = |extra: &[&str]| {
        let mut v = strings(extra);
        v.extend(strings(&["--custom-trusted-root", &root]));
        v
    };
    let repo_and = |extra: &[&str]| {
        let mut v = w.baseline();
        v.extend(strings(extra));
        v
    };
    let row = |flag: &'static str, policy: Vec<String>| Row {
        flag,
        policy,
        expect: |_| Expect::Fail,
        set: 0,
    };
    let zeros = "0000000000000000000000000000000000000000";
    vec![
        row("owner", with_root(&["--owner", "other-org"])),
        row("repo", with_root(&["--repo", "octo-org/other-repo"])),
        row(
            "signer-repo",
            repo_and(&["--signer-repo", "other-org/workflows"]),
        ),
        row(
            "signer-workflow",
            repo_and(&[
                "--signer-workflow",
                "octo-org/octo-repo/.github/workflows/other.yml",
            ]),
        ),
        row(
            "cert-identity",
            repo_and(&[
                "--cert-identity",
                "https://github.com/octo-org/octo-repo/.github/workflows/other.yml@refs/heads/main",
            ]),
        ),
        row(
            "cert-identity-regex",
            repo_and(&["--cert-identity-regex", "^https://github\\.com/other-org/"]),
        ),
        row(
            "cert-oidc-issuer",
            repo_and(&["--cert-oidc-issuer", "https://issuer.example"]),
        ),
        row(
            "deny-self-hosted-runners",
            repo_and(&["--deny-self-hosted-runners"]),
        ),
        row(
            "predicate-type",
            repo_and(&["--predicate-type", "https://example.com/other/v1"]),
        ),
        row("signer-digest", repo_and(&["--signer-digest", zeros])),
        row("source-digest", repo_and(&["--source-digest", zeros])),
        row(
            "source-ref",
            repo_and(&["--source-ref", "refs/heads/other"]),
        ),
        row("hostname", repo_and(&["--hostname", "acme.ghe.com"])),
        row("no-public-good", repo_and(&["--no-public-good"])),
        row(
            "custom-trusted-root",
            strings(&[
                "--repo",
                "octo-org/octo-repo",
                "--custom-trusted-root",
                &w.other_root.display().to_string(),
            ]),
        ),
        Row {
            // Files are hashed with it (no sha512 subject: no attestation);
            // a digest, a manifest line or an image names its own algorithm.
            expect: |m| {
                if m.digests_given() {
                    Expect::Refused
                } else {
                    Expect::Fail
                }
            },
            ..row("digest-alg", repo_and(&["-d", "sha512"]))
        },
        Row {
            // GitHub's API is asked by owner or repo, which a key has not.
            expect: |m| {
                if m == Mode::GitHubApi {
                    Expect::Refused
                } else {
                    Expect::Fail
                }
            },
            ..row("key", with_root(&["--key", &w.key.display().to_string()]))
        },
        Row {
            // Offline opens no socket: online sources are refused.
            expect: |m| {
                if m.online() {
                    Expect::Refused
                } else {
                    Expect::Pass
                }
            },
            ..row("offline", repo_and(&["--offline"]))
        },
        // A policy file whose rule wants another repository.
        row(
            "policy",
            with_root(&[
                "--policy",
                &w.policy_file("other-repo", "octo-org/other-repo"),
            ]),
        ),
        // The passing policy, held to a lock that records another signer.
        row(
            "locked",
            with_root(&[
                "--policy",
                &w.policy_file("pass", "octo-org/octo-repo"),
                "--locked",
                "--lock",
                &w.drift_lock(),
            ]),
        ),
        Row {
            // --lock alone would be ignored: it is refused everywhere.
            expect: |_| Expect::Refused,
            ..row(
                "lock",
                with_root(&[
                    "--policy",
                    &w.policy_file("pass", "octo-org/octo-repo"),
                    "--lock",
                    &w.drift_lock(),
                ]),
            )
        },
        Row {
            // The matrix's images are single-platform: a platform is only
            // selected from an index (tests/oci_platforms.rs), and never
            // from a file or digest.
            expect: |_| Expect::Refused,
            ..row("platform", repo_and(&["--platform", "linux/s390x"]))
        },
        Row {
            // Images read online: every platform of a single-platform image
            // is itself, nothing is added (an index's platforms without
            // evidence fail: tests/oci_platforms.rs). The pinned-image modes
            // run offline, where the index cannot be read: refused, as for
            // files and digests.
            expect: |m| {
                if matches!(
                    m,
                    Mode::BundleFromOci | Mode::SourceReferrers | Mode::SourceCosign
                ) {
                    Expect::Pass
                } else {
                    Expect::Refused
                }
            },
            ..row("all-platforms", repo_and(&["--all-platforms"]))
        },
        // The test Sigstore's predicate names the runner as builder and has
        // no internalParameters: the cross-check fails where gh passes.
        row("check-provenance", repo_and(&["--check-provenance"])),
        Row {
            // The second set's entry is only promised, and its log cannot
            // prove it: required proofs fail it in every mode. PEP 740
            // attestations are v0.3 bundles, proven or refused whatever
            // the flag: it does not change their verdict.
            set: 1,
            expect: |m| {
                if m.pep740() {
                    Expect::Pass
                } else {
                    Expect::Fail
                }
            },
            ..row(
                "require-inclusion-proof",
                repo_and(&["--require-inclusion-proof"]),
            )
        },
    ]
}

/// The long flags of `attest verify`, from clap's own help.
fn verify_flags() -> BTreeSet<String> {
    let (code, out, err) = run(common::attest().args(["verify", "--help"]));
    assert_eq!(code, 0, "{err}");
    out.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-").and_then(|r| {
                if let Some(long) = r.strip_prefix('-') {
                    Some(long)
                } else {
                    r.split_once(", --").map(|(_, long)| long)
                }
            })?;
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

#[test]
fn every_verdict_flag_changes_the_verdict_in_every_mode() {
    let w = world();
    let rows = verdict_rows(&w);

    // Every flag clap defines is classified, and nothing else is.
    let flags = verify_flags();
    let classified: BTreeSet<String> = rows
        .iter()
        .map(|r| r.flag.to_string())
        .chain(NOT_VERDICT.iter().map(|(f, _)| f.to_string()))
        .collect();
    let unclassified: Vec<_> = flags.difference(&classified).collect();
    let stale: Vec<_> = classified.difference(&flags).collect();
    assert!(
        unclassified.is_empty(),
        "flags of `attest verify` missing from the flag matrix: {unclassified:?}"
    );
    assert!(
        stale.is_empty(),
        "flag matrix rows for flags that do not exist: {stale:?}"
    );

    let mut wrong = Vec::new();
    for &mode in MODES {
        for set in 0..w.sets.len() {
            let (code, _, err) = w.run(mode, set, &w.baseline());
            assert_eq!(
                code, 0,
                "baseline must pass in {mode:?} for set {set}: {err}"
            );
        }
        for row in &rows {
            let want = (row.expect)(mode);
            let (code, _, err) = w.run(mode, row.set, &row.policy);
            let ok = match want {
                Expect::Fail => code != 0 && code != 2,
                Expect::Refused => code == 2,
                Expect::Pass => code == 0,
            };
            if !ok {
                let last = err.lines().last().unwrap_or_default().to_string();
                wrong.push(format!(
                    "--{} in {mode:?}: expected {want:?}, got exit {code}: {last}",
                    row.flag
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// `--policy` is a mode of its own: a policy file that says what the
/// baseline flags say passes wherever they pass.
#[test]
fn a_policy_file_passes_in_every_mode_where_the_flags_do() {
    let w = world();
    let policy = strings(&[
        "--policy",
        &w.policy_file("pass", "octo-org/octo-repo"),
        "--custom-trusted-root",
        &w.root(),
    ]);
    for &mode in MODES {
        let (code, out, err) = w.run(mode, 0, &policy);
        assert_eq!(code, 0, "{mode:?}: {out}\n{err}");
        assert!(out.contains("✓"), "{mode:?}: {out}");
    }
}

impl Mode {
    /// How many artifacts the mode verifies (one report row each).
    fn artifacts(self) -> usize {
        match self {
            Mode::Files
            | Mode::ManifestDir
            | Mode::ManifestDigestsOnly
            | Mode::ImagesPinned
            | Mode::Pep740Files
            | Mode::PypiRelease => 2,
            _ => 1,
        }
    }
}

/// The output flags (`--quiet`, `--verbose`, `--format json|junit`) change
/// what is printed, never the verdict: in every mode, with the flags'
/// policy and with a policy file, passing and failing, the exit code is the
/// one of the same run without them; JUnit has one test case per artifact
/// and counts the failures; `--quiet` leaves only errors on stderr.
#[test]
fn output_flags_keep_the_verdict_in_every_mode() {
    let w = world();
    let pass = w.baseline();
    let fail = strings(&[
        "--repo",
        "other-org/other-repo",
        "--custom-trusted-root",
        &w.root(),
    ]);
    let policy_pass = strings(&[
        "--policy",
        &w.policy_file("out-pass", "octo-org/octo-repo"),
        "--custom-trusted-root",
        &w.root(),
    ]);
    let policy_fail = strings(&[
        "--policy",
        &w.policy_file("out-fail", "other-org/other-repo"),
        "--custom-trusted-root",
        &w.root(),
    ]);
    let outputs: [&[&str]; 5] = [
        &["--quiet"],
        &["--verbose"],
        &["--format", "json"],
        &["--format", "junit"],
        &["--quiet", "--format", "junit"],
    ];
    let mut wrong = Vec::new();
    for &mode in MODES {
        for (policy, passes) in [
            (&pass, true),
            (&fail, false),
            (&policy_pass, true),
            (&policy_fail, false),
        ] {
            let (plain, _, err) = w.run(mode, 0, policy);
            assert_eq!(plain == 0, passes, "{mode:?} {policy:?}: {err}");
            for extra in outputs {
                let mut args = policy.clone();
                args.extend(extra.iter().map(|s| s.to_string()));
                let (code, out, err) = w.run(mode, 0, &args);
                let what = format!("{mode:?} {} {extra:?}", policy[..2].join(" "));
                if code != plain {
                    wrong.push(format!("{what}: exit {code}, without it {plain}"));
                    continue;
                }
                if extra.contains(&"junit") {
                    let cases = out.matches("<testcase ").count();
                    let failures = out.matches("<failure ").count();
                    let want_failures = if passes { 0 } else { mode.artifacts() };
                    if cases != mode.artifacts() || failures != want_failures {
                        wrong.push(format!(
                            "{what}: {cases} test cases and {failures} failures, expected {} and {want_failures}:\n{out}",
                            mode.artifacts()
                        ));
                    }
                }
                if extra.contains(&"--quiet") {
                    let chatter: Vec<&str> = err
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .filter(|l| !l.starts_with("Error:") && !l.starts_with("Warning:"))
                        // The error's list of attestations and their reasons.
                        .filter(|l| !l.starts_with("None of "))
                        .filter(|l| !l.starts_with("  "))
                        .collect();
                    if !chatter.is_empty() {
                        wrong.push(format!("{what}: --quiet printed: {err}"));
                    }
                }
                if extra.contains(&"--verbose") && !err.contains("trust: ") {
                    wrong.push(format!("{what}: --verbose did not say which root: {err}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn key_is_never_ignored_with_several_artifacts() {
    // The bypass of issue 11: with two files, --key was dropped and any
    // keyless bundle passed. The shipped real npm bundle is keyless.
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let dir = tempfile::tempdir().unwrap();
    for n in ["a.tgz", "b.tgz"] {
        std::fs::copy(ex.join("sigstore-js-2.1.0.tgz"), dir.path().join(n)).unwrap();
    }
    let (_, public) = common::openssl_p256_key_pair(dir.path(), "k");
    let bundle = ex.join("sigstore-js-2.1.0-bundle.json");
    for files in [&["a.tgz"][..], &["a.tgz", "b.tgz"][..]] {
        let (code, out, err) = run(common::attest()
            .current_dir(dir.path())
            .arg("verify")
            .args(files)
            .args(["-d", "sha512", "--key"])
            .arg(&public)
            .arg("--bundle")
            .arg(&bundle));
        assert_eq!(code, 6, "{files:?} with --key: {out}{err}");
    }
}
