#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each, seeded with the
# real data in the repository and ../shared, and print executions and
# coverage per target.   fuzz/run.sh SECONDS [TARGET...]
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"; shift || true
shared="${ATTEST_SHARED_DIR:-../../shared}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bundle trusted_root statement manifest certificate github_api oci tuf tuf_refresh oci_index goregex actions_claims signing_config admission policy_file)

seed() {
  local t=$1 dir=corpus/$1
  mkdir -p "$dir"
  case $t in
    bundle) cp -f "$shared"/testdata/gh/*.json "$shared"/testdata/gh/*.jsonl ../examples/*.json* "$dir"/ 2>/dev/null || true
            for c in "$shared"/testdata/conformance/cases/*/bundle.sigstore.json; do cp -f "$c" "$dir/$(basename "$(dirname "$c")").json"; done ;;
    trusted_root) cp -f "$shared"/testdata/trust/*trusted_root.json "$shared"/testdata/gh/*trusted_root.json* "$dir"/ ;;
    statement) python3 - "$shared" "$dir" <<'PY'
import base64, glob, json, os, sys
shared, out = sys.argv[1], sys.argv[2]
for i, f in enumerate(glob.glob(shared + "/testdata/gh/*.json*")):
    for j, line in enumerate(open(f).read().split("\n")):
        try:
            b = json.loads(line) if f.endswith("jsonl") else json.load(open(f))
            p = base64.b64decode(b["dsseEnvelope"]["payload"])
            open(os.path.join(out, f"st-{i}-{j}"), "wb").write(p)
        except Exception:
            pass
        if not f.endswith("jsonl"):
            break
PY
               ;;
    manifest) printf 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.whl\r\n\\e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b\\\\c\nSHA256 (x) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n' > "$dir/seed" ;;
    certificate) python3 - "$shared" "$dir" <<'PY'
import base64, glob, json, os, sys
shared, out = sys.argv[1], sys.argv[2]
n = 0
for f in glob.glob(shared + "/testdata/trust/*trusted_root.json"):
    r = json.load(open(f))
    for ca in r.get("certificateAuthorities", []) + r.get("timestampAuthorities", []):
        for c in ca["certChain"]["certificates"]:
            open(os.path.join(out, f"cert-{n}"), "wb").write(base64.b64decode(c["rawBytes"])); n += 1
for f in glob.glob(shared + "/testdata/gh/*.json"):
    try:
        b = json.load(open(f)); raw = b["verificationMaterial"]["certificate"]["rawBytes"]
        open(os.path.join(out, f"leaf-{n}"), "wb").write(base64.b64decode(raw)); n += 1
    except Exception:
        pass
PY
                 ;;
    github_api) python3 - "$shared" "$dir" <<'PY'
import json, sys, os
shared, out = sys.argv[1], sys.argv[2]
b = json.load(open(shared + "/testdata/gh/sigstore-js-2.1.0-bundle.json"))
open(os.path.join(out, "inline"), "w").write(json.dumps({"attestations": [{"bundle": b, "repository_id": 1}]}))
open(os.path.join(out, "url"), "w").write(json.dumps({"attestations": [{"bundle": None, "bundle_url": "https://x/y.json.sn"}]}))
open(os.path.join(out, "link"), "w").write('<https://api.github.com/x?after=a>; rel="next"')
PY
                ;;
    oci) printf 'ghcr.io/owner/image:1.0@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' > "$dir/ref"
         printf '{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}},"credHelpers":{"docker.io":"x"}}' > "$dir/config" ;;
    tuf) cp -f ../crates/attest/trust/tuf-root-*.json "$dir"/ ;;
    # Each python-tuf scenario of tuf-repo/ (valid, rotated, expired,
    # rollback, mix-and-match, tampered, wrong keys, ...) as one input.
    tuf_refresh) python3 - "$dir" <<'PY'
import glob, os, sys
out = sys.argv[1]
def first(d, pattern):
    hits = sorted(glob.glob(os.path.join(d, pattern)))
    return open(hits[0], "rb").read() if hits else b""
for d in sorted(glob.glob("tuf-repo/*/")):
    parts = [first(d, "timestamp.json"), first(d, "*.snapshot.json"), first(d, "*.targets.json"),
             first(d, "2.root.json"), first(d, "3.root.json"), first(d, "targets/*")]
    open(os.path.join(out, os.path.basename(d.rstrip("/"))), "wb").write(b"\n--\n".join(parts))
PY
                 ;;
    # A referrers index, the referrer manifest attest pushes, and a real
    # bundle as the layer; with and without the referrers API.
    oci_index) python3 - "$shared" "$dir" <<'PY'
import glob, json, os, sys
shared, out = sys.argv[1], sys.argv[2]
bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
manifest_type = "application/vnd.oci.image.manifest.v1+json"
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": manifest_type, "digest": "@MANIFEST_DIGEST@", "size": 1, "artifactType": bundle_type},
    {"mediaType": manifest_type, "digest": "sha256:" + "b" * 64, "size": 1, "artifactType": "application/vnd.example"}]})
manifest = json.dumps({"schemaVersion": 2, "mediaType": manifest_type, "artifactType": bundle_type,
    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
    "layers": [{"mediaType": bundle_type, "digest": "@LAYER_DIGEST@", "size": 1234567}],
    "subject": {"mediaType": manifest_type, "digest": "sha256:" + "a" * 64, "size": 7}}).replace("1234567", "@LAYER_SIZE@")
for f in [shared + "/testdata/gh/sigstore-js-2.1.0-bundle.json", shared + "/testdata/gh/reusable-workflow-attestation.sigstore.json"]:
    layer = open(f, "rb").read()
    for mode in (0, 1):
        body = bytes([mode]) + b"\n--\n".join([index.encode(), manifest.encode(), layer])
        open(os.path.join(out, f"{mode}-{os.path.basename(f)}"), "wb").write(body)
PY
               ;;
    goregex) i=0
             for p in '^https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main$' \
                      '(?i)^https://github.com/Octo-Org/' '(?s:a.b)|(?U)x+' '\Qa.b*c\E+' '\Qunterminated' \
                      '[[:alpha:]][^]a-z]' '[a&&b][x--y][~~]' '(?x) a b' '\<word\>' 'a{2,3}?\pL\p{Greek}\d' \
                      '(?P<n>a)(?:b)\1' '[[]' '^(@(refs/.*|[0-9a-fA-F]+))?$' 'octo-org/octo-repo'; do
               printf '%s' "$p" > "$dir/p$i"; i=$((i+1))
             done ;;
    actions_claims) python3 - "$dir" <<'PY'
import base64, json, os, sys
out = sys.argv[1]
claims = {"iss": "https://token.actions.githubusercontent.com", "ref": "refs/tags/v2.0.0",
    "sha": "26d16513386ffaa790b1c32f927544f1322e4194", "repository": "octo-org/octo-repo",
    "repository_owner": "octo-org", "event_name": "release",
    "job_workflow_ref": "octo-org/reusable/.github/workflows/build.yml@refs/heads/main",
    "workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v2.0.0",
    "repository_id": "495574555", "repository_owner_id": "71096353", "runner_environment": "github-hosted",
    "run_id": "6014488666", "run_attempt": "3", "aud": "sigstore", "exp": 4102444800, "iat": 1700000000,
    "sub": "repo:octo-org/octo-repo:ref:refs/tags/v2.0.0"}
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
open(os.path.join(out, "claims.json"), "w").write(json.dumps(claims, indent=2))
jwt = b64(b'{"alg":"RS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode()) + "." + b64(b"signature")
open(os.path.join(out, "token.jwt"), "w").write(jwt)
open(os.path.join(out, "checksums.txt"), "w").write(
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  pkg-2.0.0-py3-none-any.whl\n\n"
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e  pkg-2.0.0.tar.gz\n")
PY
                    ;;
    # Sigstore's own configs (production, staging) and one shaped like
    # attest-testsign's loopback config (Rekor v2 with a TSA).
    signing_config) for f in "$HOME"/.cargo/registry/src/*/sigstore-trust-root-0.15.1/repository/signing_config*.json; do
                      cp -f "$f" "$dir/"
                    done
                    printf '%s' '{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":[{"url":"http://127.0.0.1:1/fulcio","majorApiVersion":1,"validFor":{"start":"2025-01-01T00:00:00Z"},"operator":"attest-testsign loopback"}],"oidcUrls":[],"rekorTlogUrls":[{"url":"http://127.0.0.1:1/rekor2","majorApiVersion":2,"validFor":{"start":"2025-01-01T00:00:00Z"},"operator":"attest-testsign loopback"}],"tsaUrls":[{"url":"http://127.0.0.1:1/tsa","majorApiVersion":1,"validFor":{"start":"2025-01-01T00:00:00Z"},"operator":"attest-testsign loopback"}],"rekorTlogConfig":{"selector":"ANY"},"tsaConfig":{"selector":"ANY"}}' > "$dir/testsign" ;;
    # Reviews as the API server sends them, for each pod-carrying kind.
    admission) python3 - "$dir" <<'PY'
import json, os, sys
out = sys.argv[1]
spec = {"initContainers": [{"name": "i", "image": "busybox:1.36"}],
        "containers": [{"name": "a", "image": "ghcr.io/o/app@sha256:" + "a" * 64}],
        "ephemeralContainers": [{"name": "d", "image": "ghcr.io/o/debug:1"}]}
t = {"template": {"spec": spec}}
for kind, obj in [("Pod", {"spec": spec}), ("Deployment", {"spec": t}), ("CronJob", {"spec": {"jobTemplate": {"spec": t}}}), ("Pod", None)]:
    r = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u-1",
         "kind": {"group": "", "version": "v1", "kind": kind}, "namespace": "prod", "operation": "CREATE", "object": obj}}
    open(os.path.join(out, kind + ("-delete" if obj is None else "")), "w").write(json.dumps(r))
PY
               ;;
    policy_file) cp -f ../examples/openmed/attest.toml "$dir/openmed.toml"
                 printf 'version = 1\nunmatched = "allow"\n[admission]\nfail-open = true\n[[rule]]\nfiles = ["*.whl"]\nnpm = ["@s/p"]\n[[rule.require]]\npredicate-type = "cyclonedx"\nissuer = "https://gitlab.com"\nsan-regex = "^x$"\nsource-ref = { glob = "refs/tags/*" }\ncount = 2\n[[rule.require.predicate]]\npath = "/a/0"\none-of = [1, "x"]\n' > "$dir/generic.toml" ;;
  esac
}

mkdir -p rows
for t in "${targets[@]}"; do
  seed "$t"
  log="logs/$t.log"; mkdir -p logs artifacts/"$t"
  set +e
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 \
    -rss_limit_mb=2048 -max_len=262144 -timeout=20 -artifact_prefix="artifacts/$t/" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+')
  crashes=$(ls artifacts/"$t" | wc -l)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s%s | %s |\n' "$t" "$secs" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$([ $rc -ne 0 ] && echo " (exit $rc)")" "$(date -u +%Y-%m-%d)" | tee "rows/$t"
done
# The table keeps each target's latest run.
{
  printf '| target | seconds | executions | exec/s | coverage (cov) | features (ft) | corpus | crash files | run on |\n|---|---|---|---|---|---|---|---|---|\n'
  for t in bundle trusted_root statement manifest certificate github_api oci tuf tuf_refresh oci_index goregex actions_claims signing_config admission policy_file; do
    [ -f "rows/$t" ] && cat "rows/$t"
  done
  # Conditions of the runs the table cannot show (shared CPU, ...).
  [ ! -f notes.md ] || cat notes.md
} > results.md
cat results.md
