//! What a registry sends while attest loads Sigstore bundles stored as OCI
//! referrers: the referrers index (or the `sha256-<hex>` tag index of the
//! fallback schema), each referrer's image manifest, and the bundle layer.
//! Those parsers are private to `attest::source::oci`, so the input is served
//! by a loopback registry in this process (127.0.0.1, port chosen by the
//! OS) and read through the public `fetch_referrer_bundles_limited`.
//!
//! Input: one mode byte (bit 0: the registry has the referrers API; else it
//! answers 404 there and serves the tag index), then index, manifest and
//! layer separated by "\n--\n". Digests cannot be fuzzed into agreement, so
//! `@LAYER_DIGEST@` and `@LAYER_SIZE@` in the manifest and `@MANIFEST_DIGEST@`
//! in the index are replaced by the real ones (the seeds use them).
#![no_main]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::source::oci::{fetch_referrer_bundles_limited, parse_oci_ref, RegistryAuth};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"\n--\n";
const SUBJECT: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const LIMIT: usize = 4;

/// What the loopback registry serves in the current run.
#[derive(Default)]
struct Served {
    referrers_api: bool,
    index: Vec<u8>,
    manifest: Vec<u8>,
    layer: Vec<u8>,
}

static SERVED: Mutex<Option<Served>> = Mutex::new(None);

/// The registry's port; the server thread lives as long as the process.
fn port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        // A stall is a bug to report, not a 300 s wait per input.
        attest::source::http::set_settings(attest::source::http::HttpSettings::from_timeout_text(
            Some("1"),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream);
            }
        });
        port
    })
}

/// Answer one request (attest's requests are sequential) and close.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let line = line.lines().next().unwrap_or_default();
    let mut words = line.split(' ');
    let head = words.next() == Some("HEAD");
    let path = words.next().unwrap_or_default();
    let guard = SERVED.lock().unwrap_or_else(|p| p.into_inner());
    let served = guard.as_ref();
    let index_type = "application/vnd.oci.image.index.v1+json";
    let (status, kind, body): (&str, &str, &[u8]) = match served {
        Some(s) if path.contains("/referrers/") && s.referrers_api => {
            ("200 OK", index_type, &s.index)
        }
        Some(s) if path.contains("/manifests/sha256-") && !s.referrers_api => {
            ("200 OK", index_type, &s.index)
        }
        Some(s) if path.contains("/manifests/") => (
            "200 OK",
            "application/vnd.oci.image.manifest.v1+json",
            &s.manifest,
        ),
        Some(s) if path.contains("/blobs/") => ("200 OK", "application/octet-stream", &s.layer),
        _ => ("404 Not Found", "application/json", b"{\"errors\":[]}"),
    };
    let mut answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        answer.extend_from_slice(body);
    }
    drop(guard);
    let _ = stream.write_all(&answer);
}

fn split(data: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < parts {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                out.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out.resize(parts, &[]);
    out
}

fn replace(haystack: &[u8], needle: &str, with: &str) -> Vec<u8> {
    let needle = needle.as_bytes();
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with.as_bytes());
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// No control character: remote text goes through `remote_text`.
fn printable(message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "unescaped control character: {message:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let parts = split(rest, 3);
    let layer = parts[2].to_vec();
    let layer_digest = digest_bytes(&layer, DigestAlgorithm::Sha256).to_string();
    let manifest = replace(parts[1], "@LAYER_DIGEST@", &layer_digest);
    let manifest = replace(&manifest, "@LAYER_SIZE@", &layer.len().to_string());
    let manifest_digest = digest_bytes(&manifest, DigestAlgorithm::Sha256).to_string();
    let index = replace(parts[0], "@MANIFEST_DIGEST@", &manifest_digest);
    let port = port();
    *SERVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(Served {
        referrers_api: mode & 1 == 1,
        index,
        manifest,
        layer,
    });
    let reference = parse_oci_ref(&format!("oci://127.0.0.1:{port}/fuzz/image@{SUBJECT}"))
        .expect("an oci:// reference")
        .expect("a valid reference");
    let subject = ArtifactDigest::parse(SUBJECT).expect("digest");
    match fetch_referrer_bundles_limited(&reference, &subject, &RegistryAuth::Anonymous, LIMIT) {
        Ok(bundles) => {
            assert!(!bundles.is_empty() && bundles.len() <= LIMIT);
            for b in &bundles {
                if let Err(e) = b {
                    printable(&e.to_string());
                }
            }
        }
        Err(e) => printable(&e.to_string()),
    }
});
