#!/usr/bin/env bash
# Dumps what explains a failed e2e-cluster run into DIR (uploaded as the run's artifact):
# every object and event, a description and the logs (current and previous container) of
# every pod in the namespaces the run touched, the KEDA operator's and the controllers' logs,
# and the autoscaling objects. Secrets are never dumped (only their names). Best effort: a
# failing kubectl call is recorded and the dump goes on, so one broken piece hides nothing.
#
#   .github/e2e/diagnostics.sh DIR
set -uo pipefail

out="${1:?usage: diagnostics.sh DIR}"
mkdir -p "$out/logs" "$out/describe"
namespaces=(tanksim keda argo-rollouts cert-manager kube-system monitoring)

# run FILE CMD...: CMD's stdout and stderr into DIR/FILE, its exit status noted at the end.
run() {
    local file="$out/$1"
    shift
    { "$@" || echo "(exit $?: $*)"; } >"$file" 2>&1
}

run cluster.txt kubectl cluster-info
run nodes.txt kubectl describe nodes
run all.txt kubectl get all -A -o wide
run events.txt kubectl get events -A --sort-by=.lastTimestamp
run secrets.txt kubectl get secrets -A
run custom-resources.txt kubectl get scaledobjects,triggerauthentications,hpa,rollouts,analysisruns,sealedsecrets,ingressroutes,pvc,networkpolicies,certificates,certificaterequests,issuers -A -o wide
run scaledobject-worker.yaml kubectl -n tanksim get scaledobject worker -o yaml
run describe/scaledobject-worker.txt kubectl -n tanksim describe scaledobject worker
run describe/hpa.txt kubectl -n tanksim describe hpa
run describe/rollout-gateway.txt kubectl -n tanksim describe rollout gateway
run describe/sealedsecrets.txt kubectl -n tanksim describe sealedsecrets
# Why a mesh certificate is not Ready (its Secret mesh-ROLE missing keeps the pods from starting).
run describe/certificates.txt kubectl -n tanksim describe certificates,certificaterequests,issuers
run external-metrics.json kubectl get --raw /apis/external.metrics.k8s.io/v1beta1

for ns in "${namespaces[@]}"; do
    run "describe/pods-$ns.txt" kubectl -n "$ns" describe pods
    pods="$(kubectl -n "$ns" get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null)"
    for pod in $pods; do
        containers="$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.spec.initContainers[*].name} {.spec.containers[*].name}' 2>/dev/null)"
        for c in $containers; do
            run "logs/$ns.$pod.$c.log" kubectl -n "$ns" logs "$pod" -c "$c" --timestamps --tail=-1
            # The previous instance of a restarted container holds the crash.
            restarts="$(kubectl -n "$ns" get pod "$pod" -o jsonpath="{.status.containerStatuses[?(@.name==\"$c\")].restartCount}" 2>/dev/null)"
            if [ "${restarts:-0}" != 0 ]; then
                run "logs/$ns.$pod.$c.previous.log" kubectl -n "$ns" logs "$pod" -c "$c" --previous --timestamps
            fi
        done
    done
done

# The KEDA operator's view of the ScaledObject (scaler errors, Redis auth, policy drops).
run logs/keda-operator.log kubectl -n keda logs -l app.kubernetes.io/name=keda-operator --all-containers --timestamps --tail=-1 --prefix
echo "diagnostics written to $out"
