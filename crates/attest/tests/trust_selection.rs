//! Trusted-root selection (`trust/mod.rs`): which roots a store holds, how a
//! root is selected for a certificate, how custom trusted-root files are
//! read, and the order in which TUF-backed roots fall back (repository,
//! verified cache, embedded roots: `next_root_step`). Nothing here touches the
//! network: TUF stores are built offline with an empty cache.

#[path = "support/shared.rs"]
mod shared;
use std::path::Path;
use std::time::Duration;

use attest::trust::tuf::{FetchOptions, TufRepository};
use attest::trust::{
    next_root_step, CacheCheck, InstanceKind, OnlineRefresh, RootSource, RootStep, TrustError,
    TrustStore, EMBEDDED_GITHUB, EMBEDDED_PUBLIC_GOOD, GITHUB_ORG, MAX_TRUSTED_ROOT_FILE_BYTES,
    PUBLIC_GOOD_ORG,
};
use attest_testsign::{TestSigstore, TestSigstoreConfig};

static GH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| shared::shared("testdata/gh"));

fn orgs(store: &TrustStore) -> Vec<&str> {
    store
        .instances()
        .iter()
        .map(|i| i.organization.as_str())
        .collect()
}

fn offline_empty_cache(dir: &Path) -> FetchOptions {
    FetchOptions {
        cache_root: Some(dir.to_path_buf()),
        offline: true,
        use_fresh_cache: false,
        timeout: Duration::from_secs(1),
        now: jiff::Timestamp::now(),
    }
}

#[test]
fn the_file_size_limit_is_sixteen_mebibytes() {
    assert_eq!(MAX_TRUSTED_ROOT_FILE_BYTES, 16 * 1024 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let at_limit = dir.path().join("at.json");
    std::fs::write(&at_limit, vec![b' '; MAX_TRUSTED_ROOT_FILE_BYTES as usize]).unwrap();
    let e = TrustStore::from_file(&at_limit, false)
        .unwrap_err()
        .to_string();
    assert!(!e.contains("limit"), "{e}");
    assert!(e.contains("no trusted root found"), "{e}");
    let over = dir.path().join("over.json");
    std::fs::write(&over, vec![b' '; MAX_TRUSTED_ROOT_FILE_BYTES as usize + 1]).unwrap();
    let e = TrustStore::from_file(&over, false).unwrap_err().to_string();
    assert!(
        e.contains("16777217 bytes, over the 16777216-byte limit"),
        "{e}"
    );
    let small = dir.path().join("small.json");
    std::fs::write(&small, b"  ").unwrap();
    let e = TrustStore::from_file(&small, false)
        .unwrap_err()
        .to_string();
    assert!(!e.contains("limit"), "{e}");
}

#[test]
fn from_file_refuses_what_is_not_a_readable_root_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = TrustStore::from_file(dir.path(), false).unwrap_err();
    assert!(matches!(e, TrustError::Read(_)), "{e:?}");
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let missing = dir.path().join("missing.json");
    assert!(matches!(
        TrustStore::from_file(&missing, false),
        Err(TrustError::Read(_))
    ));
    let binary = dir.path().join("bin.json");
    std::fs::write(&binary, b"{\xff}").unwrap();
    let e = TrustStore::from_file(&binary, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not UTF-8 text (invalid byte at offset 1)"),
        "{e}"
    );
    let store =
        TrustStore::from_file(Path::new(&format!("{}/trusted_root.json", *GH)), false).unwrap();
    assert_eq!(orgs(&store), [PUBLIC_GOOD_ORG]);
    assert!(store.is_custom());
}

#[test]
fn organisations_decide_the_instance() {
    assert_eq!(
        InstanceKind::for_organization(PUBLIC_GOOD_ORG),
        InstanceKind::PublicGood
    );
    assert_eq!(
        InstanceKind::for_organization(GITHUB_ORG),
        InstanceKind::GitHub
    );
    assert_eq!(
        InstanceKind::for_organization("sigstore.dev "),
        InstanceKind::Custom
    );
    assert_eq!(InstanceKind::for_organization(""), InstanceKind::Custom);
    assert_eq!(InstanceKind::PublicGood.name(), "Sigstore public good");
    assert_eq!(InstanceKind::GitHub.name(), "GitHub");
    assert_eq!(InstanceKind::Custom.name(), "custom");
}

#[test]
fn root_source_kinds() {
    assert_eq!(RootSource::Embedded.kind(), "embedded");
    assert_eq!(
        RootSource::File {
            path: "r.json".into(),
            line: 1
        }
        .kind(),
        "custom"
    );
    let tuf = |from_network| RootSource::Tuf {
        url: "https://tuf.example".into(),
        from_network,
        refreshed_at: None,
    };
    assert_eq!(tuf(true).kind(), "tuf");
    assert_eq!(tuf(false).kind(), "tuf-cache");
}

#[test]
fn embedded_stores_with_and_without_public_good() {
    let both = TrustStore::embedded(false);
    assert_eq!(orgs(&both), [PUBLIC_GOOD_ORG, GITHUB_ORG]);
    assert!(!both.is_custom());
    assert_eq!(both.first().unwrap().organization, PUBLIC_GOOD_ORG);
    assert_eq!(both.first().unwrap().kind, InstanceKind::PublicGood);
    let gh_only = TrustStore::embedded(true);
    assert_eq!(orgs(&gh_only), [GITHUB_ORG]);
    assert_eq!(gh_only.first().unwrap().kind, InstanceKind::GitHub);
    // GitHub bundles still select GitHub's root under --no-public-good.
    let gh = gh_only
        .select("O=GitHub, Inc.", &[GITHUB_ORG.into()])
        .unwrap();
    assert_eq!(gh.organization, GITHUB_ORG);
    assert_eq!(
        gh_only
            .select("O=sigstore.dev", &[PUBLIC_GOOD_ORG.into()])
            .unwrap_err(),
        TrustError::PublicGoodRefused
    );
    // Selection picks the instance of that organisation, not the first.
    let pg = both
        .select("O=sigstore.dev", &[PUBLIC_GOOD_ORG.into()])
        .unwrap();
    assert_eq!(pg.kind, InstanceKind::PublicGood);
    let gh = both.select("O=GitHub, Inc.", &[GITHUB_ORG.into()]).unwrap();
    assert_eq!(gh.kind, InstanceKind::GitHub);

    let staging = TrustStore::embedded_staging();
    assert_eq!(orgs(&staging), [PUBLIC_GOOD_ORG]);
    assert!(staging.is_custom());
    let staging_root = staging.first().unwrap().prepared().unwrap();
    let production_root = both.first().unwrap().prepared().unwrap();
    assert_ne!(
        serde_json::to_value(&staging_root.root.certificate_authorities).unwrap(),
        serde_json::to_value(&production_root.root.certificate_authorities).unwrap()
    );
}

#[test]
fn a_missing_root_names_what_to_do() {
    let embedded = TrustStore::embedded(false);
    match embedded.select("O=Evil", &["Evil".into()]) {
        Err(TrustError::NoRootForIssuer { organization, hint }) => {
            assert_eq!(organization, "Evil");
            assert!(hint.contains("--custom-trusted-root"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    let custom = TrustStore::embedded_staging();
    match custom.select("O=Evil", &["Evil".into()]) {
        Err(TrustError::NoRootForIssuer { hint, .. }) => {
            assert!(hint.contains("in the custom trusted root"), "{hint}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn prepared_roots_are_reported_once_built() {
    let store = TrustStore::embedded(false);
    let pg = store.first().unwrap();
    assert!(pg.prepared_if_built().is_none());
    assert!(store.notes().is_empty());
    let prepared = pg.prepared().unwrap();
    assert_eq!(prepared.source, RootSource::Embedded);
    assert!(prepared.note.is_none());
    assert_eq!(
        pg.prepared_if_built().map(|p| &p.source),
        Some(&RootSource::Embedded)
    );
    assert!(store.instances()[1].prepared_if_built().is_none());
    // An embedded root gives no note.
    assert!(store.notes().is_empty());
}

#[test]
fn offline_tuf_without_a_cache_uses_the_embedded_roots_with_a_note() {
    let cache = tempfile::tempdir().unwrap();
    let store = TrustStore::tuf(false, offline_empty_cache(cache.path()));
    assert_eq!(orgs(&store), [PUBLIC_GOOD_ORG, GITHUB_ORG]);
    assert!(!store.is_custom());
    assert!(store.notes().is_empty(), "nothing prepared yet");
    let gh = store
        .select("O=GitHub, Inc.", &[GITHUB_ORG.into()])
        .unwrap();
    let prepared = gh.prepared().unwrap();
    assert_eq!(prepared.source, RootSource::Embedded);
    let notes = store.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("offline: using the embedded GitHub root"),
        "{notes:?}"
    );
    // The fallback is the embedded GitHub root itself.
    let embedded = TrustStore::embedded(false);
    let embedded_gh = embedded
        .select("O=GitHub, Inc.", &[GITHUB_ORG.into()])
        .unwrap()
        .prepared()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&prepared.root).unwrap(),
        serde_json::to_value(&embedded_gh.root).unwrap()
    );

    let gh_only = TrustStore::tuf(true, offline_empty_cache(cache.path()));
    assert_eq!(orgs(&gh_only), [GITHUB_ORG]);
}

#[test]
fn other_tuf_repositories_are_registered_by_organisation() {
    let cache = tempfile::tempdir().unwrap();
    let store = TrustStore::from_tuf_repositories(
        vec![
            (
                "Example Corp".to_string(),
                TufRepository::public_good(),
                EMBEDDED_PUBLIC_GOOD,
            ),
            (
                GITHUB_ORG.to_string(),
                TufRepository::github(),
                EMBEDDED_GITHUB,
            ),
        ],
        offline_empty_cache(cache.path()),
    );
    assert_eq!(orgs(&store), ["Example Corp", GITHUB_ORG]);
    assert_eq!(store.instances()[0].kind, InstanceKind::Custom);
    assert_eq!(store.instances()[1].kind, InstanceKind::GitHub);
    assert!(!store.is_custom());
    let custom = store
        .select("O=Example Corp", &["Example Corp".into()])
        .unwrap();
    assert!(custom.prepared().is_ok());
    assert_eq!(store.notes().len(), 1);
}

#[test]
fn custom_roots_register_each_organisation_once_first_wins() {
    let pg = std::fs::read_to_string(format!("{}/trusted_root.json", *GH)).unwrap();
    let gh = std::fs::read_to_string(format!("{}/github_trusted_root.jsonl", *GH)).unwrap();
    let compact = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s.trim())
            .unwrap()
            .to_string()
    };
    let (pg, gh) = (compact(&pg), compact(&gh));
    let text = format!("{pg}\n{gh}\n{pg}\n");
    let store = TrustStore::from_jsonl(&text, "roots.jsonl", false).unwrap();
    assert_eq!(orgs(&store), [PUBLIC_GOOD_ORG, GITHUB_ORG]);
    assert!(store.is_custom());
    assert_eq!(
        store.instances()[0].prepared().unwrap().source,
        RootSource::File {
            path: "roots.jsonl".into(),
            line: 1
        }
    );
    assert_eq!(
        store.instances()[1].prepared().unwrap().source,
        RootSource::File {
            path: "roots.jsonl".into(),
            line: 2
        }
    );
    assert_eq!(store.instances()[1].kind, InstanceKind::GitHub);
    // GitHub's root alone is fine under --no-public-good.
    let store = TrustStore::from_jsonl(&gh, "gh.jsonl", true).unwrap();
    assert_eq!(orgs(&store), [GITHUB_ORG]);
    // A root with the public-good CA is not.
    let e = TrustStore::from_jsonl(&text, "roots.jsonl", true).unwrap_err();
    assert_eq!(
        e,
        TrustError::PublicGoodInCustomRoot {
            origin: "roots.jsonl:1".into()
        }
    );
}

#[test]
fn a_root_without_certificate_authorities_is_kept_for_keys() {
    let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let mut root = sigstore.trusted_root();
    root["certificateAuthorities"] = serde_json::json!([]);
    let keys_only = root.to_string();
    let text = format!("{keys_only}\n{keys_only}\n");
    let store = TrustStore::from_jsonl(&text, "keys.jsonl", false).unwrap();
    assert_eq!(orgs(&store), [""]);
    assert_eq!(store.first().unwrap().kind, InstanceKind::Custom);
    // With certificate authorities, no empty-organisation instance.
    let with_cas = sigstore.trusted_root_json();
    let store =
        TrustStore::from_jsonl(&format!("{with_cas}\n{keys_only}"), "r.jsonl", false).unwrap();
    assert_eq!(orgs(&store), [PUBLIC_GOOD_ORG, ""]);
    let store = TrustStore::from_jsonl(&with_cas, "r.jsonl", false).unwrap();
    assert_eq!(orgs(&store), [PUBLIC_GOOD_ORG]);
    // Two CAs of the same organisation register it once.
    let mut two = sigstore.trusted_root();
    let ca = two["certificateAuthorities"][0].clone();
    two["certificateAuthorities"]
        .as_array_mut()
        .unwrap()
        .push(ca);
    let store = TrustStore::from_jsonl(&two.to_string(), "r.jsonl", false).unwrap();
    assert_eq!(orgs(&store), [PUBLIC_GOOD_ORG]);
    // A CA with an empty chain is an error.
    let mut empty_chain = sigstore.trusted_root();
    empty_chain["certificateAuthorities"][0]["certChain"]["certificates"] = serde_json::json!([]);
    let e = TrustStore::from_jsonl(&empty_chain.to_string(), "r.jsonl", false).unwrap_err();
    assert!(e.to_string().contains("empty certificate chain"), "{e}");
}

#[test]
fn malformed_roots_name_the_field_without_a_position() {
    let e = TrustStore::from_jsonl("{\"mediaType\":1}\n", "r.jsonl", false).unwrap_err();
    let TrustError::Root { origin, detail } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(origin, "r.jsonl:1");
    assert!(
        detail.starts_with("field mediaType: invalid type"),
        "{detail}"
    );
    assert!(!detail.contains(" at line "), "{detail}");
    let e = TrustStore::from_jsonl("\n\n{oops", "r.jsonl", false).unwrap_err();
    assert!(e.to_string().starts_with("r.jsonl:3:"), "{e}");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    let e = TrustStore::from_jsonl("", "e.jsonl", false).unwrap_err();
    assert_eq!(
        e,
        TrustError::Read("e.jsonl: no trusted root found (the file is empty)".into())
    );
}

/// Every input of the fallback order, row by row: online, the repository is
/// asked first and a verified answer or a failed check ends it; only an
/// unreachable repository leads to the cache. Offline, the repository's
/// outcome is never consulted. A verified cache is used; a missing or only
/// expired one gives the embedded roots; an invalid one is an error.
#[test]
fn the_fallback_order_is_a_total_table() {
    use CacheCheck as C;
    use OnlineRefresh as O;
    use RootStep as S;
    let caches = [
        None,
        Some(C::Verified),
        Some(C::Missing),
        Some(C::Expired),
        Some(C::Invalid),
    ];
    // What the cache leads to, once the cache is what decides.
    let by_cache = |c: Option<CacheCheck>| match c {
        None => S::CheckCache,
        Some(C::Verified) => S::UseCache,
        Some(C::Missing) => S::UseEmbedded,
        Some(C::Expired) => S::UseEmbedded,
        Some(C::Invalid) => S::RefuseCache,
    };
    for cache in caches {
        // Online: the repository's outcome decides unless it was unreachable.
        assert_eq!(next_root_step(false, None, cache), S::RefreshOnline);
        assert_eq!(
            next_root_step(false, Some(O::Verified), cache),
            S::UseNetwork
        );
        assert_eq!(
            next_root_step(false, Some(O::Failed), cache),
            S::RefuseRepository
        );
        assert_eq!(
            next_root_step(false, Some(O::Unreachable), cache),
            by_cache(cache)
        );
        // Offline: never the network, whatever `online` holds.
        for online in [
            None,
            Some(O::Verified),
            Some(O::Unreachable),
            Some(O::Failed),
        ] {
            assert_eq!(
                next_root_step(true, online, cache),
                by_cache(cache),
                "{online:?} {cache:?}"
            );
        }
    }
    // The rows that matter most, spelled out.
    assert_eq!(next_root_step(true, None, Some(C::Invalid)), S::RefuseCache);
    assert_eq!(
        next_root_step(false, Some(O::Unreachable), Some(C::Invalid)),
        S::RefuseCache
    );
    assert_eq!(next_root_step(true, None, Some(C::Expired)), S::UseEmbedded);
    assert_eq!(
        next_root_step(false, Some(O::Failed), Some(C::Verified)),
        S::RefuseRepository
    );
}
