//! `-q/--jq EXPRESSION`: gh's jq filter over the `--format json` output.
//!
//! The only module that knows about jaq (jaq-core, jaq-std, jaq-json). This
//! file is the API ([`check`], [`run`]) and the run itself, on a thread with
//! a stack large enough for deep expressions; [`compile`] sets up the jaq
//! program (parsing, compiling, its inputs and its error messages),
//! [`format`] prints each result the way gh 2.103.3 does, and [`error`]
//! holds the one error type. The tests go through [`run`] and [`check`], as
//! the CLI does, so each covers the whole filter.

use std::io::Write;

use jaq_core::{data, Ctx, Vars};
use jaq_json::Val;

mod compile;
mod error;
mod format;

use error::one_line;
pub use error::JqError;

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
    let filter = compile::compile(expr)?;
    let Some(input) = input else {
        return Ok(());
    };
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([compile::environment()]));
    for result in filter.id.run((ctx, compile::from_json(input))) {
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
        format::write_result(&value, indent, &mut line)?;
        line.push(b'\n');
        out.write_all(&line).map_err(RunError::Write)?;
    }
    Ok(())
}

/// A runtime failure on one line, shortened: the message may quote a large
/// value.
fn runtime_error(msg: &str) -> JqError {
    JqError(one_line(msg))
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
    fn indentation_on_a_terminal() {
        let mut buf = Vec::new();
        run("{b:[1,[]],a:{}}", &serde_json::json!(null), true, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    []\n  ]\n}\n"
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
