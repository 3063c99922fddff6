#!/usr/bin/env bash
# An image with a cosign signature, a CycloneDX SBOM attestation (.att) and
# SLSA provenance (OCI referrer) in Debian's registry on loopback: one
# `attest verify --policy` run from the registry (time, requests) against the
# same verification from downloaded files, offline. Run by hand (not in CI):
#   benches/image-evidence.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nproc | sed 's/^/cores: /'
cargo test --release -q -p attest-cli --test image_evidence_bench -- --ignored --nocapture --test-threads 1
