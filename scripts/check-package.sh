#!/usr/bin/env bash
# Packs loadbench as `npm publish` would (`prepare` builds dist/) and lints the tarball:
# publint (package.json fields, exports, files) and @arethetypeswrong/cli (types resolve for every
# export). Fails on their errors. The esm-only profile: loadbench is an ES module only (its entry
# uses top-level await), so CommonJS require() and TypeScript's old node10 resolution are out of scope.
set -euo pipefail
cd "$(dirname "$0")/.."
pack_dir="$(mktemp -d)"
trap 'rm -rf "$pack_dir"' EXIT
npm pack --pack-destination "$pack_dir" --silent >/dev/null
tarball="$(ls "$pack_dir"/*.tgz)"
echo "packed $(basename "$tarball") ($(tar -tzf "$tarball" | wc -l) files, $(du -k "$tarball" | cut -f1) KiB)"
npx --no-install publint run "$tarball"
npx --no-install attw --profile esm-only "$tarball"
