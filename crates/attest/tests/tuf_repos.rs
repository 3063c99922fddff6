//! TUF against real repositories: built with python-tuf (`pip install tuf`),
//! served over loopback HTTP, fetched with attest's TUF client.
//!
//! The happy path yields the published trusted root byte for byte; key
//! rotation across root versions works; an expired timestamp, a version
//! rollback, a mix-and-match snapshot, a tampered target, an unsigned root
//! and a freeze attack are each rejected as verification failures (never as
//! network errors, which would allow a fallback), with a message naming the
//! problem. The offline path re-verifies the cache and refuses a tampered one.
//! Metadata signed by a key the root does not trust, for each of timestamp,
//! snapshot and targets, and a target served longer than its signed length
//! fail verification too. With the repository down (or offline), a valid
//! cache is used, a tampered one is an error and an expired one falls back to
//! the embedded root, saying so; "expired" is decided on the newest root the
//! cache reaches, never on the (normally expired) starting root, even one
//! more root versions ahead than a refresh walks. A refresh spares the
//! network for one day after its stamp only; a refresh that could not write
//! the cache says so and leaves no stamp.

#[path = "support/shared.rs"]
mod shared;
#[path = "support/static_server.rs"]
mod static_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use attest::trust::tuf::{fetch_target, FetchOptions, TufError, TufRepository};
use static_server::StaticServer;

static SHARED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| shared::shared(""));

struct Fixture {
    _dir: tempfile::TempDir,
    out: PathBuf,
    target: Vec<u8>,
    server: StaticServer,
}

/// Build the repositories once per test binary (python-tuf is slowish).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("repos");
        let target_file =
            Path::new(SHARED.as_str()).join("testdata/trust/production_trusted_root.json");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf/make_repos.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(&out)
            .arg(&target_file)
            .status()
            .expect("run python3");
        assert!(
            status.success(),
            "make_repos.py failed: is python-tuf installed (pip install tuf)?"
        );
        let server = StaticServer::start(&out);
        Fixture {
            target: std::fs::read(&target_file).unwrap(),
            out,
            server,
            _dir: dir,
        }
    })
}

fn repo(f: &Fixture, scenario: &str) -> TufRepository {
    TufRepository {
        url: format!("{}/{scenario}", f.server.base),
        initial_root: std::fs::read(f.out.join("initial_root.json")).unwrap(),
        target: "trusted_root.json".into(),
    }
}

fn opts(cache: &Path) -> FetchOptions {
    FetchOptions {
        cache_root: Some(cache.to_path_buf()),
        offline: false,
        use_fresh_cache: false,
        timeout: Duration::from_secs(10),
        now: jiff::Timestamp::now(),
    }
}

fn expect_verification_error(
    scenario: &str,
    result: Result<attest::trust::tuf::TufTarget, TufError>,
    needle: &str,
) {
    match result {
        Err(TufError::Verification { detail, .. }) => {
            assert!(
                detail.to_lowercase().contains(needle),
                "{scenario}: {detail:?} lacks {needle:?}"
            )
        }
        other => panic!("{scenario}: expected a verification error, got {other:?}"),
    }
}

#[test]
fn happy_path_gives_the_published_target() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let t = fetch_target(&repo(f, "happy"), &opts(cache.path())).unwrap();
    assert_eq!(t.bytes, f.target);
    assert!(t.from_network);
    // The cache now verifies offline and gives the same bytes.
    let mut off = opts(cache.path());
    off.offline = true;
    let c = fetch_target(&repo(f, "happy"), &off).unwrap();
    assert_eq!(c.bytes, f.target);
    assert!(!c.from_network);
}

#[test]
fn key_rotation_across_root_versions() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let t = fetch_target(&repo(f, "rotated"), &opts(cache.path())).unwrap();
    assert_eq!(t.bytes, f.target);
}

#[test]
fn expired_timestamp_is_rejected() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    expect_verification_error(
        "expired-timestamp",
        fetch_target(&repo(f, "expired-timestamp"), &opts(cache.path())),
        "expired",
    );
}

#[test]
fn rollback_is_rejected() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    // The client sees version 5, then the same URL serves version 3.
    let scenario_dir = tempfile::tempdir_in(&f.out).unwrap();
    let name = scenario_dir
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    copy_dir(&f.out.join("rollback-high"), scenario_dir.path());
    fetch_target(&repo(f, &name), &opts(cache.path())).unwrap();
    std::fs::remove_dir_all(scenario_dir.path()).unwrap();
    copy_dir(&f.out.join("rollback-low"), scenario_dir.path());
    expect_verification_error(
        "rollback",
        fetch_target(&repo(f, &name), &opts(cache.path())),
        "rollback",
    );
}

#[test]
fn mix_and_match_snapshot_is_rejected() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    expect_verification_error(
        "mix-and-match",
        fetch_target(&repo(f, "mix-and-match"), &opts(cache.path())),
        "snapshot",
    );
}

#[test]
fn tampered_target_is_rejected() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    expect_verification_error(
        "tampered-target",
        fetch_target(&repo(f, "tampered-target"), &opts(cache.path())),
        "trusted_root.json",
    );
}

#[test]
fn unsigned_root_is_rejected() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    expect_verification_error(
        "unsigned-root",
        fetch_target(&repo(f, "unsigned-root"), &opts(cache.path())),
        "threshold",
    );
}

#[test]
fn freeze_attack_is_rejected() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    // Valid now; the repository then stops updating (frozen) and a client
    // refreshing after the metadata expired must refuse it.
    fetch_target(&repo(f, "freeze"), &opts(cache.path())).unwrap();
    let expiry: jiff::Timestamp = std::fs::read_to_string(f.out.join("freeze-expiry.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut later = opts(cache.path());
    later.now = expiry + jiff::SignedDuration::from_secs(60);
    expect_verification_error(
        "freeze",
        fetch_target(&repo(f, "freeze"), &later),
        "expired",
    );
    // Offline, the frozen cache is refused as expired too.
    later.offline = true;
    match fetch_target(&repo(f, "freeze"), &later) {
        Err(TufError::CacheInvalid { expired: true, .. }) => {}
        other => panic!("expected an expired cache, got {other:?}"),
    }
}

#[test]
fn a_tampered_cache_is_refused_offline() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let r = repo(f, "happy");
    fetch_target(&r, &opts(cache.path())).unwrap();
    let ts = r.cache_dir(cache.path()).join("timestamp.json");
    let text = std::fs::read_to_string(&ts).unwrap();
    std::fs::write(&ts, text.replacen("\"version\": 1", "\"version\": 9", 1)).unwrap();
    let mut off = opts(cache.path());
    off.offline = true;
    match fetch_target(&r, &off) {
        Err(TufError::CacheInvalid { expired: false, .. }) => {}
        other => panic!("expected a refused cache, got {other:?}"),
    }
}

/// A loopback server that accepts every connection and closes it at once:
/// a repository that is "down" (the connection fails), on a port it bound
/// itself and holds for its lifetime, so no other process can take it.
struct DeadServer {
    base: String,
}

impl DeadServer {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                drop(stream);
            }
        });
        Self { base }
    }
}

#[test]
fn an_unreachable_repository_is_a_network_error() {
    let cache = tempfile::tempdir().unwrap();
    let dead = DeadServer::start();
    let r = TufRepository {
        url: dead.base.clone(),
        ..TufRepository::public_good()
    };
    let mut o = opts(cache.path());
    o.timeout = Duration::from_secs(2);
    assert!(matches!(
        fetch_target(&r, &o),
        Err(TufError::Network { .. })
    ));
}

#[test]
fn metadata_signed_by_an_untrusted_key_is_rejected() {
    let f = fixture();
    for role in ["timestamp", "snapshot", "targets"] {
        let cache = tempfile::tempdir().unwrap();
        let scenario = format!("wrong-key-{role}");
        expect_verification_error(
            &scenario,
            fetch_target(&repo(f, &scenario), &opts(cache.path())),
            &format!("signature threshold not met for role {role}: 0/1"),
        );
    }
}

#[test]
fn a_target_longer_than_its_signed_length_is_an_integrity_failure() {
    // Not a network failure: that class falls back to other trust material.
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let signed = f.target.len();
    expect_verification_error(
        "oversize-target",
        fetch_target(&repo(f, "oversize-target"), &opts(cache.path())),
        &format!("content-length {} exceeds max {signed}", signed + 1),
    );
}

#[test]
fn an_expired_starting_root_is_walked_past() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let r = expired_start(f);
    let t = fetch_target(&r, &opts(cache.path())).unwrap();
    assert_eq!(t.bytes, f.target);
    assert_eq!(t.cache_error, None);
    // Offline, the cache reaches root version 2 and verifies.
    let mut off = opts(cache.path());
    off.offline = true;
    let c = fetch_target(&r, &off).unwrap();
    assert_eq!(c.bytes, f.target);
    assert!(!c.from_network);
}

/// The repository whose own starting root has expired (see make_repos.py).
fn expired_start(f: &Fixture) -> TufRepository {
    TufRepository {
        url: format!("{}/expired-start", f.server.base),
        initial_root: std::fs::read(f.out.join("expired-start-initial_root.json")).unwrap(),
        target: "trusted_root.json".into(),
    }
}

#[test]
fn a_broken_cache_behind_an_expired_starting_root_is_invalid_not_expired() {
    // Before the fix, every such cache failed first on the expired starting
    // root and was classed `expired: true`, which falls back to the embedded
    // roots. Each tampering below must be named for what it is.
    let f = fixture();
    let r = expired_start(f);
    type Tamper = fn(&Path);
    let cases: [(&str, Tamper, &str); 4] = [
        (
            "timestamp replaced, newer root missing",
            |dir| {
                std::fs::remove_dir_all(dir.join("root_history")).unwrap();
                std::fs::write(dir.join("timestamp.json"), "{\"tampered\":1}\n").unwrap();
            },
            "timestamp.json: malformed metadata",
        ),
        (
            "timestamp re-versioned (signature no longer matches)",
            |dir| {
                edit(
                    &dir.join("timestamp.json"),
                    "\"version\": 1",
                    "\"version\": 9",
                )
            },
            "timestamp.json: signature threshold not met for role timestamp",
        ),
        (
            "newer root altered",
            |dir| {
                edit(
                    &dir.join("root_history/2.root.json"),
                    "\"consistent_snapshot\": true",
                    "\"consistent_snapshot\": false",
                )
            },
            "root_history/2.root.json: signature threshold not met for role root",
        ),
        (
            "target altered",
            |dir| {
                edit(
                    &dir.join("targets/trusted_root.json"),
                    "sigstore",
                    "s1gstore",
                )
            },
            "trusted_root.json",
        ),
    ];
    for (what, tamper, needle) in cases {
        let cache = tempfile::tempdir().unwrap();
        fetch_target(&r, &opts(cache.path())).unwrap();
        tamper(&r.cache_dir(cache.path()));
        let mut off = opts(cache.path());
        off.offline = true;
        match fetch_target(&r, &off) {
            Err(e @ TufError::CacheInvalid { expired: false, .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(needle), "{what}: {msg}");
                assert!(
                    msg.contains("does not verify")
                        && msg.contains("attest trusted-root --verify-only")
                        && msg.contains("or remove"),
                    "{what}: {msg}"
                );
            }
            other => panic!("{what}: expected an invalid cache, got {other:?}"),
        }
    }
}

#[test]
fn the_reported_tampered_public_good_cache_is_invalid_not_expired() {
    // The case from the issue, against the real embedded public-good TUF
    // root (version 14, expired 2026-06-22), on a fixed date after that.
    let cache = tempfile::tempdir().unwrap();
    let r = TufRepository::public_good();
    let dir = r.cache_dir(cache.path());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("timestamp.json"), "{\"tampered\":1}\n").unwrap();
    let mut off = opts(cache.path());
    off.offline = true;
    off.now = "2026-12-01T00:00:00Z".parse().unwrap();
    match fetch_target(&r, &off) {
        Err(e @ TufError::CacheInvalid { expired: false, .. }) => {
            assert!(
                e.to_string().contains("timestamp.json: malformed metadata"),
                "{e}"
            )
        }
        other => panic!("expected an invalid cache, got {other:?}"),
    }
}

#[test]
fn an_expired_cache_says_which_role_expired_on_the_newest_root() {
    let f = fixture();
    let r = expired_start(f);
    let cache = tempfile::tempdir().unwrap();
    fetch_target(&r, &opts(cache.path())).unwrap();
    // make_repos.py signs expired-start's timestamp for a week.
    let mut off = opts(cache.path());
    off.offline = true;
    off.now = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 8);
    match fetch_target(&r, &off) {
        Err(e @ TufError::CacheInvalid { expired: true, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("verifies but has expired (timestamp metadata expired at"),
                "{msg}"
            );
        }
        other => panic!("expected an expired cache, got {other:?}"),
    }
}

/// A role expires after its `expires` time, not at it (as the TUF client
/// decides): at the newest root's exact expiry the cache is expired because
/// its timestamp is (signed for a week), and the root is not named.
#[test]
fn an_expired_cache_names_only_roles_past_their_expiry() {
    let f = fixture();
    let r = expired_start(f);
    let cache = tempfile::tempdir().unwrap();
    fetch_target(&r, &opts(cache.path())).unwrap();
    let root_file = r.cache_dir(cache.path()).join("root_history/2.root.json");
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&root_file).unwrap()).unwrap();
    let root_expires: jiff::Timestamp =
        root["signed"]["expires"].as_str().unwrap().parse().unwrap();
    let mut off = opts(cache.path());
    off.offline = true;
    off.now = root_expires;
    match fetch_target(&r, &off) {
        Err(e @ TufError::CacheInvalid { expired: true, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("verifies but has expired (timestamp metadata expired at"),
                "{msg}"
            );
        }
        other => panic!("expected an expired cache, got {other:?}"),
    }
}

/// A cache more root versions ahead of the starting root than a client
/// walks in one refresh (32) is reached through the roots it holds: it
/// verifies offline, and once expired the expiry-blind re-check reaches the
/// same newest root and says the cache expired (it does not stop 32 versions
/// in and call the cache invalid).
#[test]
fn a_cache_many_root_versions_ahead_is_reached_through_its_roots() {
    let f = fixture();
    let r = repo(f, "many-roots");
    let served = f.out.join("many-roots");
    // Online, one refresh cannot walk 34 roots.
    let cache = tempfile::tempdir().unwrap();
    assert!(fetch_target(&r, &opts(cache.path())).is_err());
    // A cache holding them, as one refreshed version by version would.
    let dir = r.cache_dir(cache.path());
    copy_dir(&served, &dir);
    std::fs::create_dir_all(dir.join("root_history")).unwrap();
    for version in 2..=34 {
        let name = format!("{version}.root.json");
        std::fs::rename(dir.join(&name), dir.join("root_history").join(&name)).unwrap();
    }
    let mut off = opts(cache.path());
    off.offline = true;
    assert_eq!(fetch_target(&r, &off).unwrap().bytes, f.target);
    // make_repos.py signs the timestamp for a week.
    off.now = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 8);
    match fetch_target(&r, &off) {
        Err(e @ TufError::CacheInvalid { expired: true, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("verifies but has expired (timestamp metadata expired at"),
                "{msg}"
            );
        }
        other => panic!("expected an expired cache, got {other:?}"),
    }
}

/// A failed check names the cache file it read last, unless the message
/// already does (no "snapshot.json: ... snapshot.json: ...").
#[test]
fn a_cache_error_names_the_file_once() {
    let f = fixture();
    let r = repo(f, "happy");
    let cache = tempfile::tempdir().unwrap();
    fetch_target(&r, &opts(cache.path())).unwrap();
    let dir = r.cache_dir(cache.path());
    // Only the unversioned copy is left, and it no longer matches its pin.
    std::fs::remove_file(dir.join("1.snapshot.json")).unwrap();
    edit(
        &dir.join("snapshot.json"),
        "\"version\": 1",
        "\"version\": 2",
    );
    let mut off = opts(cache.path());
    off.offline = true;
    match fetch_target(&r, &off) {
        Err(e @ TufError::CacheInvalid { expired: false, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(
                    "does not verify: integrity check failed: snapshot.json: sha256 mismatch"
                ),
                "{msg}"
            );
        }
        other => panic!("expected an invalid cache, got {other:?}"),
    }
}

/// A successful refresh spares the network for a day after its stamp, and
/// not before the stamp (a clock set back) nor from the day on: with the
/// repository down, a spared fetch is the cache's, any other a network error.
#[test]
fn a_refresh_spares_the_network_for_one_day_after_it() {
    let f = fixture();
    let live = expired_start(f);
    let dead = DeadServer::start();
    let down = TufRepository {
        url: format!("{}/expired-start", dead.base),
        ..expired_start(f)
    };
    let cache = tempfile::tempdir().unwrap();
    fetch_target(&live, &opts(cache.path())).unwrap();
    copy_dir(&live.cache_dir(cache.path()), &down.cache_dir(cache.path()));
    let stamp = attest::trust::tuf::last_refresh(&down, cache.path()).expect("a refresh stamp");
    let at = |secs: i64| {
        let mut o = opts(cache.path());
        o.use_fresh_cache = true;
        o.timeout = Duration::from_secs(2);
        o.now = stamp + jiff::SignedDuration::from_secs(secs);
        fetch_target(&down, &o)
    };
    const DAY: i64 = 24 * 60 * 60;
    for secs in [1, 2 * 60 * 60, DAY - 1] {
        match at(secs) {
            Ok(t) => {
                assert!(!t.from_network, "{secs} s after the refresh");
                assert_eq!(t.refreshed_at, Some(stamp), "{secs} s after the refresh");
            }
            other => panic!("{secs} s after the refresh: expected the cache, got {other:?}"),
        }
    }
    for secs in [DAY, DAY + 1, -60 * 60] {
        let got = at(secs);
        assert!(
            matches!(got, Err(TufError::Network { .. })),
            "{secs} s after the refresh: expected the network, got {got:?}"
        );
    }
}

/// A refresh whose metadata could not be written to the cache still gives
/// the verified target, says the cache was not updated, and writes no
/// refresh stamp (which would make the next run trust a stale cache).
#[test]
fn a_cache_that_cannot_be_written_is_reported_and_not_stamped() {
    let f = fixture();
    let r = repo(f, "happy");
    let cache = tempfile::tempdir().unwrap();
    let dir = r.cache_dir(cache.path());
    // A non-empty directory where the timestamp is written: the rename
    // onto it fails, whoever runs the test.
    std::fs::create_dir_all(dir.join("timestamp.json/blocker")).unwrap();
    let t = fetch_target(&r, &opts(cache.path())).unwrap();
    assert_eq!(t.bytes, f.target);
    let e = t.cache_error.expect("the failed cache write is reported");
    assert!(
        e.starts_with(&format!(
            "the TUF cache in {} was not updated: ",
            dir.display()
        )) && e.contains("timestamp.json"),
        "{e}"
    );
    assert!(!dir.join("attest-last-refresh").exists());
    assert_eq!(attest::trust::tuf::last_refresh(&r, cache.path()), None);
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

mod store_order {
    //! `attest verify` without a custom root: a fresh TUF root, else the
    //! verified cache, else the embedded root, and it says which.
    use super::*;
    use attest::artifact::{ArtifactDigest, DigestAlgorithm};
    use attest::outcome::evaluate_bundles;
    use attest::policy::{Policy, PolicyFlags};
    use attest::trust::{RootSource, TrustStore, EMBEDDED_PUBLIC_GOOD, PUBLIC_GOOD_ORG};

    fn verify_with(store: &TrustStore) -> Result<RootSource, String> {
        let gh = Path::new(SHARED.as_str()).join("testdata/gh");
        let bundles =
            attest::source::read_bundle_file(&gh.join("sigstore-js-2.1.0-bundle.json")).unwrap();
        let data = std::fs::read(gh.join("sigstore-js-2.1.0.tgz")).unwrap();
        let digest: ArtifactDigest = attest::artifact::digest_bytes(&data, DigestAlgorithm::Sha512);
        let policy = Policy::from_flags(&PolicyFlags {
            owner: Some("sigstore".into()),
            ..Default::default()
        })
        .unwrap();
        let verdict = evaluate_bundles(&bundles, &digest, store, &policy);
        let r = &verdict.results[0];
        match r.outcome.attestation() {
            Some(att) if verdict.verified() => Ok(att.root_source.clone()),
            _ => Err(r.outcome.reason()),
        }
    }

    fn store(f: &Fixture, scenario: &str, o: FetchOptions) -> TrustStore {
        TrustStore::from_tuf_repositories(
            vec![(
                PUBLIC_GOOD_ORG.to_string(),
                repo(f, scenario),
                EMBEDDED_PUBLIC_GOOD,
            )],
            o,
        )
    }

    #[test]
    fn fresh_then_cached_then_embedded() {
        let f = fixture();
        let cache = tempfile::tempdir().unwrap();
        // A copy of the happy repository under a name only this test uses,
        // so the request log is not shared with tests running in parallel.
        let own = tempfile::tempdir_in(&f.out).unwrap();
        let name = own
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        copy_dir(&f.out.join("happy"), own.path());
        let mine = |reqs: Vec<String>| {
            reqs.into_iter()
                .filter(|r| r.starts_with(&format!("/{name}/")))
                .count()
        };
        // 1. Online: fetched now.
        let s = store(f, &name, opts(cache.path()));
        assert!(matches!(
            verify_with(&s).unwrap(),
            RootSource::Tuf {
                from_network: true,
                ..
            }
        ));
        assert!(s.notes().is_empty());
        // 2. Refreshed less than a day ago: the verified cache, no network.
        let before = mine(f.server.requests());
        assert!(before > 0);
        let mut o = opts(cache.path());
        o.use_fresh_cache = true;
        let s = store(f, &name, o);
        assert!(matches!(
            verify_with(&s).unwrap(),
            RootSource::Tuf {
                from_network: false,
                ..
            }
        ));
        assert_eq!(
            mine(f.server.requests()),
            before,
            "a fresh cache must not touch the network"
        );
        // 3. Repository unreachable: the verified cache, with a warning.
        let mut o = opts(cache.path());
        o.timeout = Duration::from_secs(2);
        let dead = DeadServer::start();
        let unreachable = TufRepository {
            url: format!("{}/nowhere", dead.base),
            ..repo(f, &name)
        };
        let mut moved = unreachable.cache_dir(cache.path());
        copy_dir(&repo(f, &name).cache_dir(cache.path()), &moved);
        let s = TrustStore::from_tuf_repositories(
            vec![(
                PUBLIC_GOOD_ORG.to_string(),
                unreachable.clone(),
                EMBEDDED_PUBLIC_GOOD,
            )],
            o.clone(),
        );
        assert!(matches!(
            verify_with(&s).unwrap(),
            RootSource::Tuf {
                from_network: false,
                ..
            }
        ));
        assert!(s.notes()[0].contains("could not reach"), "{:?}", s.notes());
        // 4. Unreachable and no cache: the embedded root, with a warning.
        std::fs::remove_dir_all(&moved).unwrap();
        moved.pop();
        let s = TrustStore::from_tuf_repositories(
            vec![(
                PUBLIC_GOOD_ORG.to_string(),
                unreachable,
                EMBEDDED_PUBLIC_GOOD,
            )],
            o,
        );
        assert_eq!(verify_with(&s).unwrap(), RootSource::Embedded);
        assert!(
            s.notes()[0].contains("using the embedded"),
            "{:?}",
            s.notes()
        );
        // 5. Offline with no cache: the embedded root, said so.
        let empty = tempfile::tempdir().unwrap();
        let mut o = opts(empty.path());
        o.offline = true;
        let s = store(f, "happy", o);
        assert_eq!(verify_with(&s).unwrap(), RootSource::Embedded);
        assert!(
            s.notes()[0].starts_with("offline: using the embedded"),
            "{:?}",
            s.notes()
        );
    }

    #[test]
    fn a_failed_tuf_check_fails_closed() {
        let f = fixture();
        for scenario in ["tampered-target", "unsigned-root", "expired-timestamp"] {
            let cache = tempfile::tempdir().unwrap();
            let s = store(f, scenario, opts(cache.path()));
            let err = verify_with(&s).unwrap_err();
            assert!(
                err.contains("TUF verification failed") && err.contains("will not fall back"),
                "{scenario}: {err}"
            );
        }
        // A tampered cache offline fails closed too. The snapshot is cached
        // under its versioned name and as snapshot.json; the check reads the
        // versioned copy, so both are altered (a stray unused copy is ignored,
        // as a TUF client ignores invalid local metadata it does not need).
        let cache = tempfile::tempdir().unwrap();
        fetch_target(&repo(f, "happy"), &opts(cache.path())).unwrap();
        let dir = repo(f, "happy").cache_dir(cache.path());
        for name in ["snapshot.json", "1.snapshot.json"] {
            edit(&dir.join(name), "\"version\": 1", "\"version\": 2");
        }
        let mut o = opts(cache.path());
        o.offline = true;
        let err = verify_with(&store(f, "happy", o)).unwrap_err();
        assert!(
            err.contains("does not verify: 1.snapshot.json: integrity check failed: snapshot.json: sha256 mismatch"),
            "{err}"
        );
    }

    #[test]
    fn a_target_longer_than_signed_fails_closed() {
        // Before the fix it was a network error: the verified cache or the
        // embedded root was used instead.
        let f = fixture();
        let cache = tempfile::tempdir().unwrap();
        let s = store(f, "oversize-target", opts(cache.path()));
        let err = verify_with(&s).unwrap_err();
        assert!(
            err.contains("TUF verification failed")
                && err.contains("exceeds max")
                && err.contains("will not fall back"),
            "{err}"
        );
        assert!(s.notes().is_empty(), "{:?}", s.notes());
    }

    /// The state of the cache in the matrix below.
    #[derive(Debug, Clone, Copy)]
    enum CacheState {
        Valid,
        /// The case: the newer root is gone (so the expired starting
        /// root is the newest reached) and timestamp.json is garbage.
        Tampered,
        /// Sound, but the timestamp (signed for a week) has expired.
        Expired,
        Missing,
    }

    /// A cache for `r` in a new directory, in `state`; and the clock to use.
    fn cache_in(
        f: &Fixture,
        r: &TufRepository,
        state: CacheState,
    ) -> (tempfile::TempDir, jiff::Timestamp) {
        let cache = tempfile::tempdir().unwrap();
        let mut now = jiff::Timestamp::now();
        if matches!(state, CacheState::Missing) {
            return (cache, now);
        }
        // Filled from the live repository, then moved under `r`'s URL (which
        // may be a dead server's).
        let live = expired_start(f);
        fetch_target(&live, &opts(cache.path())).unwrap();
        let dir = r.cache_dir(cache.path());
        if dir != live.cache_dir(cache.path()) {
            copy_dir(&live.cache_dir(cache.path()), &dir);
            std::fs::remove_dir_all(live.cache_dir(cache.path())).unwrap();
        }
        match state {
            CacheState::Tampered => {
                std::fs::remove_dir_all(dir.join("root_history")).unwrap();
                std::fs::write(dir.join("timestamp.json"), "{\"tampered\":1}\n").unwrap();
            }
            CacheState::Expired => now += jiff::SignedDuration::from_hours(24 * 8),
            _ => {}
        }
        (cache, now)
    }

    #[test]
    fn network_down_or_offline_with_each_cache_state() {
        let f = fixture();
        let dead = DeadServer::start();
        let down = TufRepository {
            url: format!("{}/expired-start", dead.base),
            ..expired_start(f)
        };
        for offline in [false, true] {
            for state in [
                CacheState::Valid,
                CacheState::Tampered,
                CacheState::Expired,
                CacheState::Missing,
            ] {
                let case = format!("offline={offline} cache={state:?}");
                let (cache, now) = cache_in(f, &down, state);
                let mut o = opts(cache.path());
                o.offline = offline;
                o.now = now;
                o.timeout = Duration::from_secs(2);
                let s = TrustStore::from_tuf_repositories(
                    vec![(
                        PUBLIC_GOOD_ORG.to_string(),
                        down.clone(),
                        EMBEDDED_PUBLIC_GOOD,
                    )],
                    o,
                );
                let result = verify_with(&s);
                let notes = s.notes();
                let prefix = if offline {
                    "offline: using the embedded Sigstore public good root"
                } else {
                    "using the embedded Sigstore public good root"
                };
                match state {
                    CacheState::Valid => {
                        assert!(
                            matches!(
                                result,
                                Ok(RootSource::Tuf {
                                    from_network: false,
                                    ..
                                })
                            ),
                            "{case}: {result:?}"
                        );
                        if offline {
                            assert!(notes.is_empty(), "{case}: {notes:?}");
                        } else {
                            assert!(
                                notes.len() == 1
                                    && notes[0]
                                        .starts_with(&format!("could not reach {}", down.url))
                                    && notes[0].ends_with("using the verified TUF cache"),
                                "{case}: {notes:?}"
                            );
                        }
                    }
                    CacheState::Tampered => {
                        let err = result.unwrap_err();
                        assert!(
                            err.contains("does not verify: timestamp.json: malformed metadata")
                                && err.contains("attest trusted-root --verify-only")
                                && err.contains("will not fall back"),
                            "{case}: {err}"
                        );
                    }
                    CacheState::Expired => {
                        assert_eq!(result, Ok(RootSource::Embedded), "{case}");
                        assert!(
                            notes.len() == 1
                                && notes[0].starts_with(prefix)
                                && notes[0].contains(
                                    "verifies but has expired (timestamp metadata expired at"
                                ),
                            "{case}: {notes:?}"
                        );
                    }
                    CacheState::Missing => {
                        assert_eq!(result, Ok(RootSource::Embedded), "{case}");
                        assert!(
                            notes.len() == 1
                                && notes[0].starts_with(prefix)
                                && notes[0].contains("no TUF cache for"),
                            "{case}: {notes:?}"
                        );
                    }
                }
            }
        }
    }
}

/// A GHE.com tenant's root is the target `<trust domain>.trusted_root.json`
/// of GitHub's repository; no snapshot of it is embedded, so without TUF
/// there is no root at all (never github.com's instead).
#[test]
fn tenant_targets_are_named_by_trust_domain_and_have_no_embedded_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("repos");
    let target_file = Path::new(SHARED.as_str()).join("testdata/trust/github_trusted_root.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf/make_repos.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .arg(&target_file)
        .env("TUF_TARGET_NAME", "acme.trusted_root.json")
        .status()
        .unwrap();
    assert!(status.success());
    let server = StaticServer::start(&out);
    let tenant = TufRepository {
        url: format!("{}/happy", server.base),
        initial_root: std::fs::read(out.join("initial_root.json")).unwrap(),
        ..TufRepository::github_tenant("acme")
    };
    assert_eq!(tenant.target, "acme.trusted_root.json");
    let cache = tempfile::tempdir().unwrap();
    let t = fetch_target(&tenant, &opts(cache.path())).unwrap();
    assert_eq!(t.bytes, std::fs::read(&target_file).unwrap());
    // The github.com target name does not exist in that repository.
    let plain = TufRepository {
        target: "trusted_root.json".into(),
        ..tenant.clone()
    };
    assert!(fetch_target(&plain, &opts(cache.path())).is_err());

    // Offline with no cache: an error naming the way out, not github.com's root.
    let store = attest::trust::TrustStore::tuf_with_github(
        true,
        FetchOptions {
            offline: true,
            ..opts(tempfile::tempdir().unwrap().path())
        },
        Some("acme"),
    );
    let github = store
        .instances()
        .iter()
        .find(|i| i.organization == attest::trust::GITHUB_ORG)
        .unwrap();
    let err = github.prepared().err().unwrap().to_string();
    assert!(
        err.contains("acme.trusted_root.json") && err.contains("--custom-trusted-root"),
        "{err}"
    );
}
