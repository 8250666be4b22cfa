#!/usr/bin/env bash
# Copy the chart library the staff status page serves from node_modules (installed by `npm ci`
# from package-lock.json) into the Python package, so that `pip install .` ships it without node.
# Run after changing the chart.js version in package.json; tests/browser/test_vendored_chart.py
# fails until the copy is byte-identical to the npm-installed file again.
set -euo pipefail
cd "$(dirname "$0")/.."

source_dir=node_modules/chart.js
target_dir=entrypoints/http/status_assets/static/vendor

[ -f "$source_dir/dist/chart.umd.js" ] || {
    echo "node_modules/chart.js is missing: run 'npm ci' first" >&2
    exit 1
}
mkdir -p "$target_dir"
cp "$source_dir/dist/chart.umd.js" "$target_dir/chart.umd.js"
cp "$source_dir/LICENSE.md" "$target_dir/chart.js.LICENSE.md"
version=$(node -p "require('./$source_dir/package.json').version")
echo "chart.js $version copied to $target_dir"
