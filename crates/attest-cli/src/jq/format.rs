//! gh's printing of `--jq` results (`pkg/jq` with gojq), which differs from
//! jq in ways scripts can see:
//!
//! - each result on its own line; strings raw, `null` as an empty line,
//!   booleans as `true`/`false`;
//! - a non-integral number on its own is printed with exactly two decimals
//!   (`1.5` → `1.50`), an integral one without any (`1e21` →
//!   `1000000000000000000000`, infinity → `+Inf`, NaN → `NaN`);
//! - arrays and objects go through Go's `encoding/json`: object keys sorted,
//!   compact (indented by two spaces when stdout is a terminal), `<`, `>`,
//!   `&`, U+2028 and U+2029 escaped as `\u003c`…, numbers in Go's float
//!   format (`1e+21`, `1e-7`), and NaN or infinity inside them an error.

use std::fmt::Write as _;

use jaq_json::{Num, Val};

use super::error::JqError;

/// Deepest value nesting we encode; deeper values (built by a filter such as
/// `reduce range(n) as $i (null; [.])`) are an error instead of a crash.
const MAX_VALUE_NESTING: usize = 10_000;

/// One result as gh prints it (`jsonScalarToString`, else `json.Marshal` /
/// `json.MarshalIndent`).
pub(super) fn write_result(v: &Val, indent: bool, out: &mut Vec<u8>) -> Result<(), JqError> {
    match v {
        Val::Null => {}
        Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::TStr(s) | Val::BStr(s) => out.extend_from_slice(s),
        Val::Num(n) => match number(n) {
            Number::Float(f) => out.extend_from_slice(scalar_float(f).as_bytes()),
            Number::Int(s) => out.extend_from_slice(s.as_bytes()),
        },
        Val::Arr(_) | Val::Obj(_) => write_json(v, indent, 0, out)?,
    }
    Ok(())
}

enum Number {
    Int(String),
    Float(f64),
}

/// gojq's view of a jaq number: integers stay integers, decimal literals
/// (`1.5`, `1e1000`) are float64.
fn number(n: &Num) -> Number {
    match n {
        Num::Int(i) => Number::Int(i.to_string()),
        Num::BigInt(i) => Number::Int(i.to_string()),
        Num::Float(f) => Number::Float(*f),
        Num::Dec(s) => Number::Float(s.parse().unwrap_or(f64::NAN)),
    }
}

/// Go's `jsonScalarToString` for a float64: `FormatFloat(f, 'f', 0)` when
/// integral, else `FormatFloat(f, 'f', 2)`.
fn scalar_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if f.trunc() == f {
        format!("{f:.0}")
    } else {
        round_half_even_2(f)
    }
}

/// `FormatFloat(f, 'f', 2)`: the exact binary value rounded to two
/// decimals, ties to even (Go's decimal rounding), e.g. 0.125 → `0.12`.
fn round_half_even_2(f: f64) -> String {
    // Rust prints the exact decimal expansion of an f64 with enough digits
    // (at most 1074 after the point), so the tie test is exact.
    let exact = format!("{f:.1100}");
    let (int_part, frac) = exact.split_once('.').unwrap_or((&exact, ""));
    let frac = frac.as_bytes();
    let (keep, rest) = frac.split_at(2.min(frac.len()));
    let first = rest.first().copied().unwrap_or(b'0');
    let beyond_half = rest.iter().skip(1).any(|&d| d != b'0');
    let last_digit = keep.last().copied().unwrap_or(b'0');
    let round_up = first > b'5' || (first == b'5' && (beyond_half || (last_digit - b'0') % 2 == 1));
    let negative = int_part.starts_with('-');
    let digits: String =
        int_part.trim_start_matches('-').to_string() + std::str::from_utf8(keep).unwrap_or("00");
    let mut digits: Vec<u8> = digits.into_bytes();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - 2;
    let mut s = String::new();
    if negative {
        s.push('-');
    }
    s.push_str(std::str::from_utf8(&digits[..split]).unwrap_or("0"));
    s.push('.');
    s.push_str(std::str::from_utf8(&digits[split..]).unwrap_or("00"));
    s
}

/// Go's `encoding/json` float64 encoding: shortest digits, exponent form
/// below 1e-6 and from 1e21, exponent without leading zeros when negative.
fn go_json_float(f: f64) -> Result<String, JqError> {
    if !f.is_finite() {
        let shown = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(JqError(format!("json: unsupported value: {shown}")));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust `{:e}` gives the shortest digits too: `1e21`, `1.5e-7`.
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        // Go writes at least two exponent digits, then strips the leading
        // zero of a negative one: e+21, e-7, e-10.
        let digits = if sign == '+' && digits.len() < 2 {
            format!("0{digits}")
        } else {
            digits.to_string()
        };
        Ok(format!("{mantissa}e{sign}{digits}"))
    } else {
        Ok(format!("{f}"))
    }
}

/// `json.Marshal` (compact, `indent` None) or `json.MarshalIndent(v, "",
/// "  ")` of a jaq value: object keys sorted by their bytes, as Go sorts
/// map keys.
fn write_json(v: &Val, indent: bool, depth: usize, out: &mut Vec<u8>) -> Result<(), JqError> {
    if depth > MAX_VALUE_NESTING {
        return Err(JqError(format!(
            "json: value nested more than {MAX_VALUE_NESTING} levels deep"
        )));
    }
    let newline = |out: &mut Vec<u8>, depth: usize| {
        if indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', 2 * depth));
        }
    };
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::Num(n) => match number(n) {
            Number::Int(s) => out.extend_from_slice(s.as_bytes()),
            Number::Float(f) => out.extend_from_slice(go_json_float(f)?.as_bytes()),
        },
        Val::TStr(s) | Val::BStr(s) => write_go_string(s, out),
        Val::Arr(items) => {
            if items.is_empty() {
                out.extend_from_slice(b"[]");
                return Ok(());
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                write_json(item, indent, depth + 1, out)?;
            }
            newline(out, depth);
            out.push(b']');
        }
        Val::Obj(map) => {
            if map.is_empty() {
                out.extend_from_slice(b"{}");
                return Ok(());
            }
            let mut entries: Vec<(Vec<u8>, &Val)> =
                map.iter().map(|(k, v)| (key_bytes(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                write_go_string(&key, out);
                out.push(b':');
                if indent {
                    out.push(b' ');
                }
                write_json(value, indent, depth + 1, out)?;
            }
            newline(out, depth);
            out.push(b'}');
        }
    }
    Ok(())
}

/// An object key as text. jaq allows non-string keys, gojq does not; such a
/// key is shown as its compact JSON rather than failing.
fn key_bytes(k: &Val) -> Vec<u8> {
    match k {
        Val::TStr(s) | Val::BStr(s) => s.to_vec(),
        other => {
            let mut v = Vec::new();
            // A key that cannot be encoded (NaN) still needs some name.
            if write_json(other, false, 0, &mut v).is_err() {
                v = b"null".to_vec();
            }
            v
        }
    }
}

/// Go's `encoding/json` string encoding with HTML escaping (what
/// `json.Marshal` does): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// controls and `<`, `>`, `&`, U+2028, U+2029 as `\u00XX`/`\u20XX`, and each
/// byte of invalid UTF-8 as `\ufffd`.
fn write_go_string(bytes: &[u8], out: &mut Vec<u8>) {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\u{8}' => s.push_str("\\b"),
                '\u{c}' => s.push_str("\\f"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    let _ = write!(s, "\\u{:04x}", c as u32);
                }
                c if (c as u32) < 0x20 => {
                    let _ = write!(s, "\\u{:04x}", c as u32);
                }
                c => s.push(c),
            }
        }
        for _ in chunk.invalid() {
            s.push_str("\\ufffd");
        }
    }
    s.push('"');
    out.extend_from_slice(s.as_bytes());
}
