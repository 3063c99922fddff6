//! Bundle files read as a stream: one JSON value at a time, never the whole
//! file, so a JSON Lines file of a hundred thousand bundles costs the memory
//! of the bundles in flight, not of the file.
//!
//! The splitter only finds where each top-level JSON value ends (tracking
//! brackets outside strings); the value itself is parsed, with every check,
//! by [`crate::bundle::parse_bundle`]. [`crate::bundle::split_bundles`] (a
//! file already in memory) uses the same splitter, so both paths split a
//! file the same way.

use std::fmt;
use std::io::Read;

use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle, MAX_BUNDLE_BYTES};

/// How much is read from the file at a time.
const READ_SIZE: usize = 64 * 1024;

/// One bundle's JSON text as split from its file, not yet parsed.
#[derive(Debug, Clone)]
pub struct RawBundle {
    /// The JSON value's text.
    pub text: String,
    /// Where it starts.
    pub origin: BundleOrigin,
}

impl RawBundle {
    /// Parse it, with every check [`parse_bundle`] makes.
    pub fn parse(&self) -> Result<LoadedBundle, BundleError> {
        parse_bundle(&self.text, self.origin.clone())
    }
}

/// Why a bundle file stopped being readable part-way (an I/O error, bytes
/// that are not UTF-8). Unlike a [`BundleError`], which concerns one bundle,
/// this ends the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// The file and line.
    pub origin: String,
    /// What went wrong.
    pub detail: String,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.detail)
    }
}

impl std::error::Error for StreamError {}

/// What the splitter yields: a bundle's text, a bundle that cannot be used
/// (too large, not JSON), or the end of a readable file.
pub type StreamItem = Result<Result<RawBundle, BundleError>, StreamError>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An object or array: ends when its brackets balance.
    Nested,
    /// A string at the top level: ends at its closing quote.
    Text,
    /// A number, literal or garbage: ends at whitespace or a bracket.
    Bare,
}

/// The top-level JSON values of a bundle file, one at a time, with the line
/// each starts on. Blank lines and pretty-printed (multi-line) values are
/// tolerated; the last value needs no newline. Text that is not JSON ends
/// the split after one error naming its line, as does a value cut off by the
/// end of the file. A value over [`MAX_BUNDLE_BYTES`] is skipped (never held
/// in memory) and reported as too large.
pub struct BundleStream<R> {
    reader: R,
    source: String,
    buf: Vec<u8>,
    /// Scan position in `buf`.
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
    index: usize,
    eof: bool,
    done: bool,
    /// Bytes read so far (for offsets in messages).
    consumed: u64,
}

impl<R: Read> BundleStream<R> {
    /// Split the bundles of `reader`; `source` names it in messages.
    pub fn new(reader: R, source: &str) -> Self {
        Self {
            reader,
            source: source.to_string(),
            buf: Vec::new(),
            pos: 0,
            line: 1,
            index: 0,
            eof: false,
            done: false,
            consumed: 0,
        }
    }

    /// Read more bytes after dropping those before `keep`; false at the end
    /// of the file.
    fn fill(&mut self, keep: usize) -> Result<bool, StreamError> {
        self.consumed += keep as u64;
        self.buf.drain(..keep);
        self.pos -= keep;
        if self.eof {
            return Ok(false);
        }
        let old = self.buf.len();
        self.buf.resize(old + READ_SIZE, 0);
        let n = loop {
            match self.reader.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(StreamError {
                        origin: format!("{}:{}", self.source, self.line),
                        detail: crate::text::io_error(&e),
                    });
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn next_value(&mut self) -> Result<Option<Result<RawBundle, BundleError>>, StreamError> {
        // Skip whitespace to the next value.
        loop {
            while self.pos < self.buf.len() && self.buf[self.pos].is_ascii_whitespace() {
                if self.buf[self.pos] == b'\n' {
                    self.line += 1;
                }
                self.pos += 1;
            }
            if self.pos < self.buf.len() {
                break;
            }
            if !self.fill(self.pos)? {
                return Ok(None);
            }
        }
        let start_line = self.line;
        let kind = match self.buf[self.pos] {
            b'{' | b'[' => Kind::Nested,
            b'"' => Kind::Text,
            _ => Kind::Bare,
        };
        // `start` is where the value begins in `buf`; once the value is too
        // large it is no longer kept and `start` follows the scan.
        let mut start = self.pos;
        let mut skipped = 0usize;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut complete = false;
        'scan: loop {
            while self.pos < self.buf.len() {
                if in_string && !escaped {
                    // Most of a bundle is base64 inside strings: jump to the
                    // next byte that can matter there.
                    match memchr::memchr3(b'"', b'\\', b'\n', &self.buf[self.pos..]) {
                        Some(skip) => self.pos += skip,
                        None => {
                            self.pos = self.buf.len();
                            break;
                        }
                    }
                }
                let b = self.buf[self.pos];
                if b == b'\n' {
                    self.line += 1;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if kind == Kind::Text {
                            self.pos += 1;
                            complete = true;
                            break 'scan;
                        }
                    }
                } else {
                    match kind {
                        Kind::Bare if self.pos > start || skipped > 0 => {
                            if b.is_ascii_whitespace() || b"{}[]\",".contains(&b) {
                                // The delimiter is not part of the token.
                                if b == b'\n' {
                                    self.line -= 1;
                                }
                                complete = true;
                                break 'scan;
                            }
                        }
                        Kind::Bare => {}
                        _ => match b {
                            b'"' => in_string = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    self.pos += 1;
                                    complete = true;
                                    break 'scan;
                                }
                            }
                            _ => {}
                        },
                    }
                }
                self.pos += 1;
            }
            let held = self.pos - start;
            if skipped + held > MAX_BUNDLE_BYTES {
                // Too large to hold: keep scanning for its end, holding nothing.
                skipped += held;
                start = self.pos;
            }
            let more = self.fill(start)?;
            start = 0;
            if !more {
                break;
            }
        }
        self.index += 1;
        let origin = BundleOrigin {
            source: self.source.clone(),
            line: start_line,
            index: self.index,
        };
        let size = skipped + (self.pos - start);
        if size > MAX_BUNDLE_BYTES {
            if !complete {
                self.done = true;
            }
            return Ok(Some(Err(BundleError::TooLarge {
                origin: origin.to_string(),
                size,
                limit: MAX_BUNDLE_BYTES,
            })));
        }
        let bytes = &self.buf[start..self.pos];
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.to_string(),
            Err(e) => {
                self.done = true;
                let at = self.consumed + (start + e.valid_up_to()) as u64;
                let line = start_line
                    + bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                return Err(StreamError {
                    origin: format!("{}:{line}", self.source),
                    detail: format!(
                        "not UTF-8 text (invalid byte at offset {at}); expected Sigstore bundle JSON"
                    ),
                });
            }
        };
        // The bytes before `pos` are dropped by the next `fill`, once per
        // read rather than once per value.
        if !complete || kind == Kind::Bare {
            // Cut off by the end of the file, or a bare token: parse it for
            // serde's own message. Text that is not JSON ends the split.
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                self.done = true;
                return Ok(Some(Err(BundleError::Json {
                    origin: origin.to_string(),
                    detail: e.to_string(),
                })));
            }
        }
        Ok(Some(Ok(RawBundle { text, origin })))
    }
}

impl<R: Read> Iterator for BundleStream<R> {
    type Item = StreamItem;

    fn next(&mut self) -> Option<StreamItem> {
        if self.done {
            return None;
        }
        match self.next_value() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<StreamItem> {
        BundleStream::new(text.as_bytes(), "t.jsonl").collect()
    }

    /// A reader that hands out one byte at a time, so every value crosses
    /// many buffer refills.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    fn texts(items: &[StreamItem]) -> Vec<(usize, String)> {
        items
            .iter()
            .map(|i| match i {
                Ok(Ok(r)) => (r.origin.line, r.text.clone()),
                Ok(Err(e)) => (0, format!("error: {e}")),
                Err(e) => (0, format!("stream: {e}")),
            })
            .collect()
    }

    #[test]
    fn values_lines_and_strings_with_brackets() {
        let text = "\n{\"a\":\"}]\\\"{\"}\n\n[1,\n2]{}\n  \"x y\" 5 true\n{\"b\":\"\\\\\"}\n";
        let want = vec![
            (2, "{\"a\":\"}]\\\"{\"}".to_string()),
            (4, "[1,\n2]".to_string()),
            (5, "{}".to_string()),
            (6, "\"x y\"".to_string()),
            (6, "5".to_string()),
            (6, "true".to_string()),
            // An escaped backslash does not escape the closing quote.
            (7, "{\"b\":\"\\\\\"}".to_string()),
        ];
        assert_eq!(texts(&split(text)), want);
        let slow: Vec<StreamItem> = BundleStream::new(Trickle(text.as_bytes()), "t").collect();
        assert_eq!(texts(&slow), want);
    }

    #[test]
    fn garbage_and_cut_off_values_end_the_split() {
        let items = split("{}\n\n\u{1}garbage {}\n");
        assert_eq!(items.len(), 2);
        let e = items[1].as_ref().unwrap().as_ref().unwrap_err().to_string();
        assert!(e.starts_with("t.jsonl:3: not valid JSON"), "{e}");

        let items = split("{}\n{\"a\": [1,\n");
        assert_eq!(items.len(), 2);
        let e = items[1].as_ref().unwrap().as_ref().unwrap_err().to_string();
        assert!(
            e.starts_with("t.jsonl:2: not valid JSON") && e.contains("EOF"),
            "{e}"
        );
    }

    #[test]
    fn a_value_over_the_limit_is_skipped_without_being_held() {
        let big = format!("[\"{}\"]", "x".repeat(MAX_BUNDLE_BYTES));
        let text = format!("{{}}\n{big}\n{{\"after\":1}}\n");
        let items: Vec<StreamItem> = BundleStream::new(text.as_bytes(), "b.jsonl").collect();
        assert_eq!(items.len(), 3);
        let e = items[1].as_ref().unwrap().as_ref().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "b.jsonl:2: bundle is {} bytes, over the {MAX_BUNDLE_BYTES}-byte limit for one bundle",
                MAX_BUNDLE_BYTES + 4
            )
        );
        assert_eq!(items[2].as_ref().unwrap().as_ref().unwrap().origin.line, 3);
        // Exactly at the limit is not too large.
        let at = format!("[\"{}\"]", "x".repeat(MAX_BUNDLE_BYTES - 4));
        let items: Vec<StreamItem> = BundleStream::new(at.as_bytes(), "b.jsonl").collect();
        assert_eq!(
            items[0].as_ref().unwrap().as_ref().unwrap().text.len(),
            MAX_BUNDLE_BYTES
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_end_the_file_naming_the_line() {
        let items: Vec<StreamItem> =
            BundleStream::new(&b"{}\n{\"a\":\n\"\xff\"}\n{}"[..], "u.jsonl").collect();
        assert_eq!(items.len(), 2);
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(e.origin, "u.jsonl:3");
        assert!(e.detail.contains("invalid byte at offset 10"), "{e}");
    }

    #[test]
    fn read_errors_end_the_file() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let items: Vec<StreamItem> = BundleStream::new(Broken, "x.jsonl").collect();
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].as_ref().unwrap_err().to_string(),
            "x.jsonl:1: disk on fire"
        );
    }
}
