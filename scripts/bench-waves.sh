#!/usr/bin/env bash
# What running in waves costs (BENCHMARKS.md, "Sampling designs and sensitivity indices"): the
# wall time of `tanksim run examples/mc-tau-adaptive.yaml` (45,000 runs in 4 waves, chunks of
# 1,000) beside the same 45,000 runs as a fixed job in chunks of 1,000 and of 10,000; and of
# `tanksim run examples/optimize-k-tau.yaml` (a generation of 6 runs per wave) beside a fixed
# Monte Carlo job of as many runs. Interleaved rounds; prints each time and the medians.
#
#   cargo build --release -p tanksim-cli && bash scripts/bench-waves.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
tanksim=target/release/tanksim
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed 's/^  runs: 10000$/  runs: 45000/' examples/mc-tau.yaml > "$work/mc-tau-45k.yaml"
grep -q '^  runs: 45000$' "$work/mc-tau-45k.yaml"
run() {
    local what="$1"; shift
    local start end
    start=$(date +%s.%N)
    "$tanksim" run "$@" --no-plots --out "$work/$what" > "$work/$what.log" 2>&1
    end=$(date +%s.%N)
    echo "$what $(echo "$end - $start" | bc)" | tee -a "$work/times"
}
# The optimisation's run count (the same every time: the search is reproducible), for the
# fixed job beside it.
"$tanksim" run examples/optimize-k-tau.yaml --no-plots --out "$work/probe" > "$work/probe.log" 2>&1
opt_runs=$(awk '/^CMA-ES path/ { gsub(/[(,]/, " "); print $(NF - 1) }' "$work/probe.log")
opt_generations=$(awk '/^CMA-ES path/ { gsub(/[(,]/, " "); print $3 }' "$work/probe.log")
sed "s/^  runs: 10000\$/  runs: $opt_runs/" examples/mc-tau.yaml > "$work/mc-tau-opt.yaml"
echo "optimize-k-tau: $opt_runs runs in $opt_generations generations"
for round in $(seq "$rounds"); do
    echo "round $round"
    run adaptive examples/mc-tau-adaptive.yaml --chunk-size 10000
    run fixed-chunks-1000 "$work/mc-tau-45k.yaml" --chunk-size 1000
    run fixed-chunks-10000 "$work/mc-tau-45k.yaml" --chunk-size 10000
    run optimize examples/optimize-k-tau.yaml
    run fixed-as-many-runs "$work/mc-tau-opt.yaml"
done
grep -h 'after .* runs' "$work/adaptive.log"
for what in adaptive fixed-chunks-1000 fixed-chunks-10000 optimize fixed-as-many-runs; do
    median=$(awk -v w="$what" '$1 == w { print $2 }' "$work/times" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
    echo "median $what ${median} s"
done
