#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests, and the
# sigstore-conformance bundle-verification suite against attest-conformance.
# Installs the test tools it needs first (scripts/install-test-deps.sh).
#
# The workspace is compiled once. `cargo clippy` is `cargo check` with
# clippy-driver wrapping rustc for the workspace's own crates; wrapping the
# test build the same way lints exactly those crates (every target: lib,
# bins, tests, examples) while it compiles them, so the dependencies are
# built once, for the tests, instead of once checked for clippy, once built
# for the tests and once more in release for the conformance runner (which
# now comes from the same test build: dependencies are optimised in the dev
# profile, see Cargo.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

shared="${ATTEST_SHARED_DIR:-../shared}"
t0=$(date +%s)
phase() { echo "== $1 ($(($(date +%s) - t0)) s so far)"; }

# Tools the tests use beyond Rust (registry, python-tuf, peer verifiers, npm).
phase "test dependencies"
./scripts/install-test-deps.sh
# pip's console scripts (sigstore, gh) must be on PATH for the interop tests.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH

phase "rustfmt"
cargo fmt --all -- --check

# The library reads no environment variable: the CLI resolves them all.
if grep -rn "std::env::var" crates/attest/src; then
  echo "error: crates/attest reads environment variables (above); read them in attest-cli" >&2
  exit 1
fi

# clippy -D warnings over every target of the workspace's crates, during the
# one build (see above). The same settings for both cargo commands below, so
# the second reuses the first's build.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
# A fresh machine gains nothing from incremental state.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

phase "build and clippy (all targets)"
cargo test --workspace --all-targets --no-run

phase "tests"
cargo test --workspace

# The conformance runner prints one line per test and ends with "N passed, M failed".
phase "sigstore-conformance"
out=$(python3 "$shared/testdata/conformance/run.py" --strict-exit -j 2 target/debug/attest-conformance)
echo "$out" | grep -v '^PASS' || true
last=$(echo "$out" | tail -n 1)
echo "conformance: $last"
phase "done"
[ "$last" = "140 passed, 0 failed" ]
