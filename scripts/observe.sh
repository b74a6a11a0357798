#!/usr/bin/env bash
# tanksim's services and a real Prometheus watching them, on this machine, to look at: a private
# redis-server, gateway, dispatcher, results and workers as processes, Prometheus scraping them
# as deploy/observability/podmonitor.yaml says and evaluating prometheusrule.yaml unchanged.
# Prints the addresses (gRPC, every /metrics, Prometheus's API), submits a Monte Carlo job every
# 30 s so the dashboards have data, and runs until Ctrl-C (e2e/src/bin/observe.rs).
#
# Usage: scripts/observe.sh [--workers N] [--runs N] [--every-s SECONDS] [--scrape-s SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

source scripts/tools.sh
ensure_redis
ensure_prometheus

# The test profile's build (what `cargo test` builds, optimised): the services are the e2e-*
# binaries beside observe.
cargo test -p tanksim-e2e --no-run --quiet
exec target/debug/observe "$@"
