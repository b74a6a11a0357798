#!/usr/bin/env bash
# The smoke run of the Kubernetes manifests on this machine: the images built with podman, the
# `smoke` overlay rendered, its pods run with `podman kube play --network host`, an API key
# made with `tanksim keys create` in the smoke Redis (the gateway requires auth, as in every
# overlay), a call without it refused (UNAUTHENTICATED), the MC-tau example submitted through
# the gateway with the CLI image and that key, and its results compared with the embedded
# mode's (same spec, same chunking: they must be equal bit for bit). The services talk mTLS as
# in a cluster, with certificates this script makes (no cert-manager under podman). Proves the
# images, commands, flags, variables, ports and the mesh wiring in deploy/ are real. Then
# `podman kube down`.
#
#   bash scripts/smoke.sh [--no-build]     (--no-build: use the images already built)
#
# The images hold the binaries `cargo test --workspace` builds (scripts/images.sh
# --test-binaries), which the test command has built just before: no second build.
#
# podman runs what a kubelet would, with the differences the conversion makes
# (scripts/kube-pods.py): each Deployment/StatefulSet becomes one Pod (podman has no
# controllers), Secrets referenced by env become literal values (podman 4.3 cannot read a
# kube Secret into a variable), Secret volumes become host directories made here, container
# ports are dropped (host networking has no port mappings), and only Pods and ConfigMaps are
# played. Never podman's bridge network: everything is on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/tools.sh
ensure_python_tools

build=1
[ "${1:-}" = "--no-build" ] && build=0
if [ "$build" = 1 ]; then
    bash scripts/images.sh --tag local --test-binaries --no-checks
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$TANKSIM_TOOLS/containers/containers.conf}"

work="$(mktemp -d)"
pods="$work/pods.yaml"
# podman keeps a ConfigMap's volume after `kube down`, with whatever ownership its first use
# gave it: each run starts from fresh ones.
remove_volumes() {
    local name
    for name in $("$TANKSIM_PYTHON" -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap": print(d["metadata"]["name"])' "$pods"); do
        podman volume rm -f "$name" >/dev/null 2>&1 || true
    done
}
cleanup() {
    local rc=$?
    if [ -f "$pods" ]; then
        if [ $rc -ne 0 ]; then
            echo "== smoke: FAILED; pod logs:" >&2
            for c in $(podman ps -a --format '{{.Names}}' --filter label=io.kubernetes.pod.namespace 2>/dev/null) \
                $(podman ps -a --format '{{.Names}}' | grep -E '^(gateway|dispatcher|results|worker|redis)-' || true); do
                echo "---- $c" >&2
                podman logs --tail 30 "$c" >&2 2>&1 || true
            done
        fi
        podman kube down "$pods" >/dev/null 2>&1 || true
        remove_volumes
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

echo "== smoke: rendering deploy/overlays/smoke"
kubectl kustomize deploy/overlays/smoke >"$work/rendered.yaml"
# One Redis user per role (deploy/base/redis-users.acl), each with a new random password, as
# the Secrets `redis-user-ROLE` hold them in a cluster.
secrets=()
for role in dispatcher results worker gateway keda keys-admin probe; do
    password="$(openssl rand -hex 24)"
    secrets+=(--secret "redis-user-$role/username=$role" --secret "redis-user-$role/password=$password")
    if [ "$role" = keys-admin ]; then keys_admin_password="$password"; fi
done
# The mesh: a CA and one certificate per role, as cert-manager makes them in a cluster
# (deploy/base/mesh-certificates.yaml: the identity name `<role>.identity.tanksim`, `server auth`
# for the dispatcher and results, `client auth` for the gateway and the workers), the serving
# ones also for 127.0.0.1, the host of the peer URLs here. Each role's directory has the
# Secret's layout (tls.crt, tls.key, ca.crt) and is mounted where the Secret `mesh-<role>` would
# be. Readable by the pods' user 65532 (these keys live only as long as this run).
mesh="$work/mesh"
mkdir -p "$mesh"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=tanksim-smoke-mesh-ca -keyout "$mesh/ca.key" -out "$mesh/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
for role in gateway dispatcher results worker; do
    dir="$mesh/mesh-$role"
    mkdir -p "$dir"
    case "$role" in
        dispatcher | results) usage=serverAuth names="DNS:$role.identity.tanksim,DNS:$role,DNS:localhost,IP:127.0.0.1" ;;
        *) usage=clientAuth names="DNS:$role.identity.tanksim" ;;
    esac
    { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$role" \
        -keyout "$dir/tls.key" -out "$mesh/$role.csr" &&
        openssl x509 -req -in "$mesh/$role.csr" -CA "$mesh/ca.crt" -CAkey "$mesh/ca.key" -days 2 \
            -out "$dir/tls.crt" \
            -extfile <(printf 'subjectAltName=%s\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$names" "$usage")
    } 2>"$mesh/openssl.log" || { cat "$mesh/openssl.log" >&2; echo "smoke: cannot make the $role certificate" >&2; exit 1; }
    cp "$mesh/ca.crt" "$dir/ca.crt"
    chmod 0755 "$dir" && chmod 0644 "$dir"/*
    secrets+=(--secret-dir "mesh-$role=$dir")
done
"$TANKSIM_PYTHON" scripts/kube-pods.py "${secrets[@]}" <"$work/rendered.yaml" >"$pods"

# Leftovers of an interrupted run would hold the ports.
podman kube down "$pods" >/dev/null 2>&1 || true
remove_volumes
echo "== smoke: podman kube play --network host"
podman kube play --network host "$pods" >/dev/null

cli_image=ghcr.io/tanksim/tanksim:local
# The CLI image on the host's network; PODMAN_OPTION... IMAGE ARG...
podman_cli() {
    podman run --rm --network host --read-only --user 65532:65532 \
        -v "$PWD/examples:/examples:ro" -v "$work/out:/out" "$@"
}
# A call to the gateway with the smoke key. `-e NAME` copies the variable from this script's
# environment: the key is on no command line (`ps`, podman's own logs).
cli() { podman_cli -e TANKSIM_TOKEN "$cli_image" "$@"; }
mkdir -p "$work/out" && chmod 777 "$work/out"
gateway=http://127.0.0.1:15051

# A key of tenant `smoke`, stored in the smoke Redis (127.0.0.1:16379, the smoke overlay's
# REDIS_ADDRESS) as Redis user `keys-admin`, where the gateway looks keys up as user `gateway`
# (TANKSIM_API_KEYS_REDIS_URL). The Redis URL, with its password, goes by environment too. Only
# the key is on the CLI's stdout.
create_key() {
    local key
    key="$(TANKSIM_REDIS_URL="redis://keys-admin:$keys_admin_password@127.0.0.1:16379" podman_cli -e TANKSIM_REDIS_URL \
        "$cli_image" keys create --tenant smoke --name smoke --scopes jobs:submit,jobs:read)" ||
        { echo "smoke: tanksim keys create failed" >&2; exit 1; }
    [[ "$key" =~ ^tsk_[A-Za-z0-9_-]{43}$ ]] || { echo "smoke: keys create printed no key on stdout" >&2; exit 1; }
    TANKSIM_TOKEN="$key"
    export TANKSIM_TOKEN
}

echo "== smoke: waiting for every service to report SERVING (its dependencies answer)"
TANKSIM_TOKEN=""
for i in $(seq 1 90); do
    ready=0
    for svc in gateway dispatcher results worker; do
        if podman logs "$svc-$svc" 2>&1 | grep -q '"serving":true'; then ready=$((ready + 1)); fi
    done
    if [ "$ready" = 4 ]; then
        # The dispatcher is SERVING only while Redis answers: the key can be stored now.
        if [ -z "$TANKSIM_TOKEN" ]; then
            echo "== smoke: tanksim keys create --tenant smoke (in the smoke Redis)"
            create_key
        fi
        if cli list --gateway "$gateway" >/dev/null 2>&1; then break; fi
    fi
    [ "$i" = 90 ] && { echo "smoke: the services were not all serving within 90 s" >&2; exit 1; }
    sleep 1
done

echo "== smoke: a call without a key is refused"
if out="$(podman_cli "$cli_image" list --gateway "$gateway" 2>&1)"; then
    echo "smoke: tanksim list without a token succeeded; the gateway must require auth:" >&2
    echo "$out" >&2
    exit 1
fi
grep -q 'Unauthenticated' <<<"$out" || { echo "smoke: expected UNAUTHENTICATED, got: $out" >&2; exit 1; }
echo "   $out"

echo "== smoke: tanksim submit examples/mc-tau.yaml --watch (through the gateway)"
cli submit /examples/mc-tau.yaml --gateway "$gateway" --watch | tee "$work/submit.txt"
id="$(head -1 "$work/submit.txt")"
[ -n "$id" ] || { echo "smoke: no job id in the submit output" >&2; exit 1; }
cli results "$id" --gateway "$gateway" --json >"$work/out/deployed.json"

echo "== smoke: the same spec in the embedded mode (tanksim run, in the CLI image)"
podman run --rm --network none --read-only --user 65532:65532 -v "$PWD/examples:/examples:ro" \
    -v "$work/out:/out" ghcr.io/tanksim/tanksim:local run /examples/mc-tau.yaml --out /out/embedded --no-plots >/dev/null

"$TANKSIM_PYTHON" - "$work/out/deployed.json" "$work/out/embedded/results.json" <<'EOF'
import json, sys
deployed, embedded = (json.load(open(p)) for p in sys.argv[1:3])
assert deployed["job"]["state"] == "JOB_STATE_SUCCEEDED", deployed["job"]
for key in ("metrics", "sweep"):
    if deployed.get(key) != embedded.get(key):
        sys.exit(f"smoke: `{key}` differs between the deployed pods and the embedded run")
runs = deployed["metrics"][0]["count"] if deployed["metrics"] else 0
print(f"smoke: OK: job {deployed['job']['id']} through the podman pods equals the embedded run "
      f"({len(deployed['metrics'])} metrics, {runs} runs)")
EOF
