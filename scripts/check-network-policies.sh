#!/usr/bin/env bash
# The NetworkPolicy reachability test: computes, from the rendered overlays, who can reach
# whom and on which ports, and fails unless that is exactly tanksim's zero-trust graph
# (deploy/base/network-policies.yaml's header). No cluster is needed: nca, IBM's
# network-config-analyzer, evaluates the policies against the pods of the rendered
# Deployments/StatefulSets plus the pods around tanksim (deploy/tests/network/peers.yaml).
#
# For each overlay (dev, prod) three independent checks run, each able to fail alone:
#   1. permits   every path in deploy/tests/network/allowed.yaml is open;
#   2. forbids   no path in deploy/tests/network/forbidden*.yaml is open (named invariants:
#                gateway -> worker, gateway -> redis but 6379, anything -> worker:50054, the
#                intruder pod, the internet...);
#   3. exact     the full connectivity touching namespace tanksim equals
#                deploy/tests/network/expected-connectivity.txt line for line, so an
#                accidental new path fails even when no invariant names it.
# Before that, the specification itself is checked once: each policy of allowed.yaml alone
# must fail `permits` against deny-all, and each policy of forbidden*.yaml alone must fail
# `forbids` against allow-all. A specification policy that captures nothing (a typo in a
# label) would otherwise pass forever.
#
# Usage: scripts/check-network-policies.sh [--rendered FILE]...
#   default: renders deploy/overlays/dev and deploy/overlays/prod with `kubectl kustomize`.
#   --rendered FILE: checks an already-rendered manifest stream instead, e.g. a scratch copy
#                    with a loosened policy, to watch the test fail. Repeatable.
# Exits non-zero on any failure, after printing what differs. About 10 s on 2 cores (plus about
# 10 s once, to install nca into .tools/nca-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

NCA_VERSION=2.1.0
TESTS=deploy/tests/network
TOOLS="${TANKSIM_TOOLS:-$PWD/.tools}"
NCA_VENV="$TOOLS/nca-venv"

# nca in its own virtualenv: it pins its own networkx/greenery/PyYAML, kept away from the
# test tools' venv (scripts/tools.sh). The stamp names the version, so a bump reinstalls.
ensure_nca() {
    local stamp="$NCA_VENV/.installed-nca-$NCA_VERSION"
    if [ ! -f "$stamp" ]; then
        echo "== installing network-config-analyzer $NCA_VERSION into $NCA_VENV"
        rm -rf "$NCA_VENV"
        python3 -m venv "$NCA_VENV"
        "$NCA_VENV/bin/pip" install --quiet --disable-pip-version-check \
            "network-config-analyzer==$NCA_VERSION"
        touch "$stamp"
    fi
    NCA="$NCA_VENV/bin/nca"
    PY="$NCA_VENV/bin/python"
}

rendered_files=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rendered)
            [ $# -ge 2 ] || { echo "check-network-policies: --rendered needs a file" >&2; exit 64; }
            rendered_files+=("$2")
            shift 2
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "check-network-policies: unknown argument $1 (see --help)" >&2
            exit 64
            ;;
    esac
done

ensure_nca
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# What to check: NAME<TAB>FILE per line.
targets=()
if [ ${#rendered_files[@]} -eq 0 ]; then
    command -v kubectl >/dev/null 2>&1 || {
        echo "check-network-policies: kubectl not found; it renders the overlays (kubectl kustomize)." >&2
        exit 1
    }
    for overlay in dev prod; do
        kubectl kustomize "deploy/overlays/$overlay" >"$work/$overlay.rendered.yaml"
        targets+=("$overlay"$'\t'"$work/$overlay.rendered.yaml")
    done
else
    for file in "${rendered_files[@]}"; do
        [ -f "$file" ] || { echo "check-network-policies: no such file: $file" >&2; exit 64; }
        targets+=("$(basename "$file")"$'\t'"$file")
    done
fi

# The pods nca sees: the rendered workloads, one pod each, plus peers.yaml. nca makes
# min(replicas, 2) pods per workload, so a workload at replicas 0 (the worker between jobs,
# under KEDA) would vanish from the analysis; it has pods at other times, so it gets one.
# A Rollout with its own pod template becomes a Deployment here (nca knows no Rollout);
# with workloadRef, as the gateway has, the referenced Deployment already gives the pods.
topology() {
    "$PY" - "$1" "$TESTS/peers.yaml" >"$2" <<'PY'
import sys
import yaml

SCALED = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
# What nca builds its topology from (Services only matter to Ingress/Gateway resources).
KEPT = SCALED | {"DaemonSet", "Job", "CronJob", "Pod", "Namespace", "Service"}
docs = []
for path in sys.argv[1:]:
    with open(path) as f:
        docs.extend(d for d in yaml.safe_load_all(f) if d)
out = []
for d in docs:
    kind = d.get("kind")
    spec = d.get("spec") or {}
    if kind in SCALED and "replicas" in spec:
        spec["replicas"] = 1
    if kind == "Rollout" and spec.get("template"):
        out.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": d["metadata"],
                    "spec": {"replicas": 1, "selector": spec.get("selector", {}),
                             "template": spec["template"]}})
    elif kind in KEPT:
        out.append(d)
yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
PY
}

# Runs nca; its output goes to $work/nca.log, shown when the caller reports a failure.
run_nca() {
    set +e
    "$NCA" "$@" >"$work/nca.log" 2>&1
    local rc=$?
    set -e
    return $rc
}

show_nca_log() {
    # Services' appProtocol is irrelevant to policies; everything else nca said is shown.
    grep -v 'appProtocol is not yet supported' "$work/nca.log" | sed 's/^/    /' >&2
}

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# verdict NAME PASS_TEXT FAIL_TEXT NCA_ARGS...: nca's exit code 0 is a pass and 1 a failed
# query (it names the offending connections); anything else (7: an invalid policy, which the
# API server would refuse as well) means the policies could not be evaluated at all.
verdict() {
    local name="$1" pass="$2" failure="$3" rc=0
    shift 3
    run_nca "$@" || rc=$?
    case "$rc" in
        0) echo "   ${1#--}: $pass" ;;
        1) fail "$name: $failure; nca says:"; show_nca_log ;;
        *) fail "$name: nca could not evaluate the policies (rc $rc):"; show_nca_log ;;
    esac
}

# --- 1. the specification can fail ----------------------------------------------------
first_file="$(printf '%s\n' "${targets[0]}" | cut -f2)"
topology "$first_file" "$work/spec-topology.yaml"
cat >"$work/deny-all.yaml" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: tanksim}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
EOF
cat >"$work/allow-all.yaml" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: tanksim}
spec: {podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}]}
EOF
echo "== specification: each policy must be able to fail"
# Each specification policy alone, in one Python process: nca's CLI entry point called once
# per policy (about 0.1 s each, against about 0.6 s to start nca anew). rc 1 from nca means
# "does not permit" / "does not forbid"; 0 means the policy specifies no connection at all.
set +e
"$PY" - "$work" "$work/spec-topology.yaml" "$TESTS/allowed.yaml" \
    "$TESTS/forbidden.yaml" "$TESTS/forbidden-egress.yaml" 2>"$work/spec.log" <<'PY'
import contextlib
import io
import os
import sys

import yaml
from nca.nca_cli import nca_main

work, topology, allowed, *forbidden = sys.argv[1:]
checks = [(allowed, "--permits", "deny-all.yaml")] + [(f, "--forbids", "allow-all.yaml") for f in forbidden]
os.makedirs(os.path.join(work, "spec"), exist_ok=True)
count, bad = 0, []
for spec, query, base in checks:
    with open(spec) as f:
        policies = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "NetworkPolicy"]
    for policy in policies:
        name = policy["metadata"]["name"]
        path = os.path.join(work, "spec", name + ".yaml")
        with open(path, "w") as out:
            yaml.safe_dump(policy, out, sort_keys=False)
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            rc = nca_main([query, path, "--base_np_list", os.path.join(work, base),
                           "--ns_list", topology, "--pod_list", topology])
        count += 1
        if rc != 1:
            bad.append(f"{os.path.basename(spec)}: {name} specifies no connection (nca rc {rc})")
            print(log.getvalue(), file=sys.stderr)
for line in bad:
    print("FAIL:", line)
if not bad:
    print(f"   {count} specification policies, each capturing at least one connection")
sys.exit(1 if bad else 0)
PY
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    failures=$((failures + 1))
    grep -v 'appProtocol is not yet supported' "$work/spec.log" | sed 's/^/    /' >&2
fi

# --- 2. each rendering against the specification and the expected graph -----------------
expected="$work/expected.txt"
grep -v -e '^#' -e '^[[:space:]]*$' "$TESTS/expected-connectivity.txt" | LC_ALL=C sort >"$expected"

for target in "${targets[@]}"; do
    name="$(printf '%s' "$target" | cut -f1)"
    file="$(printf '%s' "$target" | cut -f2)"
    topo="$work/$name.topology.yaml"
    topology "$file" "$topo"
    echo "== $name: $(grep -c '^kind: NetworkPolicy' "$file" || true) NetworkPolicies"

    verdict "$name" "every required path is open" "a required path is closed (allowed.yaml)" \
        --permits "$TESTS/allowed.yaml" --base_np_list "$file" --ns_list "$topo" --pod_list "$topo"
    for spec in forbidden forbidden-egress; do
        verdict "$name" "no path of $spec.yaml is open" "a forbidden path is open ($spec.yaml)" \
            --forbids "$TESTS/$spec.yaml" --base_np_list "$file" --ns_list "$topo" --pod_list "$topo"
    done

    # The whole map, one line per (source, destination) workload pair; kept: every pair with
    # an end in tanksim (the rest is the other namespaces' business, all open as they have no
    # policies here).
    if run_nca --connectivity "$file" --ns_list "$topo" --pod_list "$topo" -o txt_no_fw_rules; then
        grep -E '^[^ ].* => .* : ' "$work/nca.log" |
            grep -E '(^|=> )tanksim/' | LC_ALL=C sort >"$work/$name.actual.txt" || true
        if diff -u --label expected-connectivity.txt --label "$name (nca)" \
            "$expected" "$work/$name.actual.txt" >"$work/$name.diff"; then
            echo "   exact: $(wc -l <"$work/$name.actual.txt") connections, as expected"
        else
            fail "$name: the connectivity differs from $TESTS/expected-connectivity.txt" \
                "(+ = open but not expected, - = expected but closed):"
            sed 's/^/    /' "$work/$name.diff" >&2
        fi
    else
        fail "$name: nca could not compute the connectivity:"
        show_nca_log
    fi
done

if [ "$failures" -gt 0 ]; then
    echo "check-network-policies: $failures failure(s)" >&2
    exit 1
fi
echo "OK: NetworkPolicy reachability as specified (${#targets[@]} rendering(s))"
