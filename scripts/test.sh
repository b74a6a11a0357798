#!/usr/bin/env bash
# The project's test command (README, .ci/run): formatting, lints, every test.
# Works on a fresh machine: it installs what the tests need itself (see scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# One build from scratch: incremental caches would only cost disk (tens of GB here) and time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

source scripts/tools.sh
ensure_python_tools
ensure_redis
ensure_buf

echo "== buf lint (proto/)"
(cd proto && "$TANKSIM_BUF" lint)
# Breaking-change check against origin/main when it exists and has the protos: on a branch it
# rejects changes that would break published clients; on main itself it is trivially clean.
if git rev-parse --verify -q origin/main >/dev/null && git cat-file -e origin/main:proto/buf.yaml 2>/dev/null; then
    echo "== buf breaking (against origin/main)"
    (cd proto && "$TANKSIM_BUF" breaking --against "../.git#ref=origin/main,subdir=proto")
fi

echo "== deploy/: manifests render and pass strict schemas (scripts/check-deploy.sh)"
scripts/check-deploy.sh
echo "== deploy/: NetworkPolicy reachability with nca (scripts/check-network-policies.sh)"
bash scripts/check-network-policies.sh
echo "== argocd/ (scripts/check-argocd.sh)"
bash scripts/check-argocd.sh
echo "== ansible/ (scripts/check-ansible.sh)"
bash scripts/check-ansible.sh
echo "== .github/workflows (scripts/check-workflows.sh)"
bash scripts/check-workflows.sh
echo "== docker/ (scripts/check-dockerfiles.sh)"
bash scripts/check-dockerfiles.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== smoke run of the manifests: images built and run with podman (scripts/smoke.sh)"
bash scripts/smoke.sh
echo "== benches and examples build"
cargo build --workspace --benches --examples --locked
echo "OK: all checks passed"
