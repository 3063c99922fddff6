#!/usr/bin/env bash
# Peak memory of `attest verify` on a 4 GiB artifact with its attestation:
# the file is hashed streaming, so peak RSS must not grow with its size.
# Target: under 50 MiB. Measures "Maximum resident set size" from
# /usr/bin/time -v for the single-artifact path (gh's report) and for the
# release path (--manifest), and, for scale, for sha256sum on the same file.
# Needs ~4.1 GiB free in $TMPDIR (default /tmp); the file is deleted at exit.
# Run by hand (not in CI):  benches/rss-4g.sh [SIZE_BYTES]
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-4294967296}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
tmp="${TMPDIR:-/tmp}"

need_kib=$(( size / 1024 + 100 * 1024 ))
free_kib=$(df -Pk "$tmp" | awk 'NR==2 { print $4 }')
df -h "$tmp"
if [ "$free_kib" -lt "$need_kib" ]; then
  echo "not enough free space in $tmp: need $((need_kib / 1024)) MiB, have $((free_kib / 1024)) MiB" >&2
  exit 1
fi

cargo build --release -q --bin attest
cargo build --release -q -p attest-testsign --example make_release
attest="$target/release/attest"
make_release="$target/release/examples/make_release"

work=$(mktemp -d "$tmp/attest-rss-4g.XXXXXX")
trap 'rm -rf "$work"' EXIT
# One file of SIZE bytes (deterministic pseudo-random content, hashed while
# written), its manifest and its attestation.
"$make_release" "$work" --files 1 --size "$size"
cd "$work"
big=$(awk '{ print $2 }' release-artifact-digests.txt)
ls -l "$big"
export ATTEST_OFFLINE=1 NO_COLOR=1

peak() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" > /dev/null 2> time.txt || { cat time.txt; exit 1; }
  local kib secs
  kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' time.txt)
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' time.txt)
  printf '%-34s peak RSS %7d KiB = %6.1f MiB  wall %s\n' "$label" "$kib" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$secs"
  echo "$kib" > "peak-$label.txt"
}
peak "attest verify FILE" "$attest" verify "$big" --bundle attestation.jsonl \
  --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo
peak "attest verify --manifest" "$attest" verify --manifest release-artifact-digests.txt \
  --bundle attestation.jsonl --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo
peak "sha256sum" sha256sum "$big"

one=$(cat "peak-attest verify FILE.txt"); many=$(cat "peak-attest verify --manifest.txt")
worst=$(( one > many ? one : many ))
python3 - "$worst" "$size" <<'PY'
import sys
kib, size = int(sys.argv[1]), int(sys.argv[2])
print(f"worst attest peak {kib/1024:.1f} MiB for a {size/2**30:.2f} GiB file; "
      f"target 50 MiB / peak = {50*1024/kib:.2f}x ({'PASS' if kib < 50*1024 else 'FAIL'}); "
      f"file size / peak = {size/(kib*1024):.0f}x")
PY
