#!/usr/bin/env bash
# Regenerates the messages and service descriptors of the public API (proto/tanksim/v1) into
# src/gen/tanksim/v1, or into the directory given as the first argument.
#
#   clients/typescript/generate.sh            # refresh the committed code
#   clients/typescript/generate.sh /tmp/gen   # what the drift check compares it with
#
# Runs `buf generate` with buf.gen.yaml: protoc-gen-es from node_modules (pinned in
# package.json; `npm ci` first), target js+dts. buf is $TANKSIM_BUF, else the one
# scripts/tools.sh's ensure_buf installs into .tools/node. The generated files name the
# protoc-gen-es version in their header: regenerate with the pinned one unless you mean to
# upgrade (then commit package.json, package-lock.json and src/gen together).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$here/src/gen}"
buf="${TANKSIM_BUF:-$repo/.tools/node/node_modules/.bin/buf}"

if [ ! -x "$buf" ]; then
    echo "generate.sh: no buf at $buf (source scripts/tools.sh && ensure_buf, or set TANKSIM_BUF)" >&2
    exit 1
fi
if [ ! -x "$here/node_modules/.bin/protoc-gen-es" ]; then
    echo "generate.sh: no protoc-gen-es in $here/node_modules (run npm ci there)" >&2
    exit 1
fi

# buf writes under <output>/src/gen (buf.gen.yaml's `out`); generate into a scratch directory
# and replace the whole tree, so files of a removed proto do not linger.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
(cd "$here" && "$buf" generate --template buf.gen.yaml --output "$scratch")
mkdir -p "$out"
rm -rf "$out/tanksim"
cp -R "$scratch/src/gen/tanksim" "$out/"
