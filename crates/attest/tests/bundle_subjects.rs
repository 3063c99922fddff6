//! Tests of the subject matching and bundle splitting of
//! `bundle.rs`: `Statement::subjects_matching`, `subject_algorithms`,
//! `check_shape` (through `parse_bundle`) and `split_bundles`.

use attest::bundle::{parse_bundle, split_bundles, BundleError, BundleOrigin, Statement};
use attest_testsign::{
    sha256_hex, statement, FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use serde_json::{json, Value};

fn origin() -> BundleOrigin {
    BundleOrigin {
        source: "b.json".into(),
        line: 1,
        index: 1,
    }
}

fn signed() -> Value {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let st = statement(
        &[("a", "sha256", &sha256_hex(b"a"))],
        SLSA_PROVENANCE_V1,
        json!({}),
    );
    sigstore.sign_statement(&st, &FulcioClaims::default(), &SignOptions::tlog_only())
}

fn shape_error(bundle: &Value) -> String {
    match parse_bundle(&bundle.to_string(), origin()) {
        Err(BundleError::Shape { origin, detail }) => {
            assert_eq!(origin, "b.json:1");
            detail
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn subjects_match_by_algorithm_and_hex_ignoring_case() {
    let s = Statement::from_payload(
        br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[
            {"name":"a","digest":{"sha256":"AB01","sha512":"ff"}},
            {"name":"b","digest":{"sha256":"cd02"}},
            {"name":"c","digest":{"sha256":"ab01"}},
            {"name":"d","digest":{"gitCommit":"ab01"}}
        ]}"#,
    )
    .unwrap();
    let names = |alg: &str, hex: &str| -> Vec<String> {
        s.subjects_matching(alg, hex)
            .map(|x| x.name.clone())
            .collect()
    };
    assert_eq!(names("sha256", "ab01"), ["a", "c"]);
    assert_eq!(names("sha256", "AB01"), ["a", "c"]);
    assert_eq!(names("sha256", "cd02"), ["b"]);
    assert_eq!(names("sha512", "FF"), ["a"]);
    assert!(names("sha512", "ab01").is_empty());
    assert!(names("sha256", "ab0").is_empty());
    assert!(names("sha384", "ab01").is_empty());
    assert_eq!(s.subject_algorithms(), ["gitCommit", "sha256", "sha512"]);

    let one = Statement::from_payload(
        br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"p","subject":[{"digest":{"sha512":"00"}},{"digest":{"sha512":"11"}}]}"#,
    )
    .unwrap();
    assert_eq!(one.subject_algorithms(), ["sha512"]);
    assert_eq!(one.subjects_matching("sha512", "11").count(), 1);
}

#[test]
fn a_valid_bundle_passes_the_shape_check() {
    let b = signed();
    let loaded = parse_bundle(&b.to_string(), origin()).expect("a valid bundle");
    let st = loaded.statement.expect("in-toto").expect("statement");
    assert_eq!(st.predicate_type, SLSA_PROVENANCE_V1);
    // Without mediaType, the shape check lets the core decide.
    let mut no_media_type = b.clone();
    no_media_type.as_object_mut().unwrap().remove("mediaType");
    if let Err(BundleError::Shape { detail, .. }) =
        parse_bundle(&no_media_type.to_string(), origin())
    {
        assert!(
            !detail.contains("field mediaType: expected a string"),
            "{detail}"
        );
    }
}

#[test]
fn shape_errors_are_plain() {
    let b = signed();

    let mut m = b.clone();
    m["mediaType"] = json!(3);
    assert_eq!(
        shape_error(&m),
        "field mediaType: expected a string, found a number"
    );

    let mut m = b.clone();
    m["verificationMaterial"] = json!([1]);
    assert_eq!(
        shape_error(&m),
        "field verificationMaterial: expected an object, found an array"
    );

    let mut m = b.clone();
    m.as_object_mut().unwrap().remove("verificationMaterial");
    assert!(
        shape_error(&m).starts_with("missing verification material"),
        "{}",
        shape_error(&m)
    );

    let mut m = b.clone();
    m.as_object_mut().unwrap().remove("dsseEnvelope");
    assert_eq!(
        shape_error(&m),
        "missing bundle content (expected a dsseEnvelope or a messageSignature field)"
    );

    let mut m = b.clone();
    m["messageSignature"] = json!({});
    assert_eq!(
        shape_error(&m),
        "both dsseEnvelope and messageSignature are present; a bundle has exactly one"
    );

    let e = parse_bundle("[1]", origin()).unwrap_err();
    assert_eq!(
        e,
        BundleError::Shape {
            origin: "b.json:1".into(),
            detail: "expected a JSON object, found an array".into()
        }
    );
}

#[test]
fn list_limits_refuse_more_than_the_limit_only() {
    let b = signed();
    let entry = b["verificationMaterial"]["tlogEntries"][0].clone();
    let with_entries = |n: usize| {
        let mut m = b.clone();
        m["verificationMaterial"]["tlogEntries"] = Value::Array(vec![entry.clone(); n]);
        m
    };
    let limit = attest::bundle::MAX_TLOG_ENTRIES;
    let over = shape_error(&with_entries(limit + 1));
    assert_eq!(
        over,
        format!(
            "field verificationMaterial.tlogEntries: {} entries, more than the {limit} attest accepts",
            limit + 1
        )
    );
    for n in [1, limit - 1, limit] {
        assert!(
            parse_bundle(&with_entries(n).to_string(), origin()).is_ok(),
            "{n} entries"
        );
    }
}

/// The shape is read in the same pass that checks member names: a member
/// that is present counts even when it is null, the lists are counted where
/// the bundle format puts them and nowhere else, and the JSON value the
/// bundle keeps is the one that was read.
#[test]
fn the_shape_pass_reads_members_where_they_are() {
    let b = signed();

    let mut m = b.clone();
    m["mediaType"] = Value::Null;
    assert_eq!(
        shape_error(&m),
        "field mediaType: expected a string, found null"
    );
    let mut m = b.clone();
    m["messageSignature"] = Value::Null;
    assert_eq!(
        shape_error(&m),
        "both dsseEnvelope and messageSignature are present; a bundle has exactly one"
    );

    let ts = attest::bundle::MAX_TIMESTAMPS;
    let mut m = b.clone();
    m["verificationMaterial"]["timestampVerificationData"] =
        json!({"rfc3161Timestamps": vec![json!({}); ts + 1]});
    assert_eq!(
        shape_error(&m),
        format!(
            "field verificationMaterial.timestampVerificationData.rfc3161Timestamps: {} entries, more than the {ts} attest accepts",
            ts + 1
        )
    );
    let chain = attest::bundle::MAX_CHAIN_CERTIFICATES;
    let mut m = b.clone();
    m["verificationMaterial"]["x509CertificateChain"] =
        json!({"certificates": vec![json!({}); chain + 1]});
    assert!(
        shape_error(&m).starts_with(&format!(
            "field verificationMaterial.x509CertificateChain.certificates: {} entries",
            chain + 1
        )),
        "{}",
        shape_error(&m)
    );

    // The same names elsewhere are not the bundle's lists.
    let many = Value::Array(vec![json!(1); attest::bundle::MAX_TLOG_ENTRIES + 1]);
    let mut m = b.clone();
    m["tlogEntries"] = many.clone();
    m["verificationMaterial"]["extra"] = json!({"tlogEntries": many.clone()});
    let loaded = parse_bundle(&m.to_string(), origin()).expect("lists elsewhere do not count");
    assert_eq!(*loaded.raw, m);
    assert_eq!(loaded.raw.text(), Some(m.to_string().as_str()));

    // Only an in-toto payload is read as a statement.
    let mut m = b.clone();
    m["dsseEnvelope"]["payloadType"] = json!("text/plain");
    let loaded = parse_bundle(&m.to_string(), origin()).expect("another payload type parses");
    assert!(loaded.statement.is_none());
    assert!(parse_bundle(&b.to_string(), origin())
        .unwrap()
        .statement
        .is_some());

    // Syntax errors and repeated members keep their own messages.
    let text = b.to_string();
    match parse_bundle(&text[..text.len() - 1], origin()) {
        Err(BundleError::Json { detail, .. }) => assert!(detail.contains("EOF"), "{detail}"),
        other => panic!("expected a JSON error, got {other:?}"),
    }
    let doubled = format!("{{\"mediaType\":\"x\",{}", &text[1..]);
    match parse_bundle(&doubled, origin()) {
        Err(BundleError::Shape { detail, .. }) => {
            assert!(detail.contains("duplicate key \"mediaType\""), "{detail}")
        }
        other => panic!("expected a duplicate key, got {other:?}"),
    }
}

#[test]
fn split_bundles_numbers_values_and_lines() {
    let b = signed().to_string();
    let pretty = serde_json::to_string_pretty(&signed()).unwrap();
    let text = format!("\n{b}\n\n{pretty}\n{b}");
    let out = split_bundles(&text, "x.jsonl");
    assert_eq!(out.len(), 3);
    let origins: Vec<(usize, usize)> = out
        .iter()
        .map(|r| {
            let o = &r.as_ref().unwrap().origin;
            assert_eq!(o.source, "x.jsonl");
            (o.index, o.line)
        })
        .collect();
    let pretty_lines = pretty.lines().count();
    assert_eq!(origins, [(1, 2), (2, 4), (3, 4 + pretty_lines)]);

    // A bad value in the middle is kept in its place; the rest goes on.
    let text = format!("{b}\n{{\"mediaType\":5}}\n{b}\n");
    let out = split_bundles(&text, "y.jsonl");
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[2].is_ok());
    assert_eq!(out[2].as_ref().unwrap().origin.index, 3);
    assert!(out[1]
        .as_ref()
        .unwrap_err()
        .to_string()
        .starts_with("y.jsonl:2: not a Sigstore bundle"));

    // Text that is not JSON stops the split there, naming its line.
    let text = format!("{b}\n\nnot json\n{b}\n");
    let out = split_bundles(&text, "z.jsonl");
    assert_eq!(out.len(), 2);
    let e = out[1].as_ref().unwrap_err();
    assert!(
        e.to_string().starts_with("z.jsonl:3: not valid JSON"),
        "{e}"
    );
    assert!(split_bundles("  \n ", "e.jsonl").is_empty());
}
