#!/usr/bin/env bash
# Static checks of the Kubernetes manifests under deploy/ (no cluster to dry-run against): each
# kustomization renders; its core objects pass kubernetes-validate --strict (unknown fields
# rejected); its custom resources pass their CRDs' strict JSON schemas (scripts/validate-crs.py:
# ScaledObject, Rollout, SealedSecret, IngressRoute, PodMonitor, ...) and scripts/validate-crds.mjs:
# the Prometheus objects' rule conventions, and cert-manager's Certificates and Issuers against
# cert-manager's API models with unknown fields rejected (no schema catalog has them here);
# every YAML file passes yamllint.
# What the manifests say is checked against the code by `cargo test -p tanksim-e2e --test
# platform`; reachability by scripts/check-network-policies.sh; the PromQL by
# `cargo test -p tanksim-e2e --test platform promql`.
#
# Usage: scripts/check-deploy.sh [KUSTOMIZATION_DIR...]
#   (default: deploy/observability and every deploy/overlays/*)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/tools.sh
ensure_python_tools
ensure_manifest_validators

if ! command -v kubectl >/dev/null 2>&1; then
    echo "check-deploy: kubectl not found; it renders the kustomizations (kubectl kustomize)." >&2
    echo "Install kubectl 1.27 or newer: https://kubernetes.io/docs/tasks/tools/#kubectl" >&2
    exit 1
fi

dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
    dirs=(deploy/observability)
    for overlay in deploy/overlays/*/; do dirs+=("${overlay%/}"); done
fi

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
for dir in "${dirs[@]}"; do
    echo "== $dir: kubectl kustomize"
    kubectl kustomize "$dir" >"$rendered"
    echo "== $dir: kubernetes-validate --strict"
    # Custom resources only warn here ("couldn't find schema"); validate-crs.py checks them.
    "$TANKSIM_TOOLS/venv/bin/kubernetes-validate" --strict --quiet --no-warn - <"$rendered"
    echo "== $dir: custom resources against the strict CRD schemas"
    "$TANKSIM_PYTHON" scripts/validate-crs.py <"$rendered"
    echo "== $dir: Prometheus rule conventions, cert-manager objects (validate-crds.mjs)"
    node scripts/validate-crds.mjs <"$rendered" >/dev/null
done
echo "== sealed secrets (scripts/check-sealed.py)"
"$TANKSIM_PYTHON" scripts/check-sealed.py
echo "== yamllint --strict deploy/"
"$TANKSIM_TOOLS/venv/bin/yamllint" --strict deploy/
echo "OK: manifests valid"
