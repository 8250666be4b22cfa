#!/usr/bin/env bash
# The dependency locks: requirements/runtime.txt (`pip install .`), requirements/test.txt
# (`.[test]`) and requirements/dev.txt (`.[dev]`), compiled by uv from pyproject.toml's ranges to
# exact versions with sha256 hashes, for every platform (--universal) from Python 3.11 on. dev is
# compiled first; test and runtime are constrained by it, so a package has one version in all three.
#
#   scripts/lock.sh           refresh: every package to today's newest release that the ranges allow
#   scripts/lock.sh --keep    after editing pyproject.toml: re-resolve, keeping the locked versions
#                             wherever the ranges still allow them (adds, drops, moves only what must)
#   scripts/lock.sh --check   change nothing; fail when the locks and pyproject.toml disagree
#                             (scripts/check_lock.py, then a --keep resolution into a temporary
#                             folder compared with the committed files); CI runs this
#
# uv comes from PyPI at the version below, into its own virtual environment outside the tree
# ($ALMABRIDGE_LOCK_VENV, by default under $TMPDIR), never into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PACKAGING_VERSION=26.4
LOCKS=(dev test runtime) # dev first: the others are constrained by it
mode=${1:-refresh}
case "$mode" in
refresh | --keep | --check) ;;
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
*)
    echo "usage: scripts/lock.sh [--keep | --check]" >&2
    exit 2
    ;;
esac

tool_venv=${ALMABRIDGE_LOCK_VENV:-${TMPDIR:-/tmp}/almabridge-lock-uv-$UV_VERSION}
tools="uv==$UV_VERSION packaging==$PACKAGING_VERSION"
if [ "$(cat "$tool_venv/.almabridge-lock-tools" 2>/dev/null)" != "$tools" ]; then
    rm -rf "$tool_venv"
    python3 -m venv "$tool_venv"
    # shellcheck disable=SC2086 # $tools is two requirement words
    "$tool_venv/bin/pip" install -q --disable-pip-version-check $tools
    echo "$tools" >"$tool_venv/.almabridge-lock-tools"
fi
uv="$tool_venv/bin/uv"

# compile NAME OUTPUT [uv options]: one lock from pyproject.toml. The options that shape the file's
# text live only here, so refresh, --keep and --check write byte-identical files.
compile() {
    local name=$1 output=$2
    shift 2
    local extra=()
    [ "$name" = runtime ] || extra=(--extra "$name")
    local constraint=()
    [ "$name" = dev ] || constraint=(--constraint requirements/dev.txt)
    "$uv" pip compile pyproject.toml "${extra[@]}" "${constraint[@]}" \
        --universal --python-version 3.11 --generate-hashes \
        --custom-compile-command "scripts/lock.sh" \
        --quiet --output-file "$output" "$@"
}

if [ "$mode" = --check ]; then
    "$tool_venv/bin/python" scripts/check_lock.py
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    stale=0
    for name in "${LOCKS[@]}"; do
        # uv keeps the versions of an existing output file, so start from a copy of the lock.
        cp "requirements/$name.txt" "$scratch/$name.txt"
        compile "$name" "$scratch/$name.txt"
        if ! diff -u "requirements/$name.txt" "$scratch/$name.txt" >"$scratch/$name.diff"; then
            echo "requirements/$name.txt does not match pyproject.toml:" >&2
            cat "$scratch/$name.diff" >&2
            stale=1
        fi
    done
    if [ "$stale" -ne 0 ]; then
        echo "the locks are stale: run scripts/lock.sh --keep (or scripts/lock.sh to upgrade)" >&2
        exit 1
    fi
    echo "locks match pyproject.toml: ${LOCKS[*]}"
    exit 0
fi

mkdir -p requirements
upgrade=()
[ "$mode" = refresh ] && upgrade=(--upgrade)
for name in "${LOCKS[@]}"; do
    compile "$name" "requirements/$name.txt" "${upgrade[@]}"
done
"$tool_venv/bin/python" scripts/check_lock.py
echo "locked with uv $UV_VERSION: requirements/{$(IFS=,; echo "${LOCKS[*]}")}.txt"
