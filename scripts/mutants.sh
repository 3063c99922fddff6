#!/usr/bin/env bash
# Mutation testing of the code that decides pass or fail, fetches evidence
# and hands out credentials; the method, scope and figures are in
# docs/mutation-testing.md.
#
#   scripts/mutants.sh [--fast] [OUT_DIR] [more cargo-mutants arguments, e.g. --list]
#
# Without --fast: every file of the scope (about 1,550 mutants), in three
# passes, each over the survivors of the one before (named by an exact
# --re regex, not --iterate; see survivors() below): the attest
# crate's unit tests (about 4 s a run, most mutants die here), then all the
# attest crate's tests (its integration tests kill the bundle-shape and
# certificate mutants the unit tests miss), then the whole workspace's tests
# (the CLI's drive the GitHub, registry and signing paths end to end). Hours
# on 2 cores; run it by hand, not in CI. `--shard K/N` (given to the first pass) cuts the
# scope into slices that can be run in different sessions. Results in
# OUT_DIR/pass{1,2,3}/mutants.out/ (--fast: OUT_DIR/mutants.out/).
# --fast: the subset CI can afford: which token goes to which GitHub API
# (source/github/token.rs) and which credentials go to which registry and
# token service (source/oci/auth.rs), against the library's unit tests and
# tests/docker_credential_helpers.rs (only those built and run: --cargo-arg).
# 101 mutants, 9.5 minutes on one core; fails if any is missed.
#
# Needs cargo-mutants (cargo install cargo-mutants --locked; 27.1.0 was used).
# CARGO_BUILD_JOBS, CARGO_TARGET_DIR and the like are honoured.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
fast=false
if [ "${1:-}" = "--fast" ]; then
  fast=true
  shift
fi
out="${1:-$repo/target/mutants}"
shift || true

src=crates/attest/src
extra=()
if $fast; then
  files=(source/github/token.rs source/oci/auth.rs)
  extra=(--cargo-arg=--lib --cargo-arg=--test=docker_credential_helpers)
else
  files=(
    # verdicts
    policy/mod.rs policy/goregex.rs policy/provenance.rs verify.rs verifier.rs
    outcome.rs release.rs manifest.rs report.rs
    # what is verified: bundles, statements, certificates, artifacts, JSON
    bundle.rs certificate.rs artifact.rs json.rs text.rs
    # trust material
    trust/mod.rs trust/tuf.rs
    # evidence sources: token origins, bounded readers, credentials
    'source/*.rs' 'source/github/*.rs' 'source/oci/*.rs'
    # producing: verify before write
    'produce/*.rs'
  )
fi
args=()
for f in "${files[@]}"; do
  args+=(-f "$src/$f")
done

# cargo-mutants edits sources in place: work on a snapshot of HEAD. It sits
# beside this checkout because the tests find ../shared relative to it
# (ATTEST_SHARED_DIR must name the shared data if ATTEST_MUTANTS_TREE moves it).
tree="${ATTEST_MUTANTS_TREE:-$(dirname "$repo")/attest-mutants-tree}"
rm -rf "$tree"
mkdir -p "$tree"
# -m: the files get the time of extraction, not the commit's. A target
# directory kept from an earlier run may hold the build of that run's last
# mutant, newer than the commit's time: cargo would take it as up to date
# and the "unmutated" baseline would be a mutant.
git -C "$repo" archive HEAD | tar -C "$tree" -xmf -
cd "$tree"
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/mutants-build}"
# A mutant that loops while allocating must not take the machine down:
# RLIMIT_DATA (heap and writable mappings), not RLIMIT_AS, because Node's
# WebAssembly, in the @actions/attest comparison tests of pass 3, reserves
# more address space than `ulimit -v 8000000` allows and fails unmutated.
ulimit -d 8000000
# The snapshot has no target/npm (scripts/install-test-deps.sh puts
# @actions/attest there): the CLI's comparison tests read the checkout's,
# or they fail and pass 3 calls every mutant caught.
export ATTEST_NPM_PREFIX="${ATTEST_NPM_PREFIX:-$repo/target/npm}"

# In the full run exit codes 2 (mutants missed) and 3 (timeouts) are
# results to read, not failures; --fast fails on any, as CI should.
# RegistryCredentials::anonymous is Self::default(): its one mutant
# (-> Default::default()) is the same code (docs/mutation-testing.md).
# The timeout: 90 s for the attest crate's tests (passes 1 and 2, 5 to 20 s
# unmutated); the whole workspace's tests (pass 3) take 60 to 100 s on the
# 2-core machine, more under load, and 90 s there called every mutant a
# timeout, a kill that no test made.
timeout=90
run() {
  local dir=$1 rc=0
  shift
  cargo mutants --in-place --timeout "$timeout" -p attest "${args[@]}" \
    -E 'impl fmt::(Display|Debug) for' -E 'RegistryCredentials::anonymous' "${extra[@]}" \
    -o "$dir" "$@" || rc=$?
  if [ "$rc" -gt 3 ] || { $fast && [ "$rc" -ne 0 ]; }; then
    exit "$rc"
  fi
  return 0
}

# The mutants a pass left (missed or timed out), as one exact --re regex;
# exit status 1 when there are none. (Not --iterate: with --shard,
# cargo-mutants 27.1.0 slices what --iterate leaves, not the scope.)
survivors() {
  cat "$1"/mutants.out/missed.txt "$1"/mutants.out/timeout.txt 2>/dev/null | python3 -c '
import sys
names = [l.rstrip("\n") for l in sys.stdin if l.strip()]
meta = set("\\.+*?()|[]{}^$#&-~")
esc = lambda s: "".join("\\" + c if c in meta else c for c in s)
print("^(" + "|".join(esc(n) for n in names) + ")$") if names else sys.exit(1)'
}

if $fast; then
  run "$out" --test-package attest "$@"
  exit 0
fi
# Extra arguments (--shard K/N, --list, ...) go to the first pass, which
# picks the mutants; the later passes take its survivors by name.
run "$out/pass1" --test-package attest --cargo-arg=--lib "$@"
case " $* " in *" --list "*) exit 0 ;; esac
re=$(survivors "$out/pass1") || exit 0
run "$out/pass2" --test-package attest -F "$re"
re=$(survivors "$out/pass2") || exit 0
# The CLI's tests with the library's: cargo-mutants' baseline does not run
# another package's tests given as --test-package, and with
# --test-workspace=true it still runs only the mutated package's (seen at
# cargo-mutants 27.1.0). So the workspace's tests run here once, unmutated:
# one that fails without a mutant (a tool the snapshot lacks) would
# "catch" every mutant.
if ! cargo test --workspace > "$out/pass3-unmutated.log" 2>&1; then
  echo "the workspace's tests fail unmutated in $tree ($out/pass3-unmutated.log): pass 3 would call every mutant caught" >&2
  exit 1
fi
timeout=900
run "$out/pass3" --test-workspace=true --baseline=skip -F "$re"
