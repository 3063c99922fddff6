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
[ ${#targets[@]} -gt 0 ] || targets=(bundle trusted_root statement manifest certificate github_api oci tuf)

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
  for t in bundle trusted_root statement manifest certificate github_api oci tuf; do
    [ -f "rows/$t" ] && cat "rows/$t"
  done
} > results.md
cat results.md
