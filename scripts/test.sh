#!/usr/bin/env bash
# The project's test command (README, .ci/run): formatting, lints, every test.
# Works on a fresh machine: it installs what the tests need itself (see scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# One build from scratch: incremental caches would only cost disk (tens of GB here) and time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Each step's heading carries the seconds since the start: where the time goes is in the log.
step() { printf '== [%5ds] %s\n' "$SECONDS" "$*"; }

source scripts/tools.sh
ensure_python_tools
ensure_redis
ensure_buf
ensure_prometheus
ensure_typescript_client
ensure_streamlit_tools

step "proto/: buf lint, buf breaking against the last released state (scripts/check-proto.sh)"
bash scripts/check-proto.sh

step "deploy/: manifests render and pass strict schemas (scripts/check-deploy.sh)"
scripts/check-deploy.sh
step "deploy/observability: promtool check and unit tests of every rule (scripts/check-rules.sh)"
bash scripts/check-rules.sh
step "deploy/: NetworkPolicy reachability with nca (scripts/check-network-policies.sh)"
bash scripts/check-network-policies.sh
step "argocd/ (scripts/check-argocd.sh)"
bash scripts/check-argocd.sh
step "ansible/ (scripts/check-ansible.sh)"
bash scripts/check-ansible.sh
step ".github/workflows (scripts/check-workflows.sh)"
bash scripts/check-workflows.sh
step "docker/ (scripts/check-dockerfiles.sh)"
bash scripts/check-dockerfiles.sh

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo test"
cargo test --workspace --locked
step "smoke run of the manifests: images built and run with podman (scripts/smoke.sh)"
bash scripts/smoke.sh
echo "OK: all checks passed in $SECONDS s"
