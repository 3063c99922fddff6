#!/usr/bin/env bash
# attest digest against sha256sum on one large file, same run, same page cache.
# Run by hand:  benches/digest-throughput.sh [SIZE_MIB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-1024}"
cargo build --release -q --bin attest
attest="$PWD/target/release/attest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$work/big.bin"
cd "$work"
# Warm the page cache so both read from memory, then alternate runs.
cat big.bin > /dev/null
hyperfine -N --warmup 2 --runs 10 --export-json "$work/h.json" \
  -n sha256sum "sha256sum big.bin" \
  -n "attest digest" "$attest digest big.bin"
python3 - "$work/h.json" "$size_mib" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
mib = int(sys.argv[2])
for name, x in r.items():
    print(f"{name:14s} median {x['median']:.3f} s  {mib/x['median']:.0f} MiB/s")
ratio = r["sha256sum"]["median"] / r["attest digest"]["median"]
print(f"attest throughput = {ratio*100:.1f}% of sha256sum")
PY
