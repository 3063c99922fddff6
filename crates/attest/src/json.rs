//! Strict JSON: an object that names a member twice is refused.
//!
//! RFC 8259 leaves duplicate names to the parser, and parsers disagree:
//! serde_json keeps the last, some keep the first, protojson (gh) refuses.
//! A bundle whose `dsseEnvelope` appears twice could be verified through one
//! and reported through the other, so every document from outside (bundles,
//! in-toto statements, trusted roots, API responses) is checked with
//! [`check_unique_keys`] before it is used.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

/// Why a document is not strict JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrictJsonError {
    /// A member name appears twice in one object.
    #[error("duplicate key {key:?} in {path} (a JSON object must name each member once)")]
    DuplicateKey {
        /// The repeated name.
        key: String,
        /// Where the object is, as `a.b[2].c` (`the top-level object` at the top).
        path: String,
    },
    /// Not JSON at all (the caller's own parser says more).
    #[error("{0}")]
    Syntax(String),
}

/// Check that no object in `text` names a member twice. Syntax errors are
/// reported too, but callers usually parse first and give their own message.
pub fn check_unique_keys(text: &[u8]) -> Result<(), StrictJsonError> {
    walk(
        serde_json::Deserializer::from_slice(text),
        0,
        &mut |_, _| {},
    )
    .map(|_| ())
}

/// The kind of a JSON value, and an array's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array(usize),
    Object,
}

impl JsonKind {
    /// As error messages name it ("an array").
    pub(crate) fn describe(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object => "an object",
        }
    }
}

/// [`check_unique_keys`], telling `probe` the kind of each object member it
/// passes within `depth` members of the top (by the member names leading to
/// it; members inside arrays are not told), and returning the kind of the
/// whole document. One pass then gives a caller the shape it needs without
/// building the document's tree.
pub(crate) fn check_unique_keys_probing(
    text: &str,
    depth: usize,
    probe: &mut dyn FnMut(&[Seg<'_>], JsonKind),
) -> Result<JsonKind, StrictJsonError> {
    // From text already known to be UTF-8, the parser skips validating
    // every string again (a bundle is mostly long base64 strings).
    walk(serde_json::Deserializer::from_str(text), depth, probe)
}

fn walk<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    depth: usize,
    probe: &mut dyn FnMut(&[Seg<'_>], JsonKind),
) -> Result<JsonKind, StrictJsonError> {
    let mut found = None;
    let result = Walk {
        path: &mut Vec::new(),
        found: &mut found,
        depth,
        probe,
    }
    .deserialize(&mut de);
    if let Some(e) = found {
        return Err(e);
    }
    let kind = result.map_err(|e| StrictJsonError::Syntax(e.to_string()))?;
    de.end()
        .map_err(|e| StrictJsonError::Syntax(e.to_string()))?;
    Ok(kind)
}

/// A path segment: a member name (borrowed from the text unless it has
/// escapes) or an array index.
pub(crate) enum Seg<'t> {
    Key(Cow<'t, str>),
    Index(usize),
}

fn render(path: &[Seg<'_>]) -> String {
    if path.is_empty() {
        return "the top-level object".into();
    }
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                // Member names are outside text: a newline or an escape
                // sequence in one must not reach the terminal (found by the
                // admission fuzz target).
                s.push_str(&crate::text::remote_text(k));
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Walks a value, remembering where it is, and stops at the first duplicate.
struct Walk<'a, 't> {
    path: &'a mut Vec<Seg<'t>>,
    found: &'a mut Option<StrictJsonError>,
    depth: usize,
    probe: &'a mut dyn FnMut(&[Seg<'_>], JsonKind),
}

impl<'t> Walk<'_, 't> {
    fn inner(&mut self) -> Walk<'_, 't> {
        Walk {
            path: self.path,
            found: self.found,
            depth: self.depth,
            probe: &mut *self.probe,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, 'de> {
    type Value = JsonKind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonKind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, 'de> {
    type Value = JsonKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<JsonKind, E> {
        Ok(JsonKind::Bool)
    }
    fn visit_i64<E>(self, _: i64) -> Result<JsonKind, E> {
        Ok(JsonKind::Number)
    }
    fn visit_u64<E>(self, _: u64) -> Result<JsonKind, E> {
        Ok(JsonKind::Number)
    }
    fn visit_f64<E>(self, _: f64) -> Result<JsonKind, E> {
        Ok(JsonKind::Number)
    }
    fn visit_str<E>(self, _: &str) -> Result<JsonKind, E> {
        Ok(JsonKind::String)
    }
    fn visit_unit<E>(self) -> Result<JsonKind, E> {
        Ok(JsonKind::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<JsonKind, A::Error> {
        let mut i = 0;
        loop {
            self.path.push(Seg::Index(i));
            let next = seq.next_element_seed(self.inner());
            self.path.pop();
            if next?.is_none() {
                return Ok(JsonKind::Array(i));
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<JsonKind, A::Error> {
        // The names of a bundle's objects are few and short: a list beats
        // hashing them, and names without escapes are borrowed from the
        // text. A hostile object with thousands of members moves to a set
        // (a list would make it quadratic).
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        let mut many: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key_seed(Name)? {
            let repeated = match &mut many {
                Some(set) => !set.insert(key.clone()),
                None if seen.contains(&key) => true,
                None if seen.len() < SMALL_OBJECT => {
                    seen.push(key.clone());
                    false
                }
                None => {
                    let mut set: HashSet<_> = seen.drain(..).collect();
                    set.insert(key.clone());
                    many = Some(set);
                    false
                }
            };
            if repeated {
                *self.found = Some(StrictJsonError::DuplicateKey {
                    key: key.into_owned(),
                    path: render(self.path),
                });
                return Err(A::Error::custom("duplicate key"));
            }
            self.path.push(Seg::Key(key));
            let kind = map.next_value_seed(self.inner());
            if let Ok(kind) = kind {
                if self.path.len() <= self.depth
                    && self.path.iter().all(|s| matches!(s, Seg::Key(_)))
                {
                    (self.probe)(self.path, kind);
                }
            }
            self.path.pop();
            kind?;
        }
        Ok(JsonKind::Object)
    }
}

/// Members an object may have before [`Walk`] keeps its names in a set.
const SMALL_OBJECT: usize = 16;

/// A member name, borrowed from the text when it has no escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(name))
    }

    // A name with escapes, decoded into the parser's scratch space.
    fn visit_str<E>(self, name: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(name.to_owned()))
    }
}

/// JSON text without the whitespace between tokens (string escapes stay
/// byte for byte, as Go's `json.Compact` leaves them), fed to `feed` in
/// pieces: pretty and compact copies of a document give the same bytes
/// (short of different escapes for the same string), without building the
/// document or a copy of the text.
pub(crate) fn without_layout(text: &[u8], mut feed: impl FnMut(&[u8])) {
    let (mut i, mut run) = (0, 0);
    while i < text.len() {
        match text[i] {
            b'"' => {
                // To the closing quote, stepping over escapes.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &text[i..]) {
                        // An escape cut off by the end stops at the end.
                        Some(k) if text[i + k] == b'\\' => i = (i + k + 2).min(text.len()),
                        Some(k) => {
                            i += k + 1;
                            break;
                        }
                        None => {
                            i = text.len();
                            break;
                        }
                    }
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                feed(&text[run..i]);
                i += 1;
                run = i;
            }
            _ => i += 1,
        }
    }
    feed(&text[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(text: &str) -> String {
        let mut out = Vec::new();
        without_layout(text.as_bytes(), |part| out.extend_from_slice(part));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn layout_goes_and_strings_stay() {
        let value = serde_json::json!({"a b": [1, {"c": "x \" \\\\ y\n"}], "d": "  "});
        let compact = value.to_string();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert_ne!(compact, pretty);
        assert_eq!(stripped(&pretty), compact);
        assert_eq!(stripped(&compact), compact);
        // A cut-off string or escape ends the text without reading past it.
        assert_eq!(stripped("{\"a\": \"b \\"), "{\"a\":\"b \\");
        assert_eq!(stripped("\"open "), "\"open ");
    }

    #[test]
    fn member_names_in_the_path_are_printable() {
        let e = check_unique_keys(b"{\"a\\nb\\u001b[2J\": {\"k\": 1, \"k\": 2}}")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "{e}");
        assert!(e.contains("a\\nb\\x1b[2J.k") || e.contains("a\\nb"), "{e}");
    }

    #[test]
    fn duplicates_are_named_with_their_path() {
        assert_eq!(check_unique_keys(br#"{"a":1,"b":[{"c":1}]}"#), Ok(()));
        assert_eq!(
            check_unique_keys(br#"{"a":1,"a":2}"#),
            Err(StrictJsonError::DuplicateKey {
                key: "a".into(),
                path: "the top-level object".into()
            })
        );
        assert_eq!(
            check_unique_keys(br#"{"x":{"y":[1,{"k":1,"k":1}]}}"#),
            Err(StrictJsonError::DuplicateKey {
                key: "k".into(),
                path: "x.y[1]".into()
            })
        );
        // Escapes are decoded before comparing: "\u0061" is "a".
        assert!(matches!(
            check_unique_keys(br#"{"a":1,"\u0061":2}"#),
            Err(StrictJsonError::DuplicateKey { .. })
        ));
        // The same name in sibling objects is fine.
        assert_eq!(check_unique_keys(br#"[{"a":1},{"a":2}]"#), Ok(()));
    }

    #[test]
    fn duplicates_are_found_in_small_and_large_objects_alike() {
        // Up to SMALL_OBJECT names are kept in a list, past it in a set:
        // a repeat is found on either side of the switch, escaped or not,
        // and the path through an escaped name is kept.
        for members in [2, SMALL_OBJECT, SMALL_OBJECT + 1, 5_000] {
            let names: Vec<String> = (0..members).map(|i| format!("\"k{i}\":{i}")).collect();
            let object = format!("{{{}}}", names.join(","));
            assert_eq!(check_unique_keys(object.as_bytes()), Ok(()), "{members}");
            for (first, again) in [("k0", "k0"), ("k1", "\\u006b1")] {
                let repeated = format!("{{\"x\\u0020y\":{{{},\"{again}\":0}}}}", names.join(","));
                assert_eq!(
                    check_unique_keys(repeated.as_bytes()),
                    Err(StrictJsonError::DuplicateKey {
                        key: first.into(),
                        path: "x y".into()
                    }),
                    "{members} members, {again}"
                );
            }
        }
    }
    #[test]
    fn syntax_errors_and_trailing_data_are_errors() {
        assert!(matches!(
            check_unique_keys(b"{\"a\":"),
            Err(StrictJsonError::Syntax(_))
        ));
        assert!(matches!(
            check_unique_keys(b"{} {}"),
            Err(StrictJsonError::Syntax(_))
        ));
        let deep = "[".repeat(100_000);
        assert!(check_unique_keys(deep.as_bytes()).is_err());
    }
}
