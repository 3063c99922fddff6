#!/usr/bin/env bash
# attest audit of a 300-package uv.lock against a loopback package index
# (cold and warm cache: time, requests), and attest against
# pypi-attestations 0.0.31 per file on real PEP 740 attestations, offline.
# Run by hand (not in CI):  benches/audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nproc | sed 's/^/cores: /'
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
cargo test --release -q -p attest-cli --test audit_bench -- --ignored --nocapture --test-threads 1
