//! `-q/--jq EXPRESSION`: gh's jq filter over the `--format json` output.
//!
//! The only module that knows about jaq (jaq-core, jaq-std, jaq-json): it
//! compiles an expression, runs it over a `serde_json::Value` and prints the
//! results the way gh 2.103.3 does (`pkg/jq` with gojq), which differs from
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
//!   format (`1e+21`, `1e-7`), and NaN or infinity inside them an error;
//! - numbers in the input are float64 (gh decodes the JSON with Go's
//!   `encoding/json`), so integers beyond 2^53 lose precision as in gh.

use std::fmt::Write as _;
use std::io::Write;

use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::{Num, Val};

/// An expression that does not parse or compile, or a filter that failed
/// while running, described on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JqError(pub String);

impl std::fmt::Display for JqError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest error text we print: a failing filter's message may embed a whole
/// input value (the entire verification result), which would bury the
/// reason; gojq abbreviates the same way.
const MAX_ERROR_CHARS: usize = 300;

/// Why [`run`] stopped early.
#[derive(Debug)]
pub enum RunError {
    /// The filter failed (or its result cannot be encoded as JSON).
    Jq(JqError),
    /// Writing the output failed (for example a closed pipe).
    Write(std::io::Error),
}

impl From<JqError> for RunError {
    fn from(e: JqError) -> Self {
        Self::Jq(e)
    }
}

/// Parse and compile `expr` without running it, so a typo is a usage error
/// before any verification work is done.
pub fn check(expr: &str) -> Result<(), JqError> {
    match on_big_stack(expr, None, false, &mut std::io::sink()) {
        Ok(()) => Ok(()),
        Err(RunError::Jq(e)) => Err(e),
        // Nothing is written without an input.
        Err(RunError::Write(e)) => Err(JqError(e.to_string())),
    }
}

/// Run `expr` over `input`, writing each result on its own line to `out`, as
/// gh does; `indent` (stdout is a terminal) pretty-prints arrays and objects.
/// Results before a failing one are written, as gh streams them.
pub fn run(
    expr: &str,
    input: &serde_json::Value,
    indent: bool,
    out: &mut (impl Write + Send),
) -> Result<(), RunError> {
    on_big_stack(expr, Some(input), indent, out)
}

/// Stack for parsing, compiling and running a filter. jaq and our encoder
/// recurse per nesting level of the expression and of the values it builds;
/// the main thread's 8 MiB overflows (an abort, not an error) at about a
/// thousand nested brackets in a debug build. Only touched pages are used.
const STACK_BYTES: usize = 512 * 1024 * 1024;

/// Deepest bracket nesting accepted in an expression: far beyond any real
/// filter, and well inside [`STACK_BYTES`].
const MAX_EXPR_NESTING: usize = 200;

/// Deepest value nesting we encode; deeper values (built by a filter such as
/// `reduce range(n) as $i (null; [.])`) are an error instead of a crash.
const MAX_VALUE_NESTING: usize = 10_000;

fn on_big_stack(
    expr: &str,
    input: Option<&serde_json::Value>,
    indent: bool,
    out: &mut (impl Write + Send),
) -> Result<(), RunError> {
    let depth = nesting(expr);
    if depth > MAX_EXPR_NESTING {
        return Err(JqError(format!(
            "jq expression nests {depth} levels deep; at most {MAX_EXPR_NESTING} are supported"
        ))
        .into());
    }
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("jq".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || run_with(expr, input, indent, out));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(JqError("the jq filter failed unexpectedly".into()).into())
            }),
            Err(e) => Err(JqError(format!("cannot start the jq filter: {e}")).into()),
        }
    })
}

/// Maximum nesting of `(`, `[` and `{` in `expr`, ignoring string contents
/// roughly (an over-estimate only makes the limit stricter).
fn nesting(expr: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in expr.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn run_with(
    expr: &str,
    input: Option<&serde_json::Value>,
    indent: bool,
    out: &mut impl Write,
) -> Result<(), RunError> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    // The default loader reads no files, so `import`/`include` cannot reach
    // the filesystem; gh's gojq has no module path either.
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(
            &arena,
            File {
                code: expr,
                path: (),
            },
        )
        .map_err(|errs| load_error(expr, errs))?;
    // `$ENV` as in gh (gojq's environment loader); `env` comes from jaq-std.
    let filter = Compiler::default()
        .with_funs(funs)
        .with_global_vars(["$ENV"])
        .compile(modules)
        .map_err(|errs| compile_error(expr, errs))?;
    let Some(input) = input else {
        return Ok(());
    };
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([environment()]));
    for result in filter.id.run((ctx, from_json(input))) {
        let value = match result {
            Ok(v) => v,
            Err(exn) => match exn.get_err() {
                Ok(e) => return Err(runtime_error(&e.to_string()).into()),
                // `halt` ends the output successfully, as in gh; a
                // non-zero halt (`halt_error`) is a failure.
                Err(exn) => match exn.get_halt() {
                    Ok(0) => break,
                    Ok(code) => {
                        return Err(runtime_error(&format!("halt with exit code {code}")).into())
                    }
                    Err(_) => return Err(runtime_error("internal jq control flow escaped").into()),
                },
            },
        };
        let mut line = Vec::new();
        write_result(&value, indent, &mut line)?;
        line.push(b'\n');
        out.write_all(&line).map_err(RunError::Write)?;
    }
    Ok(())
}

/// The process environment as an object, for `$ENV`.
fn environment() -> Val {
    let pairs = std::env::vars_os().map(|(k, v)| {
        (
            Val::from(k.to_string_lossy().into_owned()),
            Val::from(v.to_string_lossy().into_owned()),
        )
    });
    <Val as jaq_core::ValT>::from_map(pairs).unwrap_or_default()
}

/// JSON to a jaq value, with numbers as gh sees them: Go decodes every JSON
/// number to float64. Integers that float64 holds exactly stay integers
/// (they print the same either way and jaq needs integers for indexing);
/// larger ones become floats, rounded as in gh.
fn from_json(v: &serde_json::Value) -> Val {
    use serde_json::Value as J;
    const EXACT: i64 = 1 << 53;
    match v {
        J::Null => Val::Null,
        J::Bool(b) => Val::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) if (-EXACT..=EXACT).contains(&i) => match isize::try_from(i) {
                Ok(i) => Val::Num(Num::Int(i)),
                Err(_) => Val::Num(Num::Float(i as f64)),
            },
            _ => Val::Num(Num::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        J::String(s) => Val::from(s.clone()),
        J::Array(a) => Val::Arr(jaq_json::Rc::new(a.iter().map(from_json).collect())),
        J::Object(o) => {
            let pairs = o.iter().map(|(k, v)| (Val::from(k.clone()), from_json(v)));
            <Val as jaq_core::ValT>::from_map(pairs).unwrap_or_default()
        }
    }
}

/// One result as gh prints it (`jsonScalarToString`, else `json.Marshal` /
/// `json.MarshalIndent`).
fn write_result(v: &Val, indent: bool, out: &mut Vec<u8>) -> Result<(), JqError> {
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

/// A runtime failure on one line, shortened: the message may quote a large
/// value.
fn runtime_error(msg: &str) -> JqError {
    JqError(one_line(msg))
}

fn one_line(msg: &str) -> String {
    let flat: String = msg
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > MAX_ERROR_CHARS {
        let cut: String = flat.chars().take(MAX_ERROR_CHARS).collect();
        format!("{cut} …")
    } else {
        flat
    }
}

/// Byte offset of `part` inside `whole`, if it is a slice of it (jaq reports
/// positions as slices of the expression).
fn offset(whole: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start <= whole.len()).then_some(start)
}

/// "line L, column C" of a byte offset, both from 1, as gh reports them.
fn position(whole: &str, part: &str) -> String {
    let Some(at) = offset(whole, part) else {
        return "unknown position".into();
    };
    let before = whole.get(..at).unwrap_or(whole);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}")
}

/// What a parse error found: the token, or the end of the expression.
fn found(part: &str) -> String {
    let token: String = part.chars().take(20).collect();
    if token.trim().is_empty() {
        "end of input".into()
    } else {
        format!("{:?}", token.split_whitespace().next().unwrap_or(&token))
    }
}

fn load_error<P>(expr: &str, errs: load::Errors<&str, P>) -> JqError {
    let mut first = None;
    for (_file, err) in errs {
        let msg = match err {
            load::Error::Io(items) => items
                .into_iter()
                .next()
                .map(|(path, why)| format!("cannot load module {path:?}: {why}")),
            load::Error::Lex(items) => items.into_iter().next().map(|(expect, part)| {
                let what = match expect {
                    load::lex::Expect::Delim(open) => format!("closing delimiter for {open:?}"),
                    other => other.as_str().to_string(),
                };
                format!(
                    "({}): expected {what}, found {}",
                    position(expr, part),
                    found(part)
                )
            }),
            load::Error::Parse(items) => items.into_iter().next().map(|(expect, part)| {
                format!(
                    "({}): expected {}, found {}",
                    position(expr, part),
                    expect.as_str(),
                    found(part)
                )
            }),
        };
        if first.is_none() {
            first = msg;
        }
    }
    JqError(one_line(&format!(
        "failed to parse jq expression {}",
        first.unwrap_or_else(|| "(unknown error)".into())
    )))
}

fn compile_error<P>(expr: &str, errs: jaq_core::compile::Errors<&str, P>) -> JqError {
    let first = errs
        .into_iter()
        .flat_map(|(_file, errs)| errs)
        .next()
        .map(|(name, undefined)| {
            let arity = match &undefined {
                jaq_core::compile::Undefined::Filter(arity) => format!("/{arity}"),
                _ => String::new(),
            };
            format!(
                "{} not defined: {name}{arity} ({})",
                undefined.as_str(),
                position(expr, name)
            )
        });
    JqError(one_line(&format!(
        "invalid jq expression: {}",
        first.unwrap_or_else(|| "(unknown error)".into())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(expr: &str, input: serde_json::Value) -> Result<String, JqError> {
        let mut buf = Vec::new();
        match run(expr, &input, false, &mut buf) {
            Ok(()) => Ok(String::from_utf8(buf).unwrap()),
            Err(RunError::Jq(e)) => Err(e),
            Err(RunError::Write(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn scalars_print_as_gh_prints_them() {
        let v = serde_json::json!(null);
        // Measured with gh 2.103.3 --jq on a non-terminal stdout.
        for (expr, want) in [
            ("null", "\n"),
            ("true", "true\n"),
            ("1.0", "1\n"),
            ("1.5", "1.50\n"),
            ("1.125", "1.12\n"),
            ("0.125", "0.12\n"),
            ("2.675", "2.67\n"),
            ("1e21", "1000000000000000000000\n"),
            ("1e1000", "+Inf\n"),
            ("-0.0", "-0\n"),
            ("nan", "NaN\n"),
            ("100000000000000000000", "100000000000000000000\n"),
            ("12345678901234567890", "12345678901234567890\n"),
            (r#""a\tb""#, "a\tb\n"),
            ("empty", ""),
            ("[]", "[]\n"),
            ("{}", "{}\n"),
        ] {
            assert_eq!(out(expr, v.clone()).unwrap(), want, "{expr}");
        }
    }

    #[test]
    fn compound_values_follow_go_encoding_json() {
        let v = serde_json::json!(null);
        for (expr, want) in [
            ("[1.5, 1e21, 0.0000001, 1.0]", "[1.5,1e+21,1e-7,1]\n"),
            (
                r#"["<&>\u2028\b\f\u0001"]"#,
                "[\"\\u003c\\u0026\\u003e\\u2028\\b\\f\\u0001\"]\n",
            ),
            (
                r#"{"b":1,"a":[1,{"z":2,"y":3}]}"#,
                "{\"a\":[1,{\"y\":3,\"z\":2}],\"b\":1}\n",
            ),
            ("[12345678901234567890]", "[12345678901234567890]\n"),
        ] {
            assert_eq!(out(expr, v.clone()).unwrap(), want, "{expr}");
        }
        assert_eq!(
            out("[nan]", v.clone()).unwrap_err().0,
            "json: unsupported value: NaN"
        );
        assert_eq!(
            out("[infinite]", v).unwrap_err().0,
            "json: unsupported value: +Inf"
        );
    }

    #[test]
    fn input_numbers_are_float64_as_in_gh() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"big":12345678901234567890,"small":3,"f":0.5}"#).unwrap();
        assert_eq!(out(".big", v.clone()).unwrap(), "12345678901234567168\n");
        assert_eq!(out(".small", v.clone()).unwrap(), "3\n");
        assert_eq!(out(".f", v.clone()).unwrap(), "0.50\n");
        assert_eq!(out("[.f]", v).unwrap(), "[0.5]\n");
    }

    #[test]
    fn indentation_on_a_terminal() {
        let mut buf = Vec::new();
        run("{b:[1,[]],a:{}}", &serde_json::json!(null), true, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    []\n  ]\n}\n"
        );
    }

    #[test]
    fn results_before_an_error_are_written() {
        let mut buf = Vec::new();
        let err = run(
            "1, error(\"boom\"), 2",
            &serde_json::json!(null),
            false,
            &mut buf,
        )
        .unwrap_err();
        assert_eq!(buf, b"1\n");
        assert!(
            matches!(&err, RunError::Jq(e) if e.0.contains("boom")),
            "{err:?}"
        );
        // `halt` ends successfully, as in gh.
        assert_eq!(out("1, halt, 2", serde_json::json!(null)).unwrap(), "1\n");
    }

    #[test]
    fn bad_expressions_are_one_line_errors_without_panicking() {
        for expr in [
            ".[0] |",
            "foo(",
            ".a.b,",
            "\"abc",
            "\"\\(1",
            "[",
            "{",
            "(",
            "$",
            "@",
            "if",
            "undefined_fn",
            "$x",
            "import \"x\" as x; .",
            "include \"x\"; .",
            "\u{0}",
            "💣",
            "\"\\ux\"",
            ".[] as [$a;] | $a",
            "def f: ; f",
            "reduce . as $x",
        ] {
            let err = check(expr).unwrap_err();
            assert!(!err.0.contains('\n'), "{expr}: {err}");
            assert!(!err.0.is_empty(), "{expr}");
        }
        let err = check(".[0] |").unwrap_err();
        assert_eq!(
            err.0,
            "failed to parse jq expression (line 1, column 7): expected term, found end of input"
        );
        assert!(check(".").is_ok());
        // Deep nesting is refused, not a stack overflow (an abort).
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(check(&deep).unwrap_err().0.contains("nests 10000 levels"));
        assert!(check(&format!("{}.{}", "(".repeat(200), ")".repeat(200))).is_ok());
        let err = out(
            "reduce range(20000) as $i (null; [.])",
            serde_json::json!(null),
        );
        assert!(err.unwrap_err().0.contains("nested more than"));
    }

    #[test]
    fn env_is_available_as_in_gh() {
        let home = std::env::var("PATH").unwrap_or_default();
        assert_eq!(
            out("$ENV.PATH", serde_json::json!(null)).unwrap(),
            format!("{home}\n")
        );
        assert_eq!(
            out("env.PATH", serde_json::json!(null)).unwrap(),
            format!("{home}\n")
        );
    }
}
