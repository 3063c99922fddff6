#!/usr/bin/env bash
# Many artifacts with a bundle each (a lock file, a registry, an admission
# webhook under load): the scale curve of
#   attest verify --manifest M --bundle B.jsonl --custom-trusted-root R --repo octo-org/octo-repo
# offline, for 1,000, 10,000 and 100,000 distinct bundles from the test
# Sigstore (one 1 KiB file and one bundle per artifact; the smaller sets are
# the first lines of the largest, so every size verifies the same kind of
# bundle). For each size it prints wall time, CPU (user + sys), CPU per
# bundle and peak RSS (best of RUNS by CPU), and the cryptographic limit
# measured in the same run: the signature verifications each bundle needed
# (`--verbose` counts them, computed and remembered, with their measured
# cost) times that cost, and the ratio of CPU per bundle to it.
#
# Run by hand (not in CI):  benches/distinct-bundles.sh [SIZES...]
#   RUNS=3 (runs per size), ATTEST=path (a binary to time instead of this
#   tree's, e.g. an older build for "before" figures).
# Needs: GNU time (/usr/bin/time). Honours CARGO_TARGET_DIR. The largest set
# takes about 1 GB of disk and a few minutes to sign.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
runs="${RUNS:-3}"
target="${CARGO_TARGET_DIR:-$PWD/target}"

if [ -z "${ATTEST:-}" ]; then
  cargo build --release -q --bin attest
  ATTEST="$target/release/attest"
fi
cargo build --release -q -p attest-testsign --example make_release
make_release="$target/release/examples/make_release"

max=0
for n in "${sizes[@]}"; do [ "$n" -gt "$max" ] && max=$n; done
work="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/attest-distinct.XXXXXX")}"
if [ ! -s "$work/attestation.jsonl" ] || [ "$(wc -l < "$work/attestation.jsonl")" -lt "$max" ]; then
  "$make_release" "$work" --files "$max" --size 1024 --per-file-bundles --jsonl-only
fi
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
cd "$work"
export ATTEST_OFFLINE=1 NO_COLOR=1

printf '%8s %9s %9s %12s %9s %12s %8s\n' bundles "wall s" "CPU s" "CPU/bundle" "RSS MiB" "limit/bundle" "ratio"
for n in "${sizes[@]}"; do
  head -n "$n" release-artifact-digests.txt > "manifest-$n.txt"
  head -n "$n" attestation.jsonl > "bundles-$n.jsonl"
  best=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o time.txt "$ATTEST" -v verify --manifest "manifest-$n.txt" \
      --bundle "bundles-$n.jsonl" --custom-trusted-root trusted_root.jsonl \
      --repo octo-org/octo-repo > out.txt 2> err.txt || { tail -5 err.txt; exit 1; }
    ok=$(grep -c '^OK ' out.txt)
    [ "$ok" -eq "$n" ] || { echo "only $ok of $n verified"; tail -5 err.txt; exit 1; }
    read -r wall user sys rss < <(tail -1 time.txt)
    cpu=$(python3 -c "print($user + $sys)")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $cpu < ${best%% *} else 1)"; then
      best="$cpu $wall $rss"
      cp err.txt best-err.txt
    fi
  done
  read -r cpu wall rss <<< "$best"
  # The limit: the signatures computed per bundle (the memo cannot spare
  # them) times their cost measured in this very run.
  python3 - "$n" "$cpu" "$wall" "$rss" best-err.txt <<'PY'
import re, sys
n, cpu, wall, rss, err = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
limit_ms, parts = 0.0, []
for line in open(err, encoding="utf-8"):
    m = re.match(r"signatures: (\S+) (\d+) computed in ([\d.]+) ms \(([\d.]+) µs each\), (\d+) remembered", line)
    if m:
        scheme, computed, ms, each, remembered = m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4)), int(m.group(5))
        limit_ms += ms / n
        parts.append(f"{computed / n:.2f} x {scheme} at {each:.0f} us (+{remembered / n:.2f} remembered)")
per = cpu / n * 1000
print(f"{n:8d} {wall:9.2f} {cpu:9.2f} {per:9.3f} ms {rss / 1024:9.1f} {limit_ms:9.3f} ms {per / limit_ms if limit_ms else 0:7.2f}x")
print("         per bundle: " + "; ".join(parts))
PY
done
