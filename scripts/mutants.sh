#!/usr/bin/env bash
# Mutation testing of the modules that decide pass or fail; the method and the
# figures are in docs/mutation-testing.md. Run by hand (about 40 min on 2 cores):
#   scripts/mutants.sh [OUT_DIR] [more cargo-mutants arguments, e.g. --list]
# Needs cargo-mutants (cargo install cargo-mutants --locked; 27.1.0 was used).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/target/mutants}"
shift || true
# cargo-mutants edits sources in place: work on a snapshot of HEAD. It sits
# beside this checkout because the tests find ../shared relative to it.
tree="$(dirname "$repo")/attest-mutants-tree"
rm -rf "$tree"
mkdir -p "$tree"
git -C "$repo" archive HEAD | tar -C "$tree" -xf -
cd "$tree"
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/mutants-build}"
# A mutant that loops while allocating must not take the machine down.
ulimit -v 8000000
cargo mutants --in-place --timeout 60 \
  -p attest --test-package attest \
  -f crates/attest/src/policy.rs -f crates/attest/src/verify.rs -f crates/attest/src/trust/mod.rs \
  -f crates/attest/src/manifest.rs -f crates/attest/src/outcome.rs -f crates/attest/src/release.rs \
  -f crates/attest/src/bundle.rs \
  -E 'impl fmt::(Display|Debug) for' \
  -E 'bundle\.rs:.*(in|replace) (Statement::from_payload|LoadedBundle::|BundleError::|field_error|parse_bundle|json_kind|skip_ws|LineCounter::|<impl)' \
  -E 'bundle\.rs:30:' \
  -o "$out" "$@"
