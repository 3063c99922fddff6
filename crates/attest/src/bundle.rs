//! The bundle and statement model used above the verification core.
//!
//! A [`LoadedBundle`] keeps three views of one Sigstore bundle: the JSON value
//! exactly as received (what `--format json` prints back, as gh does), the
//! typed `sigstore_types::Bundle` the core verifies, and, for DSSE envelopes
//! carrying in-toto, the [`Statement`] decoded from the payload bytes as
//! signed. Nothing here is trusted until `verify` says so.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use sigstore_types::{Bundle, SignatureContent};

/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The SLSA provenance v1 predicate type, gh's default `--predicate-type`.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// The statement types we accept. v0.1 statements have the same subject shape.
const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// Largest single bundle we parse. actions/attest allows 16 MB predicates,
/// which base64 grows to about 22 MB.
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024 * 1024;

/// Most transparency-log entries a bundle may carry.
pub const MAX_TLOG_ENTRIES: usize = 32;
/// Most RFC 3161 timestamps a bundle may carry.
pub const MAX_TIMESTAMPS: usize = 32;
/// Most certificates in a v0.1/v0.2 certificate chain.
pub const MAX_CHAIN_CERTIFICATES: usize = 10;

/// Where a bundle came from, for messages: a file (or URL) and the line its
/// JSON value starts on (1 for a plain `.json` file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleOrigin {
    /// File name or URL, as the user gave it; empty for a bundle that could
    /// not be read, whose error names the place instead.
    pub source: String,
    /// 1-based line where the bundle's JSON value starts; 0 where the
    /// source has no lines of its own (a registry, an API response).
    pub line: usize,
    /// 1-based position of the bundle in its source.
    pub index: usize,
}

impl BundleOrigin {
    /// The origin of a bundle that could not be read: only its position is
    /// known here (its [`BundleError`] names the file and line).
    pub fn unread(index: usize) -> Self {
        BundleOrigin {
            source: String::new(),
            line: 0,
            index,
        }
    }
}

impl fmt::Display for BundleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.source)
        } else {
            write!(f, "{}:{}", self.source, self.line)
        }
    }
}

/// One subject of an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subject {
    /// The subject name (a file name, a purl, or empty).
    #[serde(default)]
    pub name: String,
    /// Algorithm name to lowercase-hex digest.
    pub digest: BTreeMap<String, String>,
}

/// An in-toto statement, decoded from the DSSE payload bytes.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `_type`.
    pub statement_type: String,
    /// The subjects, all of them: any may match the artifact.
    pub subjects: Vec<Subject>,
    /// `predicateType`.
    pub predicate_type: String,
    /// The whole statement as a JSON value (what gh prints as `statement`).
    pub value: serde_json::Value,
}

#[derive(Deserialize)]
struct StatementWire {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
}

impl Statement {
    /// Decode a statement from payload bytes.
    pub fn from_payload(payload: &[u8]) -> Result<Self, BundleError> {
        let value: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| BundleError::statement(format!("payload is not JSON: {e}")))?;
        crate::json::check_unique_keys(payload)
            .map_err(|e| BundleError::statement(e.to_string()))?;
        let wire: StatementWire = serde_path_to_error::deserialize(&value)
            .map_err(|e| BundleError::statement(field_error(&e)))?;
        if !STATEMENT_TYPES.contains(&wire.statement_type.as_str()) {
            return Err(BundleError::statement(format!(
                "field _type: {:?} is not an in-toto statement type (expected {})",
                wire.statement_type, STATEMENT_TYPES[0]
            )));
        }
        if wire.subject.is_empty() {
            return Err(BundleError::statement(
                "field subject: the statement has no subjects".into(),
            ));
        }
        Ok(Self {
            statement_type: wire.statement_type,
            subjects: wire.subject,
            predicate_type: wire.predicate_type,
            value,
        })
    }

    /// The subjects whose digest for `algorithm` equals `hex` (compared
    /// ignoring case; in-toto says lowercase, producers do not always obey).
    pub fn subjects_matching<'a>(
        &'a self,
        algorithm: &'a str,
        hex: &'a str,
    ) -> impl Iterator<Item = &'a Subject> + 'a {
        self.subjects.iter().filter(move |s| {
            s.digest
                .get(algorithm)
                .is_some_and(|d| d.eq_ignore_ascii_case(hex))
        })
    }

    /// The digest algorithms the subjects use, sorted and de-duplicated.
    pub fn subject_algorithms(&self) -> Vec<&str> {
        let mut algs: Vec<&str> = self
            .subjects
            .iter()
            .flat_map(|s| s.digest.keys().map(String::as_str))
            .collect();
        algs.sort_unstable();
        algs.dedup();
        algs
    }
}

/// A bundle's JSON exactly as received (key order kept): the text, with
/// its [`serde_json::Value`] built on first use. Most runs never need the
/// value (it is for JSON output and the few checks that read members the
/// typed bundle does not keep), and building it was a tenth of the CPU of a
/// bundle past its signatures. Dereferences to the value.
#[derive(Clone, Default)]
pub struct RawJson {
    text: Option<std::sync::Arc<str>>,
    value: std::sync::OnceLock<serde_json::Value>,
}

impl RawJson {
    /// Text that [`crate::json::check_unique_keys`] accepted (the value is
    /// then sure to parse: the same parser with the same limits).
    pub(crate) fn from_checked_text(text: &str) -> Self {
        RawJson {
            text: Some(text.into()),
            value: std::sync::OnceLock::new(),
        }
    }

    /// The value.
    pub fn value(&self) -> &serde_json::Value {
        self.value.get_or_init(|| {
            self.text
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default()
        })
    }

    /// The text as received, when the bundle was read from text.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
}

impl From<serde_json::Value> for RawJson {
    fn from(value: serde_json::Value) -> Self {
        RawJson {
            text: None,
            value: value.into(),
        }
    }
}

impl std::ops::Deref for RawJson {
    type Target = serde_json::Value;

    fn deref(&self) -> &serde_json::Value {
        self.value()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

impl serde::Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

/// A parsed bundle with its origin and its raw JSON.
#[derive(Debug, Clone)]
pub struct LoadedBundle {
    /// Where it came from.
    pub origin: BundleOrigin,
    /// The JSON exactly as received (key order kept).
    pub raw: RawJson,
    /// The typed bundle for the verification core.
    pub bundle: Bundle,
    /// The in-toto statement, if the content is an in-toto DSSE envelope; an
    /// error if it claims to be one but cannot be decoded. Shared (not
    /// copied) with each [`crate::Verified`] made from this bundle.
    pub statement: Option<Result<std::sync::Arc<Statement>, BundleError>>,
    /// Where the bundle was fetched from by URL (`bundle_url` in gh's JSON).
    pub bundle_url: String,
    /// Who initiated the attestation on GitHub (`initiator` in gh's JSON).
    pub initiator: String,
    /// For a PEP 740 attestation: the distribution file it was served for.
    /// The verifier then holds its statement to PEP 740's rules (one
    /// subject, naming this file; a predicate type PyPI publishes).
    pub distribution: Option<String>,
    /// For a PEP 740 attestation: PyPI's record of the Trusted Publisher,
    /// as text. Unsigned: shown beside the certificate, never trusted.
    pub publisher: Option<String>,
}

impl LoadedBundle {
    /// The bundle's media type string.
    pub fn media_type(&self) -> &'static str {
        self.bundle.media_type.as_str()
    }

    /// The DSSE payload type, if the content is an envelope.
    pub fn payload_type(&self) -> Option<&str> {
        match &self.bundle.content {
            SignatureContent::DsseEnvelope(env) => Some(env.payload_type.as_str()),
            _ => None,
        }
    }
}

/// Why a bundle (or its statement) could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// The JSON text is not valid JSON.
    #[error("{origin}: not valid JSON: {detail}")]
    Json {
        /// Where.
        origin: String,
        /// serde_json's message with line and column.
        detail: String,
    },
    /// Valid JSON, but not a Sigstore bundle.
    #[error("{origin}: not a Sigstore bundle: {detail}")]
    Shape {
        /// Where.
        origin: String,
        /// Which field and what was expected.
        detail: String,
    },
    /// The bundle is larger than we accept.
    #[error("{origin}: bundle is {size} bytes, over the {limit}-byte limit for one bundle")]
    TooLarge {
        /// Where.
        origin: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The DSSE payload claims in-toto but is not a usable statement.
    #[error("in-toto statement: {0}")]
    Statement(String),
}

impl BundleError {
    fn statement(detail: String) -> Self {
        Self::Statement(detail)
    }
}

/// Render a path-aware serde error as `field a.b.c: message`.
fn field_error<E: fmt::Display>(err: &serde_path_to_error::Error<E>) -> String {
    let path = err.path().to_string();
    let inner = err.inner().to_string();
    // serde_json appends " at line L column C" relative to the value; the
    // field path says more, so drop it.
    let inner = match inner.rfind(" at line ") {
        Some(pos) => inner[..pos].to_string(),
        None => inner,
    };
    if path.is_empty() || path == "." {
        inner
    } else {
        format!("field {path}: {inner}")
    }
}

/// Parse one bundle from its JSON text.
pub fn parse_bundle(text: &str, origin: BundleOrigin) -> Result<LoadedBundle, BundleError> {
    if text.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge {
            origin: origin.to_string(),
            size: text.len(),
            limit: MAX_BUNDLE_BYTES,
        });
    }
    // One strict pass checks the syntax and the member names and reads the
    // shape; the JSON tree itself is built only if something asks for it
    // ([`RawJson`]). Any failure takes the slow path, which names it as
    // it always has.
    let mut shape = Shape::default();
    let kind =
        crate::json::check_unique_keys_probing(text, 3, &mut |path, kind| shape.probe(path, kind));
    if kind != Ok(crate::json::JsonKind::Object) {
        return Err(parse_failure(text, origin, kind));
    }
    check_shape(&shape).map_err(|detail| BundleError::Shape {
        origin: origin.to_string(),
        detail,
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let bundle: Bundle =
        serde_path_to_error::deserialize(&mut de).map_err(|e| BundleError::Shape {
            origin: origin.to_string(),
            detail: field_error(&e),
        })?;
    let statement = match &bundle.content {
        SignatureContent::DsseEnvelope(env) if env.payload_type == IN_TOTO_PAYLOAD_TYPE => {
            Some(Statement::from_payload(env.payload.as_bytes()).map(std::sync::Arc::new))
        }
        _ => None,
    };
    Ok(LoadedBundle {
        origin,
        raw: RawJson::from_checked_text(text),
        bundle,
        statement,
        bundle_url: String::new(),
        initiator: String::new(),
        distribution: None,
        publisher: None,
    })
}

/// Why `text` is not a bundle, when the strict pass refused it or found
/// something other than an object: the JSON parser's own message first,
/// then a repeated member, then the kind at the top.
fn parse_failure(
    text: &str,
    origin: BundleOrigin,
    strict: Result<crate::json::JsonKind, crate::json::StrictJsonError>,
) -> BundleError {
    let detail = match strict {
        // The strict pass read the whole text: it is JSON, of this kind.
        Ok(kind) => format!("expected a JSON object, found {}", kind.describe()),
        Err(e) => {
            // It stops at the first repeated member; a syntax error later
            // in the text is named first, as the parser names it.
            // (A full parse, for the same limits as before: depth too.)
            if let Err(syntax) = serde_json::from_str::<serde_json::Value>(text) {
                return BundleError::Json {
                    origin: origin.to_string(),
                    detail: syntax.to_string(),
                };
            }
            e.to_string()
        }
    };
    BundleError::Shape {
        origin: origin.to_string(),
        detail,
    }
}

/// What [`check_shape`] looks at: the kinds of the top-level members that
/// every bundle version shares, and the lengths of the lists that make
/// verification work.
#[derive(Debug, Default)]
struct Shape {
    media_type: Option<crate::json::JsonKind>,
    verification_material: Option<crate::json::JsonKind>,
    tlog_entries: Option<usize>,
    timestamps: Option<usize>,
    chain: Option<usize>,
    contents: usize,
}

impl Shape {
    fn probe(&mut self, path: &[crate::json::Seg<'_>], kind: crate::json::JsonKind) {
        use crate::json::{JsonKind, Seg};
        let mut names = [""; 3];
        for (name, seg) in names.iter_mut().zip(path) {
            if let Seg::Key(k) = seg {
                *name = k.as_ref();
            }
        }
        let length = match kind {
            JsonKind::Array(n) => Some(n),
            _ => None,
        };
        match &names[..path.len()] {
            ["mediaType"] => self.media_type = Some(kind),
            ["verificationMaterial"] => self.verification_material = Some(kind),
            ["dsseEnvelope" | "messageSignature"] => self.contents += 1,
            ["verificationMaterial", "tlogEntries"] => self.tlog_entries = length,
            ["verificationMaterial", "timestampVerificationData", "rfc3161Timestamps"] => {
                self.timestamps = length
            }
            ["verificationMaterial", "x509CertificateChain", "certificates"] => self.chain = length,
            _ => {}
        }
    }
}

/// The top-level shape every bundle version shares, checked first so the
/// common breakages get a plain message instead of a serde enum error.
fn check_shape(shape: &Shape) -> Result<(), String> {
    use crate::json::JsonKind;
    match shape.media_type {
        Some(JsonKind::String) => {}
        // The bundle spec requires it and sigstore-go (gh) and
        // sigstore-python refuse a bundle without it; the core would read
        // it as v0.1, the version with the weakest log-entry rules.
        None => {
            return Err(
                "missing media type (field mediaType: expected application/vnd.dev.sigstore.bundle.v0.3+json or another bundle version)"
                    .into(),
            )
        }
        Some(other) => {
            return Err(format!(
                "field mediaType: expected a string, found {}",
                other.describe()
            ))
        }
    }
    match shape.verification_material {
        Some(JsonKind::Object) => {}
        Some(v) => {
            return Err(format!(
                "field verificationMaterial: expected an object, found {}",
                v.describe()
            ))
        }
        None => {
            return Err("missing verification material (field verificationMaterial: expected the signing certificate or public key)".into())
        }
    }
    // Real bundles carry one log entry, one timestamp and one certificate
    // (v0.1: a short chain); far more is an attempt to make verification do
    // unbounded work, refused before any of it starts.
    for (field, items, limit) in [
        (
            "verificationMaterial.tlogEntries",
            shape.tlog_entries,
            MAX_TLOG_ENTRIES,
        ),
        (
            "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
            shape.timestamps,
            MAX_TIMESTAMPS,
        ),
        (
            "verificationMaterial.x509CertificateChain.certificates",
            shape.chain,
            MAX_CHAIN_CERTIFICATES,
        ),
    ] {
        if let Some(n) = items {
            if n > limit {
                return Err(format!(
                    "field {field}: {n} entries, more than the {limit} attest accepts"
                ));
            }
        }
    }
    match shape.contents {
        0 => Err(
            "missing bundle content (expected a dsseEnvelope or a messageSignature field)".into(),
        ),
        1 => Ok(()),
        _ => Err(
            "both dsseEnvelope and messageSignature are present; a bundle has exactly one".into(),
        ),
    }
}

/// Split a bundle file into bundles: one JSON value, or JSON Lines, where
/// blank lines and pretty-printed (multi-line) values are tolerated and the
/// last line needs no newline. Each value keeps its starting line so errors
/// can name it. A value that fails to parse is returned as an error in its
/// place; text that is not JSON at all stops the split there. The splitter
/// is [`crate::bundle_stream::BundleStream`]'s, which reads files too large
/// to hold.
pub fn split_bundles(text: &str, source: &str) -> Vec<Result<LoadedBundle, BundleError>> {
    crate::bundle_stream::BundleStream::new(text.as_bytes(), source)
        .map(|item| match item {
            Ok(Ok(raw)) => raw.parse(),
            Ok(Err(e)) => Err(e),
            // Text is UTF-8 and reading memory cannot fail; kept total anyway.
            Err(e) => Err(BundleError::Json {
                origin: e.origin,
                detail: e.detail,
            }),
        })
        .collect()
}

pub(crate) fn skip_ws(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// The 1-based line of increasing byte offsets in one text.
#[derive(Default)]
pub(crate) struct LineCounter {
    pos: usize,
    newlines: usize,
}

impl LineCounter {
    /// The line holding byte `pos` (positions must not decrease).
    pub(crate) fn line_at(&mut self, text: &str, pos: usize) -> usize {
        let pos = pos.min(text.len());
        if pos > self.pos {
            self.newlines += text.as_bytes()[self.pos..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.pos = pos;
        }
        self.newlines + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static GH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        // Chosen when the tests are built: the library reads no environment at run time.
        option_env!("ATTEST_SHARED_DIR")
            .filter(|d| !d.is_empty())
            .map_or_else(
                || concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_string(),
                str::to_string,
            )
            + "/testdata/gh"
    });

    fn read(name: &str) -> String {
        std::fs::read_to_string(format!("{}/{name}", *GH)).unwrap()
    }

    #[test]
    fn pretty_json_is_one_bundle() {
        let bundles = split_bundles(&read("sigstore-js-2.1.0-bundle.json"), "b.json");
        assert_eq!(bundles.len(), 1);
        let b = bundles[0].as_ref().unwrap();
        let st = b.statement.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(st.predicate_type, SLSA_PROVENANCE_V1);
        assert_eq!(st.subject_algorithms(), vec!["sha512"]);
        assert_eq!(b.origin.line, 1);
    }

    #[test]
    fn jsonl_with_blank_lines_and_pretty_values() {
        let one = read("sigstore-js-2.1.0-bundle.json");
        let compact: serde_json::Value = serde_json::from_str(&one).unwrap();
        let text = format!("\n{}\n\n{}", compact, one.trim_end());
        let bundles = split_bundles(&text, "x.jsonl");
        assert_eq!(bundles.len(), 2);
        assert_eq!(bundles[0].as_ref().unwrap().origin.line, 2);
        assert_eq!(bundles[1].as_ref().unwrap().origin.line, 4);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}\n{\"mediaType\": 5}\n";
        let bundles = split_bundles(text, "x.jsonl");
        let e1 = bundles[0].as_ref().unwrap_err().to_string();
        assert!(e1.starts_with("x.jsonl:1: not a Sigstore bundle:"), "{e1}");
        let e2 = bundles[1].as_ref().unwrap_err().to_string();
        assert!(
            e2.starts_with("x.jsonl:2:") && e2.contains("mediaType"),
            "{e2}"
        );
    }

    /// The bundle spec requires `mediaType`, and gh (sigstore-go) refuses a
    /// bundle without it: a real bundle with it removed is refused, not read
    /// as v0.1.
    #[test]
    fn a_bundle_without_a_media_type_is_refused() {
        let real = include_str!("../../../examples/sigstore-js-2.1.0-bundle.json");
        let mut value: serde_json::Value = serde_json::from_str(real).unwrap();
        assert!(split_bundles(&value.to_string(), "b.json")
            .remove(0)
            .is_ok());
        value.as_object_mut().unwrap().remove("mediaType");
        let e = split_bundles(&value.to_string(), "b.json")
            .remove(0)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "b.json:1: not a Sigstore bundle: missing media type (field mediaType: expected"
            ),
            "{e}"
        );
    }

    /// A field missing at the top of the statement is named by the serde
    /// message alone; deeper ones carry their path.
    #[test]
    fn statement_errors_name_the_path_below_the_top_only() {
        let top = Statement::from_payload(
            br#"{"subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"p"}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(top, "in-toto statement: missing field `_type`");
        let deep = Statement::from_payload(
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"p"}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            deep,
            "in-toto statement: field subject[0]: missing field `digest`"
        );
    }

    #[test]
    fn unknown_media_type_is_named() {
        let text = r#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=9","verificationMaterial":{},"dsseEnvelope":{}}"#;
        let e = split_bundles(text, "b.json")
            .remove(0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("version=9"), "{e}");
    }

    #[test]
    fn garbage_stops_the_split_with_a_line() {
        let e = split_bundles("\n\n\u{1}\u{2}garbage", "g.json")
            .remove(0)
            .unwrap_err();
        assert!(e.to_string().starts_with("g.json:3: not valid JSON"), "{e}");
        assert!(split_bundles("", "e.json").is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = split_bundles(&text, "d.json").remove(0).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
        let e = split_bundles(&"[".repeat(100_000), "d.json")
            .remove(0)
            .unwrap_err();
        assert!(e.to_string().starts_with("d.json:1: not valid JSON"), "{e}");
    }

    #[test]
    fn statement_needs_subjects_and_type() {
        // Each refusal names its field; both would pass as `is_err()` even
        // if the other check refused them, so the message is asserted.
        let empty = Statement::from_payload(
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}"#,
        )
        .unwrap_err();
        assert_eq!(
            empty,
            BundleError::Statement("field subject: the statement has no subjects".into())
        );
        assert_eq!(
            empty.to_string(),
            "in-toto statement: field subject: the statement has no subjects"
        );
        let wrong_type = Statement::from_payload(
            br#"{"_type":"x","subject":[{"digest":{"sha256":"00"}}],"predicateType":"p"}"#,
        )
        .unwrap_err();
        assert_eq!(
            wrong_type.to_string(),
            "in-toto statement: field _type: \"x\" is not an in-toto statement type \
             (expected https://in-toto.io/Statement/v1)"
        );
        // A subject list and a type that are both wrong: the type is named.
        let both = Statement::from_payload(
            br#"{"_type":"https://in-toto.io/Statement/v2","subject":[],"predicateType":"p"}"#,
        )
        .unwrap_err();
        assert!(both.to_string().contains("field _type: "), "{both}");
        // The older statement type is accepted.
        assert!(Statement::from_payload(
            br#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"00"}}],"predicateType":"p"}"#
        )
        .is_ok());
        let s = Statement::from_payload(br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"AB"}},{"digest":{"sha512":"cd"}}],"predicateType":"p"}"#).unwrap();
        assert_eq!(s.subjects_matching("sha256", "ab").count(), 1);
        assert_eq!(s.subjects_matching("sha512", "cd").count(), 1);
        assert_eq!(s.subjects_matching("sha256", "cd").count(), 0);
    }
}
