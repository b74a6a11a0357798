#!/usr/bin/env bash
# Records the worker Deployment's replica count every INTERVAL seconds, one `epoch replicas`
# line per sample, until killed. The e2e-cluster workflow runs it in the background for the
# whole test and reads windows of it: the peak while a job ran, 0 before and after. A failed
# read is written as `epoch ?` (skipped by the readers) rather than stopping the record.
#
#   .github/e2e/sample-replicas.sh FILE [INTERVAL]      (namespace from $NAMESPACE, default tanksim)
set -uo pipefail

file="${1:?usage: sample-replicas.sh FILE [INTERVAL]}"
interval="${2:-2}"
namespace="${NAMESPACE:-tanksim}"
while :; do
    # .status.replicas is absent (not 0) when the Deployment has no pods.
    if r="$(kubectl -n "$namespace" get deployment worker -o jsonpath='{.status.replicas}' 2>/dev/null)"; then
        echo "$(date +%s) ${r:-0}" >>"$file"
    else
        echo "$(date +%s) ?" >>"$file"
    fi
    sleep "$interval"
done
