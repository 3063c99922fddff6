//! Python distribution file names, compared as the packaging specifications
//! compare them: a wheel (`{name}-{version}(-{build})?-{py}-{abi}-{plat}.whl`)
//! or an sdist (`{name}-{version}.tar.gz` / `.zip`), with the project name
//! normalised as PEP 503 says, the version as PEP 440 says, and a wheel's
//! compressed tag set expanded (so `manylinux_2_17_x86_64.manylinux2014_x86_64`
//! and the same tags in the other order are one wheel).

use std::collections::BTreeSet;
use std::fmt;

/// A parsed distribution file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistName {
    /// A wheel.
    Wheel {
        /// The normalised project name.
        name: String,
        /// The normalised version.
        version: String,
        /// The build tag, if any.
        build: Option<String>,
        /// Every (python, abi, platform) tag the name stands for.
        tags: BTreeSet<(String, String, String)>,
    },
    /// A source distribution.
    Sdist {
        /// The normalised project name.
        name: String,
        /// The normalised version.
        version: String,
    },
}

impl DistName {
    /// Parse `file` (a bare file name, no directory).
    pub fn parse(file: &str) -> Result<Self, String> {
        if let Some(stem) = file.strip_suffix(".whl") {
            let parts: Vec<&str> = stem.split('-').collect();
            let (name, version, build, py, abi, plat) = match parts.as_slice() {
                [n, v, py, abi, plat] => (*n, *v, None, *py, *abi, *plat),
                [n, v, b, py, abi, plat] => (*n, *v, Some(*b), *py, *abi, *plat),
                _ => {
                    return Err(format!(
                        "{file:?}: expected a wheel name NAME-VERSION(-BUILD)?-PY-ABI-PLATFORM.whl"
                    ))
                }
            };
            if let Some(b) = build {
                if !b.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(format!(
                        "{file:?}: a wheel's build tag must start with a digit, got {b:?}"
                    ));
                }
            }
            let mut tags = BTreeSet::new();
            for p in py.split('.') {
                for a in abi.split('.') {
                    for pl in plat.split('.') {
                        if p.is_empty() || a.is_empty() || pl.is_empty() {
                            return Err(format!("{file:?}: an empty wheel tag"));
                        }
                        tags.insert((
                            p.to_ascii_lowercase(),
                            a.to_ascii_lowercase(),
                            pl.to_ascii_lowercase(),
                        ));
                    }
                }
            }
            return Ok(Self::Wheel {
                name: project_name(name, file)?,
                version: normalize_version(version)
                    .map_err(|e| format!("{file:?}: version {version:?}: {e}"))?,
                build: build.map(str::to_string),
                tags,
            });
        }
        let stem = file
            .strip_suffix(".tar.gz")
            .or_else(|| file.strip_suffix(".zip"))
            .ok_or_else(|| {
                format!("{file:?}: expected a wheel (.whl) or an sdist (.tar.gz, .zip) file name")
            })?;
        let (name, version) = stem
            .rsplit_once('-')
            .ok_or_else(|| format!("{file:?}: expected an sdist name NAME-VERSION.tar.gz"))?;
        Ok(Self::Sdist {
            name: project_name(name, file)?,
            version: normalize_version(version)
                .map_err(|e| format!("{file:?}: version {version:?}: {e}"))?,
        })
    }

    /// The normalised project name.
    pub fn name(&self) -> &str {
        match self {
            Self::Wheel { name, .. } | Self::Sdist { name, .. } => name,
        }
    }

    /// The normalised version.
    pub fn version(&self) -> &str {
        match self {
            Self::Wheel { version, .. } | Self::Sdist { version, .. } => version,
        }
    }
}

impl fmt::Display for DistName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wheel { name, version, .. } => write!(f, "wheel {name} {version}"),
            Self::Sdist { name, version } => write!(f, "sdist {name} {version}"),
        }
    }
}

/// PEP 503's normal form of a project name: lowercase, each run of `-`,
/// `_` and `.` one `-`. Refuses what is no project name at all.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn project_name(name: &str, file: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        return Err(format!("{file:?}: {name:?} is not a valid project name"));
    }
    Ok(normalize_name(name))
}

/// PEP 440's normal form of a version, with trailing zeros of the release
/// dropped (`1.0` and `1.0.0` are one version), so equal versions give equal
/// strings: `v1.0-RC1` is `1rc1`, `1.0.post` is `1.post0`, `2!1.0a` is
/// `2!1a0`, `1.0+Local_1` is `1+local.1`.
pub fn normalize_version(text: &str) -> Result<String, String> {
    let s = text.trim().to_ascii_lowercase();
    let s = s.strip_prefix('v').unwrap_or(&s);
    let (public, local) = match s.split_once('+') {
        Some((p, l)) => (p, Some(l)),
        None => (s, None),
    };
    let mut rest = public;
    let mut out = String::new();
    // Epoch.
    if let Some((epoch, after)) = rest.split_once('!') {
        let e = number(epoch).ok_or("the epoch must be a number")?;
        if e != 0 {
            out.push_str(&format!("{e}!"));
        }
        rest = after;
    }
    // Release: digits separated by dots.
    let release_len = rest
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    let release = rest[..release_len].trim_end_matches('.');
    let consumed = release.len();
    if release.is_empty() {
        return Err("expected a release number such as 1.0".into());
    }
    let mut parts: Vec<u64> = release
        .split('.')
        .map(|p| number(p).ok_or("release segments must be numbers"))
        .collect::<Result<_, _>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    out.push_str(
        &parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    );
    rest = &rest[consumed..];
    // Pre, post and dev segments, each optional, in this order.
    let (pre, after) = segment(
        rest,
        &[
            ("alpha", "a"),
            ("beta", "b"),
            ("preview", "rc"),
            ("pre", "rc"),
            ("rc", "rc"),
            ("a", "a"),
            ("b", "b"),
            ("c", "rc"),
        ],
    );
    if let Some((tag, n)) = pre {
        out.push_str(&format!("{tag}{n}"));
    }
    rest = after;
    // An implicit post release: `1.0-1`.
    if let Some(n) = rest.strip_prefix('-').and_then(|r| {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty() && digits.len() == r.len()).then_some(digits)
    }) {
        out.push_str(&format!(".post{}", number(&n).ok_or("post release")?));
        rest = "";
    }
    let (post, after) = segment(rest, &[("post", "post"), ("rev", "post"), ("r", "post")]);
    if let Some((_, n)) = post {
        out.push_str(&format!(".post{n}"));
    }
    rest = after;
    let (dev, after) = segment(rest, &[("dev", "dev")]);
    if let Some((_, n)) = dev {
        out.push_str(&format!(".dev{n}"));
    }
    rest = after;
    if !rest.is_empty() {
        return Err(format!("unexpected {rest:?}; expected a PEP 440 version"));
    }
    if let Some(local) = local {
        let segs: Vec<String> = local
            .split(['.', '-', '_'])
            .map(|p| match number(p) {
                Some(n) => Ok(n.to_string()),
                None if !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    Ok(p.to_string())
                }
                None => Err(format!("local version segment {p:?}")),
            })
            .collect::<Result<_, _>>()?;
        out.push('+');
        out.push_str(&segs.join("."));
    }
    Ok(out)
}

fn number(text: &str) -> Option<u64> {
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_digit()))
        .then(|| text.trim_start_matches('0').parse().unwrap_or(0))
        .filter(|_| text.len() <= 18)
}

/// One optional `[sep]TAG[sep]N` segment at the start of `text`, with
/// `spellings` (long spellings first) mapped to the normal tag; the number
/// is 0 when left out.
fn segment<'a>(
    text: &'a str,
    spellings: &[(&str, &'static str)],
) -> (Option<(&'static str, u64)>, &'a str) {
    let after_sep = text.strip_prefix(['.', '-', '_']).unwrap_or(text);
    for (spelling, tag) in spellings {
        if let Some(rest) = after_sep.strip_prefix(spelling) {
            let rest_num = rest.strip_prefix(['.', '-', '_']).unwrap_or(rest);
            let digits: String = rest_num.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                return (Some((tag, 0)), rest);
            }
            return (
                Some((tag, number(&digits).unwrap_or(0))),
                &rest_num[digits.len()..],
            );
        }
    }
    (None, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_normalise_as_pep_440_says() {
        for (given, want) in [
            ("1.0", "1"),
            ("1.0.0", "1"),
            ("v1.0-RC1", "1rc1"),
            ("1.0alpha", "1a0"),
            ("1.0.post", "1.post0"),
            ("1.0-1", "1.post1"),
            ("1.0.dev3", "1.dev3"),
            ("2!1.0a", "2!1a0"),
            ("0!1.2", "1.2"),
            ("1.0+Local_1", "1+local.1"),
            ("0.0.1.dev137", "0.0.1.dev137"),
            ("1.2.3c4", "1.2.3rc4"),
            ("01.02", "1.2"),
        ] {
            assert_eq!(normalize_version(given).as_deref(), Ok(want), "{given}");
        }
        for bad in ["", "abc", "1.0x", "1.0+", "1..0x", "1.0+a b"] {
            assert!(normalize_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_compare_after_normalisation_and_tag_expansion() {
        let a =
            DistName::parse("spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
                .unwrap();
        let b =
            DistName::parse("spt3g-1.0-cp310-cp310-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")
                .unwrap();
        assert_eq!(a, b);
        let c = DistName::parse("OpenMed-1.8.0.tar.gz").unwrap();
        assert_eq!(c, DistName::parse("openmed-1.8.tar.gz").unwrap());
        assert_eq!(c.name(), "openmed");
        assert_eq!(
            DistName::parse("pep740_sampleproject-1.0.0.tar.gz").unwrap(),
            DistName::parse("pep740-sampleproject-1.0.0.tar.gz").unwrap()
        );
        // A wheel is not the sdist of the same release; other versions differ.
        let w = DistName::parse("openmed-1.8.0-py3-none-any.whl").unwrap();
        assert_ne!(w, c);
        assert_ne!(
            w,
            DistName::parse("openmed-1.8.1-py3-none-any.whl").unwrap()
        );
        assert_ne!(
            w,
            DistName::parse("openmed-1.8.0-1-py3-none-any.whl").unwrap()
        );
        for bad in [
            "openmed.whl",
            "openmed-1.0.exe",
            "-1.0.tar.gz",
            "a-b-c.whl",
            "openmed-x.tar.gz",
            "open med-1.0.tar.gz",
        ] {
            assert!(DistName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zero_releases_keep_one_segment_and_odd_versions_fail_by_name() {
        for (given, want) in [
            ("0", "0"),
            ("0.0", "0"),
            ("0.0.0", "0"),
            ("1.0+abc", "1+abc"),
        ] {
            assert_eq!(normalize_version(given).as_deref(), Ok(want), "{given}");
        }
        assert_eq!(
            normalize_version("x!1.0").unwrap_err(),
            "the epoch must be a number"
        );
        // A dangling `-` is not an implicit post release.
        assert_eq!(
            normalize_version("1.0-").unwrap_err(),
            "unexpected \"-\"; expected a PEP 440 version"
        );
        // Release segments of more than 18 digits are refused, not wrapped.
        assert_eq!(
            normalize_version("1234567890123456789.0").unwrap_err(),
            "release segments must be numbers"
        );
        assert_eq!(
            normalize_version("123456789012345678").as_deref(),
            Ok("123456789012345678")
        );
    }

    #[test]
    fn names_normalise_runs_of_separators_to_one_dash() {
        assert_eq!(normalize_name("Foo__Bar.-baz"), "foo-bar-baz");
        assert_eq!(normalize_name("a.b"), "a-b");
        assert_eq!(normalize_name("AB"), "ab");
        let d = DistName::parse("Foo_Bar-1.0.0-py3-none-any.whl").unwrap();
        assert_eq!((d.name(), d.version()), ("foo-bar", "1"));
        let s = DistName::parse("zope.interface-6.0.post1.tar.gz").unwrap();
        assert_eq!((s.name(), s.version()), ("zope-interface", "6.post1"));
    }

    #[test]
    fn wheel_tags_and_build_tags_are_checked_one_by_one() {
        for (file, want) in [
            ("pkg-1.0-.py3-none-any.whl", "an empty wheel tag"),
            ("pkg-1.0-py3-.none-any.whl", "an empty wheel tag"),
            ("pkg-1.0-py3-none-any..whl", "an empty wheel tag"),
            (
                "pkg-1.0-x1-py3-none-any.whl",
                "a wheel's build tag must start with a digit, got \"x1\"",
            ),
            ("_pkg-1.0.tar.gz", "\"_pkg\" is not a valid project name"),
            ("pkg_-1.0.tar.gz", "\"pkg_\" is not a valid project name"),
            ("p+g-1.0.tar.gz", "\"p+g\" is not a valid project name"),
            ("pkg.tar.gz", "expected an sdist name NAME-VERSION.tar.gz"),
        ] {
            let e = DistName::parse(file).unwrap_err();
            assert_eq!(e, format!("{file:?}: {want}"), "{file}");
        }
        let DistName::Wheel { build, tags, .. } =
            DistName::parse("pkg-1.0-2b-py2.py3-none-ANY.whl").unwrap()
        else {
            panic!("a wheel")
        };
        assert_eq!(build.as_deref(), Some("2b"));
        let tags: Vec<_> = tags.into_iter().collect();
        assert_eq!(
            tags,
            [
                ("py2".to_string(), "none".to_string(), "any".to_string()),
                ("py3".to_string(), "none".to_string(), "any".to_string()),
            ]
        );
    }
}
