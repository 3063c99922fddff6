#!/usr/bin/env bash
# A whole release in one run: 1,000 files of 1 MiB and ONE attestation listing
# all of them (1,000 <= 1,024 subjects), from the test Sigstore under a
# throwaway public-good-like trusted root. Times one
#   attest verify --manifest release-artifact-digests.txt --bundle attestation.jsonl \
#     --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo
# (hash 1 GiB + verify one bundle + match 1,000 subjects). Target: under 2 s
# on a 2-core machine. For scale, `sha256sum --check` of the same manifest
# (hashing only, one core) runs in the same hyperfine session.
# The page cache is warm for both (the files were just written).
# Run by hand (not in CI):  benches/release-1000.sh [RUNS]
# Needs: hyperfine. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
target="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --release -q --bin attest
cargo build --release -q -p attest-testsign --example make_release
attest="$target/release/attest"
make_release="$target/release/examples/make_release"

work=$(mktemp -d "${TMPDIR:-/tmp}/attest-release-1000.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$make_release" "$work" --files 1000 --size 1048576
cd "$work"
cat -- *.whl *.tar.gz > /dev/null

verify="$attest verify --manifest release-artifact-digests.txt --bundle attestation.jsonl --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo"
# Sanity: exit 0, 1,000 OK lines, one bundle verified once.
ATTEST_OFFLINE=1 $verify > out.txt 2> err.txt || { cat err.txt; exit 1; }
ok=$(grep -c '^OK ' out.txt)
echo "attest: $ok OK lines; $(tail -1 err.txt)"
[ "$ok" -eq 1000 ]

export ATTEST_OFFLINE=1 NO_COLOR=1
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" \
  -n "attest verify --manifest" "$verify" \
  -n "sha256sum --check" "sha256sum --check --quiet release-artifact-digests.txt"

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
a = r["attest verify --manifest"]
s = r["sha256sum --check"]
for name, x in r.items():
    print(f"{name:26s} median {x['median']:.3f} s  (min {x['min']:.3f}, max {x['max']:.3f}, "
          f"user {x['user']:.3f}, sys {x['system']:.3f})  {1024/x['median']:.0f} MiB/s")
print(f"target 2 s / attest median = {2/a['median']:.2f}x headroom "
      f"({'PASS' if a['median'] < 2 else 'FAIL'})")
print(f"sha256sum --check / attest verify = {s['median']/a['median']:.2f}x")
PY
