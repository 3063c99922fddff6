#!/usr/bin/env bash
# attest serve under load, on loopback: Debian's registry holding an image
# with a test-Sigstore attestation, `ab` (apache2-utils) against
# /v1/admission at 1, 16 and 64 clients, warm and cold verdict cache, and
# the CLI's one-process verify of the same image. Run by hand (not in CI):
#   benches/serve-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nproc | sed 's/^/cores: /'
cargo test --release -q -p attest-cli --test serve load_benchmark -- --ignored --nocapture --test-threads 1
