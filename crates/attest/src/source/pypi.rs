//! A Python package index: the files of a release (the simple JSON API,
//! PEP 691) and their PEP 740 provenance (the Integrity API). Anonymous;
//! "no provenance" (404) is an answer, not an error. Plain HTTP only for a
//! loopback index.

use serde_json::Value;

use super::http::{self, HttpError};
use crate::artifact::ArtifactDigest;
use crate::pep740::{self, dist, DistName, Provenance};

/// PyPI.
pub const DEFAULT_INDEX: &str = "https://pypi.org";

/// The simple JSON API's media type.
pub const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

/// The largest simple-API page read (a project with thousands of files is
/// a few MB).
pub const MAX_SIMPLE_BYTES: u64 = 32 * 1024 * 1024;

/// Why the index could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PypiError {
    /// The index URL cannot be used.
    #[error("index URL {url:?}: {detail}")]
    Index {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The answer is not what the API defines.
    #[error("{url}: {detail}")]
    Answer {
        /// The URL.
        url: String,
        /// Which field, and what was expected.
        detail: String,
    },
    /// The provenance object does not parse.
    #[error(transparent)]
    Provenance(#[from] pep740::Pep740Error),
}

/// One file of a release, as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// The file name.
    pub filename: String,
    /// Its SHA-256, as the index lists it.
    pub sha256: ArtifactDigest,
    /// Whether the index says it has provenance (`provenance` not null).
    pub has_provenance: bool,
}

/// The index base for `url` (`https://pypi.org`, or pip's
/// `https://pypi.org/simple/` form), refused unless HTTPS or loopback.
pub fn index_base(url: &str) -> Result<String, PypiError> {
    http::base_url(&pep740::index_base(url)).map_err(|detail| PypiError::Index {
        url: url.to_string(),
        detail,
    })
}

/// The PEP 740 provenance of `file` from the Integrity API of `index`;
/// `None` when the index has none (404).
pub fn fetch_provenance(index: &str, file: &str) -> Result<Option<Provenance>, PypiError> {
    Ok(fetch_provenance_bytes(index, file)?.map(|(_, p)| p))
}

/// [`fetch_provenance`] with the bytes as served (checked to parse), for
/// `attest download` to save.
pub fn fetch_provenance_bytes(
    index: &str,
    file: &str,
) -> Result<Option<(Vec<u8>, Provenance)>, PypiError> {
    let base = index_base(index)?;
    let url = pep740::integrity_url(&base, file).map_err(|detail| PypiError::Index {
        url: base.clone(),
        detail,
    })?;
    let client = http::client()?;
    let answer = http::block_on(http::get(
        &client,
        &url,
        None,
        &[("accept", pep740::INTEGRITY_MEDIA_TYPE.to_string())],
        pep740::MAX_PROVENANCE_BYTES as u64,
    ))?;
    match answer {
        Ok(f) => {
            let parsed = pep740::parse(&f.body, &url)?;
            Ok(Some((f.body, parsed)))
        }
        Err(HttpError::Status { status: 404, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The files of `project` `version` that `index` lists (simple JSON API),
/// with their SHA-256 digests.
pub fn release_files(
    index: &str,
    project: &str,
    version: &str,
) -> Result<Vec<ReleaseFile>, PypiError> {
    let base = index_base(index)?;
    let name = dist::normalize_name(project);
    let want_version = dist::normalize_version(version).map_err(|e| PypiError::Index {
        url: base.clone(),
        detail: format!("version {version:?}: {e}"),
    })?;
    let url = format!("{base}/simple/{name}/");
    let client = http::client()?;
    let page = http::block_on(http::get(
        &client,
        &url,
        None,
        &[("accept", SIMPLE_JSON.to_string())],
        MAX_SIMPLE_BYTES,
    ))??;
    let answer = |detail: String| PypiError::Answer {
        url: url.clone(),
        detail,
    };
    crate::json::check_unique_keys(&page.body).map_err(|e| answer(e.to_string()))?;
    let v: Value = serde_json::from_slice(&page.body)
        .map_err(|e| answer(format!("expected the simple JSON API (PEP 691): {e}")))?;
    let files = v
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| answer("expected \"files\", an array (PEP 691)".into()))?;
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let Some(filename) = f.get("filename").and_then(Value::as_str) else {
            return Err(answer(format!("files[{i}]: expected \"filename\"")));
        };
        // Files of other releases, and names that are no distribution.
        let Ok(parsed) = DistName::parse(filename) else {
            continue;
        };
        if parsed.name() != name || parsed.version() != want_version {
            continue;
        }
        if filename.contains(['/', '\\']) {
            return Err(answer(format!(
                "files[{i}]: the file name {:?} has a path separator",
                crate::text::remote_text(filename)
            )));
        }
        let sha256 = f
            .get("hashes")
            .and_then(|h| h.get("sha256"))
            .and_then(Value::as_str)
            .ok_or_else(|| answer(format!("files[{i}]: expected hashes.sha256")))
            .and_then(|h| {
                ArtifactDigest::parse(&format!("sha256:{h}"))
                    .map_err(|e| answer(format!("files[{i}]: hashes.sha256: {e}")))
            })?;
        out.push(ReleaseFile {
            filename: filename.to_string(),
            sha256,
            has_provenance: f.get("provenance").is_some_and(|p| !p.is_null()),
        });
    }
    Ok(out)
}

/// A `pypi:NAME==VERSION` subject: the project and version.
pub fn parse_subject(arg: &str) -> Option<Result<(String, String), String>> {
    let rest = arg.strip_prefix("pypi:")?;
    Some(match rest.split_once("==") {
        Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => {
            Ok((n.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!(
            "{arg}: expected pypi:PROJECT==VERSION (every file of that release)"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_urls_are_https_or_loopback() {
        assert_eq!(
            index_base("https://pypi.org/simple/").unwrap(),
            "https://pypi.org"
        );
        assert_eq!(
            index_base("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(index_base("http://pypi.org").is_err());
        assert!(index_base("http://pypi.org")
            .unwrap_err()
            .to_string()
            .contains("plain HTTP only for a loopback host"));
        assert!(index_base("ftp://127.0.0.1").is_err());
        assert_eq!(
            parse_subject("pypi:openmed==1.8.0"),
            Some(Ok(("openmed".into(), "1.8.0".into())))
        );
        assert!(parse_subject("pypi:openmed").unwrap().is_err());
        assert!(parse_subject("openmed==1").is_none());
    }

    /// A loopback index answering its connections, in order, with
    /// `(status, body)`; the request heads come back lower-cased.
    fn serve(answers: Vec<(&'static str, Vec<u8>)>) -> (String, Heads) {
        let (url, rx) = crate::source::test_server::serve(
            answers
                .iter()
                .map(|(status, body)| crate::source::test_server::response(status, "", body))
                .collect(),
        );
        (url, Heads(rx))
    }

    /// Request heads, lower-cased (header names are case-insensitive).
    struct Heads(crate::source::test_server::Requests);

    impl Heads {
        fn recv(&self) -> Result<String, std::sync::mpsc::RecvTimeoutError> {
            self.0.recv().map(|h| h.to_ascii_lowercase())
        }
    }

    const H1: &str = "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b";
    const H2: &str = "1ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b";

    #[test]
    fn release_files_are_the_releases_own_with_their_digests_and_provenance_flags() {
        let page = serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": "sample-project",
            "files": [
                {"filename": "Sample_Project-4.0.0.tar.gz", "hashes": {"sha256": H1},
                 "provenance": "https://x/provenance"},
                {"filename": "sample_project-4.0-py3-none-any.whl", "hashes": {"sha256": H2},
                 "provenance": null},
                {"filename": "sample_project-4.0.1.tar.gz", "hashes": {"sha256": H1}},
                {"filename": "other-4.0.0.tar.gz", "hashes": {"sha256": H1}},
                {"filename": "sample_project-4.0.0.exe", "hashes": {"sha256": H1}},
            ]
        });
        let (url, seen) = serve(vec![("200 OK", page.to_string().into_bytes())]);
        let files = release_files(&format!("{url}/simple/"), "Sample.Project", "4").unwrap();
        let head = seen.recv().unwrap();
        assert!(
            head.starts_with("get /simple/sample-project/ http/1.1\r\n"),
            "{head}"
        );
        assert!(head.contains(&format!("accept: {SIMPLE_JSON}")), "{head}");
        assert_eq!(
            files,
            [
                ReleaseFile {
                    filename: "Sample_Project-4.0.0.tar.gz".into(),
                    sha256: ArtifactDigest::parse(&format!("sha256:{H1}")).unwrap(),
                    has_provenance: true,
                },
                ReleaseFile {
                    filename: "sample_project-4.0-py3-none-any.whl".into(),
                    sha256: ArtifactDigest::parse(&format!("sha256:{H2}")).unwrap(),
                    has_provenance: false,
                },
            ]
        );
    }

    #[test]
    fn release_file_errors_name_the_file() {
        let page = serde_json::json!({"files": [
            {"filename": "p-1.0.tar.gz", "hashes": {"sha256": H1}},
            {"filename": "p-1.0-py3-none-any.whl", "hashes": {"md5": "00"}},
        ]});
        let (url, _seen) = serve(vec![("200 OK", page.to_string().into_bytes())]);
        let e = release_files(&url, "p", "1.0").unwrap_err().to_string();
        assert_eq!(
            e,
            format!("{url}/simple/p/: files[1]: expected hashes.sha256")
        );
        let (url, _seen) = serve(vec![("200 OK", br#"{"files":[{"hashes":{}}]}"#.to_vec())]);
        let e = release_files(&url, "p", "1.0").unwrap_err().to_string();
        assert_eq!(
            e,
            format!("{url}/simple/p/: files[0]: expected \"filename\"")
        );
        let e = release_files("https://pypi.org", "p", "one")
            .unwrap_err()
            .to_string();
        assert!(e.contains("version \"one\""), "{e}");
    }

    #[test]
    fn provenance_is_fetched_from_the_integrity_api_and_404_is_none() {
        let body = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/pep740/sampleproject-4.0.0.tar.gz.provenance"),
        )
        .unwrap();
        let (url, seen) = serve(vec![
            ("200 OK", body.clone()),
            ("404 Not Found", Vec::new()),
        ]);
        let (bytes, prov) =
            fetch_provenance_bytes(&format!("{url}/simple"), "sampleproject-4.0.0.tar.gz")
                .unwrap()
                .expect("provenance");
        assert_eq!(bytes, body);
        assert_eq!(prov.attestations.len(), 1);
        let head = seen.recv().unwrap();
        assert!(
            head.starts_with(
                "get /integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance http/1.1\r\n"
            ),
            "{head}"
        );
        assert!(
            head.contains("accept: application/vnd.pypi.integrity.v1+json"),
            "{head}"
        );
        assert!(fetch_provenance(&url, "sampleproject-4.0.0.tar.gz")
            .unwrap()
            .is_none());
        let (url, _seen) = serve(vec![("200 OK", body)]);
        let prov = fetch_provenance(&url, "sampleproject-4.0.0.tar.gz")
            .unwrap()
            .expect("provenance");
        assert!(matches!(
            prov.attestations[0].publisher,
            Some(pep740::Publisher::GitHub { .. })
        ));
    }

    #[test]
    fn subjects_need_a_project_and_a_version() {
        assert_eq!(
            parse_subject("pypi: Open_Med == 1.8.0 "),
            Some(Ok(("Open_Med".into(), "1.8.0".into())))
        );
        for bad in [
            "pypi:==",
            "pypi: ==1.0",
            "pypi:openmed== ",
            "pypi:openmed==",
        ] {
            assert_eq!(
                parse_subject(bad),
                Some(Err(format!(
                    "{bad}: expected pypi:PROJECT==VERSION (every file of that release)"
                ))),
                "{bad}"
            );
        }
        assert_eq!(MAX_SIMPLE_BYTES, 33_554_432);
    }
}
