//! Pushing as cosign pushes: blobs through the registry API's monolithic
//! upload, and a `sha256-<hex>.sig` / `.att` manifest whose layers carry
//! cosign's annotations (by curl, so the code under test does not push its
//! own evidence).

use std::path::Path;
use std::process::Command;

use attest::artifact::{digest_bytes, DigestAlgorithm};
use serde_json::{json, Value};

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .arg("-sS")
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Push a blob with the registry API's monolithic upload.
pub fn push_blob(host: &str, repo: &str, bytes: &[u8], dir: &Path) -> String {
    let digest = digest_bytes(bytes, DigestAlgorithm::Sha256).to_string();
    let headers = curl(&[
        "-X",
        "POST",
        "-D",
        "-",
        "-o",
        "/dev/null",
        &format!("http://{host}/v2/{repo}/blobs/uploads/"),
    ]);
    let location = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .expect("an upload location")
        .trim()
        .to_string();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("http://{host}{location}")
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let file = dir.join("blob");
    std::fs::write(&file, bytes).unwrap();
    curl(&[
        "-f",
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{location}{sep}digest={digest}"),
    ]);
    digest
}

/// Push a `.sig` manifest for `image_digest` with one layer per signature
/// (payload, annotations), as cosign writes it.
#[allow(dead_code)] // not every test that pushes .att tags pushes signatures
pub fn push_sig(host: &str, repo: &str, image_digest: &str, sigs: &[(Vec<u8>, Value)], dir: &Path) {
    push_tag(
        host,
        repo,
        &(image_digest.replace(':', "-") + ".sig"),
        "application/vnd.dev.cosign.simplesigning.v1+json",
        sigs,
        dir,
    );
}

/// Push cosign's manifest for tag `tag`: one layer of `media_type` per
/// (blob, annotations).
pub fn push_tag(
    host: &str,
    repo: &str,
    tag: &str,
    media_type: &str,
    sigs: &[(Vec<u8>, Value)],
    dir: &Path,
) {
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (payload, annotations) in sigs {
        let d = push_blob(host, repo, payload, dir);
        diff_ids.push(d.clone());
        layers.push(json!({
            "mediaType": media_type,
            "size": payload.len(),
            "digest": d,
            "annotations": annotations,
        }));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "", "created": "0001-01-01T00:00:00Z", "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "", "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {}
    }))
    .unwrap();
    let config_digest = push_blob(host, repo, &config, dir);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": layers,
    });
    let file = dir.join("manifest.json");
    std::fs::write(&file, manifest.to_string()).unwrap();
    curl(&[
        "-f",
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://{host}/v2/{repo}/manifests/{tag}"),
    ]);
}
