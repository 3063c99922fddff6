#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests, and the
# sigstore-conformance bundle-verification suite against attest-conformance.
# Installs the test tools it needs first (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

shared="${ATTEST_SHARED_DIR:-../shared}"

# Tools the tests use beyond Rust (registry, python-tuf, peer verifiers, npm).
./scripts/install-test-deps.sh
# pip's console scripts (sigstore, gh) must be on PATH for the interop tests.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
! grep -rn "std::env::var" crates/attest/src || { echo "the attest library reads the environment (above): read it in attest-cli/src/settings.rs" >&2; exit 1; }
cargo build --release --bins
cargo test --workspace

# The conformance runner prints one line per test and ends with "N passed, M failed".
out=$(python3 "$shared/testdata/conformance/run.py" --strict-exit -j 2 target/release/attest-conformance)
echo "$out" | grep -v '^PASS' || true
last=$(echo "$out" | tail -n 1)
echo "conformance: $last"
[ "$last" = "140 passed, 0 failed" ]
