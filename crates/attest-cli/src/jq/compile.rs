//! The jaq program for one `--jq` expression: parsed and compiled with
//! jaq's core, standard and JSON definitions, given `$ENV` and its input as
//! gh gives them (numbers in the input are float64, as Go decodes them, so
//! integers beyond 2^53 lose precision as in gh), and parse or compile
//! errors described on one line with gh's positions.

use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{data, Compiler, Filter};
use jaq_json::{Num, Val};

use super::error::{one_line, JqError};

/// Parse and compile `expr`.
pub(super) fn compile(expr: &str) -> Result<Filter<data::JustLut<Val>>, JqError> {
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
    Compiler::default()
        .with_funs(funs)
        .with_global_vars(["$ENV"])
        .compile(modules)
        .map_err(|errs| compile_error(expr, errs))
}

/// The process environment as an object, for `$ENV`.
pub(super) fn environment() -> Val {
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
pub(super) fn from_json(v: &serde_json::Value) -> Val {
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
