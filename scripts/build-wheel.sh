#!/usr/bin/env bash
# Build the PyPI wheel `attest-provenance` (pyproject.toml: maturin,
# bindings = "bin") and check it as a user gets it: installed with pip into
# a fresh venv (and with `uv tool install` when uv is there), the installed
# `attest` must verify the README's offline example.
#
#   scripts/build-wheel.sh            release wheel in target/wheels (a release
#                                     build: 6-10 min on 2 cores from scratch)
#   scripts/build-wheel.sh --dev      the same from the dev profile, reusing the
#                                     test build (tests/wheel.rs runs this)
#   --out DIR                         where the wheel goes
#
# Needs python3 (with venv) and maturin (`pip install maturin`). Exits
# non-zero on any failure, naming the step.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=(--release)
out=target/wheels
while [ $# -gt 0 ]; do
    case "$1" in
        --dev) profile=() ;;
        --out) out="$2"; shift ;;
        *) echo "usage: $0 [--dev] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done

command -v maturin >/dev/null || {
    echo "maturin is not installed: pip install 'maturin>=1.5,<2'" >&2
    exit 1
}
mkdir -p "$out"
rm -f "$out"/attest_provenance-*.whl

echo "== maturin build ${profile[*]:-(dev profile)}"
maturin build "${profile[@]}" --out "$out"
wheels=("$out"/attest_provenance-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || {
    echo "expected one attest_provenance wheel in $out, found: ${wheels[*]}" >&2
    exit 1
}
wheel="${wheels[0]}"
echo "built $wheel ($(du -h "$wheel" | cut -f1))"

# The wheel must hold exactly one program, `attest`, and no Python code.
python3 - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
scripts = sorted(n.split("/")[-1] for n in names if ".data/scripts/" in n)
assert scripts == ["attest"], f"the wheel's scripts are {scripts}, expected ['attest']"
code = [n for n in names if n.endswith(".py")]
assert not code, f"unexpected Python files: {code}"
print("wheel contents: scripts/attest, metadata")
EOF

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
example=(verify --offline examples/sigstore-js-2.1.0.tgz -d sha512 --owner sigstore
    --bundle examples/sigstore-js-2.1.0-bundle.json)

echo "== pip install into a fresh venv"
python3 -m venv "$scratch/venv"
# --no-index: the wheel has no dependencies, and nothing may come from PyPI
# in its place (a published attest-provenance must not mask this build).
"$scratch/venv/bin/pip" install --quiet --no-index "$wheel"
installed="$scratch/venv/bin/attest"
[ -x "$installed" ] || { echo "pip did not install an attest script" >&2; exit 1; }
"$installed" --version
echo "\$ attest ${example[*]}"
"$installed" "${example[@]}"

if command -v uv >/dev/null; then
    echo "== uv tool install"
    UV_TOOL_DIR="$scratch/uv-tools" UV_TOOL_BIN_DIR="$scratch/uv-bin" \
        uv tool install --quiet --no-index "$wheel"
    "$scratch/uv-bin/attest" "${example[@]}"
else
    echo "uv is not installed: uv tool install not checked"
fi
echo "wheel OK: $wheel"
