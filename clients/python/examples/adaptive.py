#!/usr/bin/env python3
"""Adaptive Monte Carlo through the Python client: run until a metric's mean (or a quantile)
is precise enough.

Submits an adaptive Monte Carlo spec (examples/mc-tau-adaptive.yaml by default: MC-tau until
the mean overshoot is known to +-0.5 % at 95 % confidence; examples/mc-tau-adaptive-p95.yaml
for its 95th percentile), follows its waves, and prints the runs it took and the interval it
reached. Exits 0 only if the job SUCCEEDED.

    python clients/python/examples/adaptive.py --target localhost:50051 --relative 0.01
    python clients/python/examples/adaptive.py --target localhost:50051 --quantile 0.9
"""

from __future__ import annotations

import sys

from _example import run
from tanksim_client import job_pb2, metric_name


def main() -> int:
    def options(parser) -> None:
        parser.add_argument("--relative", type=float, help="override the target: a fraction of |estimate|")
        parser.add_argument("--quantile", type=float, help="estimate this quantile in (0, 1) instead of the mean")

    def adjust(args, request, parser) -> None:
        if not request.monte_carlo.HasField("stop"):
            parser.error(f"{args.spec} is not a Monte Carlo job with a stop rule")
        if args.relative is not None:
            request.monte_carlo.stop.relative_half_width = args.relative
        if args.quantile is not None:
            request.monte_carlo.stop.quantile = args.quantile

    wave_end = 0

    def on_update(job) -> None:
        nonlocal wave_end
        released = job.progress.runs_released
        if released != wave_end and job.state == job_pb2.JOB_STATE_RUNNING:
            wave_end = released
            print(f"wave up to run {released} ({job.progress.runs_done} done)", flush=True)

    return run(__doc__, "mc-tau-adaptive.yaml", "monte_carlo", lambda r: print_precision(r.stop), options, adjust, on_update)


def print_precision(stop) -> None:
    level = round(100 * stop.confidence_level)
    verdict = "target reached" if stop.target_reached else "target not reached"
    statistic = f"p{100 * stop.quantile:g}" if stop.quantile else "mean"
    print(f"\nmetric      {metric_name(stop.metric)}")
    print(f"{statistic:<11} {stop.estimate:.6g}")
    print(f"interval    [{stop.lower:.6g}, {stop.upper:.6g}] ({level} % confidence)")
    print(f"half_width  {stop.half_width:.6g}")
    print(f"target      {stop.target_half_width:.6g}")
    print(f"runs        {stop.runs} of at most {stop.max_runs}: {verdict}")
    print()


if __name__ == "__main__":
    sys.exit(main())
