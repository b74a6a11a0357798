#!/usr/bin/env bash
# (Re)makes an environment's sealed secrets, offline, with the environment's public sealing
# certificate (deploy/overlays/ENV/sealing.crt; scripts/seal.py does what kubeseal does).
# Three parts, each its own file, so one can be rotated without the others:
#
#   overlay           deploy/overlays/ENV/sealed-secrets.yaml: Secret `redis` (key `password`),
#                     the Redis password every service and KEDA use; random unless
#                     REDIS_PASSWORD is set. Plus, when GHCR_USER and GHCR_TOKEN are set,
#                     `ghcr-pull` (kubernetes.io/dockerconfigjson) for private images.
#                     Argo CD deploys it with the overlay.
#   grafana-admin     argocd/sealed/grafana-admin-ENV.yaml: Secret `grafana-admin` in
#                     `monitoring` (keys admin-user `admin`, admin-password random unless
#                     GRAFANA_ADMIN_PASSWORD is set), Grafana's login
#                     (argocd/values/kube-prometheus-stack.yaml). Ansible applies it.
#   repo-credentials  argocd/sealed/repo-credentials-ENV.yaml, needs REPO_TOKEN (REPO_USER,
#                     default `git`): Argo CD's credentials for a private repository. Ansible
#                     applies it.
#
# Usage: scripts/seal-secrets.sh ENV [PART ...] [--cert CERT.pem]
#   No PART: overlay and grafana-admin, and repo-credentials when REPO_TOKEN is set. Every
#   part named is re-sealed with new random passwords unless the variables above are set, so
#   name the parts you mean to rotate (`scripts/seal-secrets.sh prod grafana-admin`).
#   --cert: seal for another controller (e.g. `kubeseal --fetch-cert > cert.pem` of a cluster
#   whose own key is in use; the e2e-cluster workflow passes a throwaway key's certificate).
# Nothing in plain text is written anywhere; the plaintext exists only in this process. The
# passwords are not printed either: the script says where to read them back once unsealed.
set -euo pipefail
# --cert is relative to where the script was called from, the rest to the repository root.
caller="$PWD"
cd "$(dirname "$0")/.."

usage="usage: scripts/seal-secrets.sh ENV [overlay|grafana-admin|repo-credentials ...] [--cert CERT.pem]"
env="${1:?$usage}"
shift
overlay="deploy/overlays/$env"
cert="$overlay/sealing.crt"
parts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cert) cert="${2:?--cert needs a file}"; [[ "$cert" == /* ]] || cert="$caller/$cert"; shift 2 ;;
        overlay | grafana-admin | repo-credentials) parts+=("$1"); shift ;;
        *) echo "seal-secrets: unknown argument '$1'; $usage" >&2; exit 64 ;;
    esac
done
if [ ${#parts[@]} -eq 0 ]; then
    parts=(overlay grafana-admin)
    if [ -n "${REPO_TOKEN:-}" ]; then parts+=(repo-credentials); fi
fi
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }
[ -d "$overlay" ] || { echo "seal-secrets: no overlay $overlay" >&2; exit 64; }
[ -f "$cert" ] || { echo "seal-secrets: no certificate $cert (scripts/seal.py --new-key DIR makes a key pair)" >&2; exit 64; }
if wants repo-credentials && [ -z "${REPO_TOKEN:-}" ]; then
    echo "seal-secrets: repo-credentials needs REPO_TOKEN (a read-only token for the repository)" >&2
    exit 64
fi

source scripts/tools.sh
ensure_python_tools
seal() { "$TANKSIM_PYTHON" scripts/seal.py --cert "$cert" "$@"; }
# The header every sealed file starts with, after an optional line saying what it holds.
header() {
    if [ $# -gt 0 ]; then echo "# $1"; fi
    echo "# Sealed for the $env cluster by scripts/seal-secrets.sh: only its Sealed Secrets"
    echo "# controller can decrypt these. Re-run the script to rotate or re-seal."
}

if wants overlay; then
    # Values reach seal.py through its environment (KEY=env:VAR), never its command line.
    SEAL_REDIS_PASSWORD="${REDIS_PASSWORD:-$(openssl rand -hex 32)}"
    export SEAL_REDIS_PASSWORD
    {
        header
        seal --namespace tanksim --name redis password=env:SEAL_REDIS_PASSWORD
        if [ -n "${GHCR_USER:-}" ] && [ -n "${GHCR_TOKEN:-}" ]; then
            auth="$(printf '%s:%s' "$GHCR_USER" "$GHCR_TOKEN" | base64 -w0)"
            SEAL_DOCKERCONFIG="{\"auths\":{\"ghcr.io\":{\"auth\":\"$auth\"}}}"
            export SEAL_DOCKERCONFIG
            echo "---"
            seal --namespace tanksim --name ghcr-pull --type kubernetes.io/dockerconfigjson \
                .dockerconfigjson=env:SEAL_DOCKERCONFIG
        fi
    } >"$overlay/sealed-secrets.yaml.tmp"
    mv "$overlay/sealed-secrets.yaml.tmp" "$overlay/sealed-secrets.yaml"
    echo "seal-secrets: wrote $overlay/sealed-secrets.yaml"
fi

# argocd/sealed/ holds what exists before Argo CD syncs anything: the Ansible argocd role
# applies every argocd/sealed/*-ENV.yaml at bootstrap, creating the namespaces first.
if wants grafana-admin; then
    mkdir -p argocd/sealed
    file="argocd/sealed/grafana-admin-$env.yaml"
    {
        header "Grafana's admin login (argocd/values/kube-prometheus-stack.yaml), applied by Ansible."
        SEAL_GRAFANA_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-$(openssl rand -base64 24)}"
        export SEAL_GRAFANA_PASSWORD
        seal --namespace monitoring --name grafana-admin \
            admin-user=admin admin-password=env:SEAL_GRAFANA_PASSWORD
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file; once the $env cluster has unsealed it, the password is"
    echo "  kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d"
fi

if wants repo-credentials; then
    mkdir -p argocd/sealed
    file="argocd/sealed/repo-credentials-$env.yaml"
    {
        header "Argo CD's credentials for this repository, applied by Ansible."
        seal --namespace argocd --name tanksim-repo --label argocd.argoproj.io/secret-type=repository \
            type=git url=https://github.com/tanksim/tanksim.git username="${REPO_USER:-git}" password=env:REPO_TOKEN
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file"
fi
