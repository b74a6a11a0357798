#!/usr/bin/env bash
# The project's test command (README, .ci/run): formatting, lints, every test.
# Works on a fresh machine: it installs what the tests need itself (see scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/tools.sh
ensure_python_tools

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== benches and examples build"
cargo build --workspace --benches --examples --locked
echo "OK: all checks passed"
