#!/usr/bin/env bash
# The shell of the GitHub Action (action.yml): `action.sh install` puts
# `attest` on PATH, `action.sh run` runs `attest verify` or `attest attest`
# from the action's inputs and writes its outputs.
#
# The logic lives here rather than inline in action.yml so that it can be
# run, and tested, outside a runner: action.yml maps every input to an
# INPUT_<NAME> variable (upper case, `-` as `_`), as the runner does for
# JavaScript actions, and this script reads only those, GITHUB_OUTPUT,
# GITHUB_PATH, RUNNER_TEMP and GITHUB_ACTION_PATH (crates/attest-cli/tests/action.rs).
set -euo pipefail

die() {
    printf '::error title=attest::%s\n' "$*" >&2
    exit 2
}

# The value of input $1 (`subject-path` reads INPUT_SUBJECT_PATH), or "".
input() {
    local var
    var="INPUT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')"
    printf '%s' "${!var:-}"
}

# Whether input $1 is true, as actions/toolkit's getBooleanInput reads it.
flag() {
    case "$(input "$1")" in
        true | True | TRUE) return 0 ;;
        "" | false | False | FALSE) return 1 ;;
        *) die "input $1 must be true or false, got '$(input "$1")'" ;;
    esac
}

# Set output $1 to $2, in the runner's multi-line form: the delimiter is
# random so that no value (a JSON document, say) can end it early.
output() {
    local file="${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: the runner sets it; set it to a file to run this outside Actions}"
    local delim
    delim="ATTEST_EOF_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"$file"
}

# Expand `subject-path`: globs, one per line or separated by commas (as
# actions/attest takes them), into FILES. A pattern that matches nothing is
# an error, so a typo cannot silently attest or verify fewer files.
expand_paths() {
    FILES=()
    local line pattern matches
    while IFS= read -r line; do
        IFS=',' read -ra patterns <<<"$line"
        for pattern in "${patterns[@]}"; do
            pattern="${pattern#"${pattern%%[![:space:]]*}"}"
            pattern="${pattern%"${pattern##*[![:space:]]}"}"
            [ -n "$pattern" ] || continue
            mapfile -t matches < <(compgen -G "$pattern" | LC_ALL=C sort)
            [ "${#matches[@]}" -gt 0 ] || die "subject-path: no file matches '$pattern'"
            FILES+=("${matches[@]}")
        done
    done <<<"$(input subject-path)"
}

# Append `--flag value` to ARGS for each gh-style input that is set.
pass_through() {
    local name value
    for name in "$@"; do
        value="$(input "$name")"
        [ -z "$value" ] || ARGS+=("--$name" "$value")
    done
}

# Extra arguments for attest (input `args`), split as a shell splits words
# without expanding anything.
extra_args() {
    local extra
    read -ra extra <<<"$(input args)"
    ARGS+=("${extra[@]}")
}

install() {
    local version install_mode root
    version="$(input version)"
    install_mode="$(input install)"
    install_mode="${install_mode:-auto}"
    root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/attest-install"
    case "$install_mode" in
        none)
            command -v attest >/dev/null || die "install: none, but attest is not on PATH"
            ;;
        auto | pip | cargo) ;;
        *) die "install must be auto, pip, cargo or none, got '$install_mode'" ;;
    esac
    if [ "$install_mode" = auto ] && [ -z "$version" ] && command -v attest >/dev/null; then
        echo "attest is already installed: $(command -v attest)"
    elif [ "$install_mode" = none ]; then
        :
    else
        local bin=""
        if [ "$install_mode" != cargo ]; then
            # The wheel: a static-ish binary in a venv of its own, so it
            # cannot clash with the job's Python packages.
            if python3 -m venv "$root/venv" &&
                "$root/venv/bin/pip" install --quiet "attest-provenance${version:+==$version}"; then
                bin="$root/venv/bin"
            elif [ "$install_mode" = pip ]; then
                die "pip install attest-provenance${version:+==$version} failed"
            else
                echo "The wheel could not be installed; building attest with cargo instead." >&2
            fi
        fi
        if [ -z "$bin" ]; then
            command -v cargo >/dev/null || die "cargo is not installed (needed to build attest)"
            # From the action's own checkout: the version the workflow pinned
            # with `uses: …@ref` is the one that runs.
            cargo install --locked --quiet --root "$root/cargo" \
                --path "${GITHUB_ACTION_PATH:?}/crates/attest-cli" --bin attest
            bin="$root/cargo/bin"
        fi
        echo "$bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
        export PATH="$bin:$PATH"
    fi
    attest --version
}

run_verify() {
    ARGS=(verify)
    expand_paths
    ARGS+=("${FILES[@]}")
    local checksums name digest
    checksums="$(input subject-checksums)"
    [ -z "$checksums" ] || ARGS+=(--manifest "$checksums")
    name="$(input subject-name)"
    digest="$(input subject-digest)"
    if [ -n "$digest" ]; then
        # An image is verified by its digest with the registry's referrers
        # when the name is one (oci://NAME@DIGEST); anything else by digest.
        case "$name" in
            oci://*) ARGS+=("${name%@*}@$digest") ;;
            *) ARGS+=("$digest") ;;
        esac
    elif [ -n "$name" ]; then
        ARGS+=("$name")
    fi
    [ "${#ARGS[@]}" -gt 1 ] ||
        die "nothing to verify: set subject-path, subject-checksums or subject-digest"
    pass_through owner repo signer-workflow signer-repo source-ref predicate-type cert-oidc-issuer bundle policy custom-trusted-root
    if flag offline; then ARGS+=(--offline); fi
    extra_args
    ARGS+=(--format json)

    local json_file code=0
    json_file="$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/attest-verify.XXXXXX.json")"
    echo "attest ${ARGS[*]}" >&2
    attest "${ARGS[@]}" >"$json_file" || code=$?
    output json "$(cat "$json_file")"
    output json-path "$json_file"
    if [ "$code" -eq 0 ]; then output verified true; else output verified false; fi
    # The step fails as attest did (its exit code says how far it got).
    return "$code"
}

run_attest() {
    ARGS=(attest)
    expand_paths
    ARGS+=("${FILES[@]}")
    local checksums name digest bundle
    checksums="$(input subject-checksums)"
    [ -z "$checksums" ] || ARGS+=(--subject-checksums "$checksums")
    name="$(input subject-name)"
    digest="$(input subject-digest)"
    if [ -n "$name" ] || [ -n "$digest" ]; then
        ARGS+=(--subject-name "${name#oci://}" --subject-digest "$digest")
    fi
    [ "${#ARGS[@]}" -gt 1 ] ||
        die "nothing to attest: set subject-path, subject-checksums or subject-name and subject-digest"
    if flag push-to-registry; then
        # As actions/attest: subject-name is the image, subject-digest its digest.
        [ -n "$name" ] && [ -n "$digest" ] ||
            die "push-to-registry needs subject-name (the image) and subject-digest"
        ARGS+=(--push-to-registry "oci://${name#oci://}")
    fi
    # actions/attest stores every attestation with the repository's; so
    # does this, unless told not to (upload: false).
    if [ "$(input upload)" != false ]; then ARGS+=(--upload github); fi
    pass_through signing-config trusted-root instance
    bundle="$(input bundle-path)"
    if [ -z "$bundle" ]; then
        bundle="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/attest.XXXXXX")/attestation.sigstore.json"
    fi
    ARGS+=(-o "$bundle")
    extra_args
    echo "attest ${ARGS[*]}" >&2
    # The token for --upload github: the github-token input, as actions/attest.
    local token
    token="$(input github-token)"
    GH_TOKEN="${token:-${GH_TOKEN:-}}" attest "${ARGS[@]}"
    output bundle-path "$bundle"
    # attest attest verifies the bundle before writing it: written is verified.
    output verified true
}

main() {
    case "${1:-}" in
        install) install ;;
        run)
            case "$(input mode)" in
                "" | verify) run_verify ;;
                attest) run_attest ;;
                *) die "mode must be verify or attest, got '$(input mode)'" ;;
            esac
            ;;
        *) die "usage: action.sh install|run" ;;
    esac
}

main "$@"
