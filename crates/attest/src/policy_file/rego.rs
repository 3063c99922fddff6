//! Rego policies, for what constraints as data cannot say. The only user of
//! the pinned `regorus` crate.
//!
//! A policy is a Rego module in `package attest`. It passes when
//! `data.attest.allow` is `true`; every message in the set
//! `data.attest.deny` is a failure of its own. Anything else (`allow`
//! undefined, not a boolean, an evaluation error) fails: a policy that
//! cannot say yes says no.

/// A parsed Rego module, ready to evaluate.
#[derive(Clone)]
pub struct RegoPolicy {
    engine: regorus::Engine,
    /// Where it came from, for messages.
    pub origin: String,
}

impl std::fmt::Debug for RegoPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoPolicy")
            .field("origin", &self.origin)
            .finish()
    }
}

/// What a Rego policy said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegoVerdict {
    /// `allow` was `true` and no `deny` message was produced.
    pub passed: bool,
    /// What `allow` evaluated to, as JSON text (or why it could not be read).
    pub allow: String,
    /// The `deny` messages.
    pub denials: Vec<String>,
}

impl RegoPolicy {
    /// Parse `text` (read from `origin`). The module must be `package attest`.
    pub fn parse(origin: &str, text: &str) -> Result<Self, String> {
        let mut engine = regorus::Engine::new();
        // Rego v1 syntax (`if`, `contains`) without an import, as OPA 1.0 reads it.
        engine.set_rego_v0(false);
        let package = engine
            .add_policy(origin.to_string(), text.to_string())
            .map_err(|e| one_line(&e.to_string()))?;
        if package != "data.attest" {
            return Err(format!(
                "the module is {}, expected `package attest` (attest reads data.attest.allow and data.attest.deny)",
                package.trim_start_matches("data.")
            ));
        }
        Ok(Self {
            engine,
            origin: origin.to_string(),
        })
    }

    /// Evaluate against `input` (`{statement, certificate, timestamps}`).
    pub fn evaluate(&self, input: &serde_json::Value) -> RegoVerdict {
        let mut engine = self.engine.clone();
        let input = match regorus::Value::from_json_str(&input.to_string()) {
            Ok(v) => v,
            Err(e) => return failed(format!("input not representable: {e}")),
        };
        engine.set_input(input);
        let allow = match query(&mut engine, "data.attest.allow") {
            Ok(v) => v,
            Err(e) => return failed(format!("evaluation error: {e}")),
        };
        let allow_text = if allow == regorus::Value::Undefined {
            "undefined".to_string()
        } else {
            allow.to_json_str().unwrap_or_else(|_| "?".into())
        };
        let mut denials = Vec::new();
        match query(&mut engine, "data.attest.deny") {
            Ok(regorus::Value::Undefined) => {}
            Ok(regorus::Value::Set(set)) => {
                for v in set.iter() {
                    denials.push(match v.as_string() {
                        Ok(s) => s.to_string(),
                        Err(_) => v.to_json_str().unwrap_or_else(|_| "?".into()),
                    });
                }
            }
            Ok(other) => denials.push(format!(
                "deny is {}, expected a set of messages",
                other.to_json_str().unwrap_or_else(|_| "?".into())
            )),
            Err(e) => denials.push(format!("evaluating deny: {e}")),
        }
        RegoVerdict {
            passed: allow == regorus::Value::Bool(true) && denials.is_empty(),
            allow: allow_text,
            denials,
        }
    }
}

/// A query's value; `Undefined` when it has no result (an undefined rule).
fn query(engine: &mut regorus::Engine, q: &str) -> Result<regorus::Value, String> {
    let results = engine
        .eval_query(q.to_string(), false)
        .map_err(|e| one_line(&e.to_string()))?;
    Ok(results
        .result
        .into_iter()
        .next()
        .and_then(|r| r.expressions.into_iter().next())
        .map_or(regorus::Value::Undefined, |e| e.value))
}

fn failed(why: String) -> RegoVerdict {
    RegoVerdict {
        passed: false,
        allow: why,
        denials: Vec::new(),
    }
}

/// regorus prints errors over several lines (a snippet with a caret); keep
/// the lines that say something, joined.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| matches!(c, '^' | '|' | ' ' | '-')))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_and_deny_decide_and_anything_else_fails() {
        let p = RegoPolicy::parse(
            "t.rego",
            "package attest\ndefault allow := false\nallow if input.x == 1\ndeny contains \"y is set\" if input.y\n",
        )
        .unwrap();
        assert!(p.evaluate(&serde_json::json!({"x": 1})).passed);
        assert!(!p.evaluate(&serde_json::json!({"x": 2})).passed);
        let v = p.evaluate(&serde_json::json!({"x": 1, "y": true}));
        assert!(!v.passed);
        assert_eq!(v.denials, ["y is set"]);
        // No allow rule at all: undefined, which fails.
        let p = RegoPolicy::parse("t.rego", "package attest\nother := true\n").unwrap();
        let v = p.evaluate(&serde_json::json!({}));
        assert!(!v.passed);
        assert_eq!(v.allow, "undefined");
        // allow must be exactly true, not merely truthy.
        let p = RegoPolicy::parse("t.rego", "package attest\nallow := \"yes\"\n").unwrap();
        assert!(!p.evaluate(&serde_json::json!({})).passed);
    }

    #[test]
    fn bad_modules_are_refused_on_one_line() {
        let e = RegoPolicy::parse("t.rego", "package other\nallow := true\n").unwrap_err();
        assert!(e.contains("expected `package attest`"), "{e}");
        let e = RegoPolicy::parse("t.rego", "package attest\nallow if {{{\n").unwrap_err();
        assert!(!e.contains('\n') && e.contains("t.rego"), "{e}");
    }

    #[test]
    fn verdicts_show_allow_and_every_denial() {
        let p = RegoPolicy::parse(
            "t.rego",
            "package attest\nallow := input.a\ndeny contains input.d if input.d\n",
        )
        .unwrap();
        assert_eq!(p.origin, "t.rego");
        assert_eq!(format!("{p:?}"), r#"RegoPolicy { origin: "t.rego" }"#);
        let v = p.evaluate(&serde_json::json!({"a": true}));
        assert_eq!(
            v,
            RegoVerdict {
                passed: true,
                allow: "true".into(),
                denials: vec![],
            }
        );
        let v = p.evaluate(&serde_json::json!({"a": false}));
        assert_eq!((v.passed, v.allow.as_str()), (false, "false"));
        // A message that is not a string is shown as JSON.
        let v = p.evaluate(&serde_json::json!({"a": true, "d": 7}));
        assert_eq!((v.passed, v.denials), (false, vec!["7".to_string()]));
        // deny must be a set.
        let p = RegoPolicy::parse("t.rego", "package attest\nallow := true\ndeny := 3\n").unwrap();
        let v = p.evaluate(&serde_json::json!({}));
        assert_eq!(
            (v.passed, v.denials),
            (
                false,
                vec!["deny is 3, expected a set of messages".to_string()]
            )
        );
        // An evaluation error fails, and says so in place of allow.
        let p = RegoPolicy::parse(
            "t.rego",
            "package attest\nallow if { x := 1; x == 1; y := 1 / 0; y > 0 }\n",
        )
        .unwrap();
        let v = p.evaluate(&serde_json::json!({}));
        assert!(!v.passed);
        assert!(v.denials.is_empty());
    }

    #[test]
    fn error_lines_keep_only_what_says_something() {
        assert_eq!(
            one_line(
                "t.rego:2:9: error: bad\n   |\n 2 | allow if {{{\n   |        ^^^\n  --\n\nmore"
            ),
            "t.rego:2:9: error: bad 2 | allow if {{{ more"
        );
        assert_eq!(one_line(""), "");
    }
}
