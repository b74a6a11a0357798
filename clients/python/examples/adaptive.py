#!/usr/bin/env python3
"""Adaptive Monte Carlo through the Python client: run until a metric's mean is precise enough.

Submits an adaptive Monte Carlo spec (examples/mc-tau-adaptive.yaml by default: MC-tau until
the mean overshoot is known to +-0.5 % at 95 % confidence), follows its waves, and prints the
runs it took and the interval of the mean it reached. Exits 0 only if the job SUCCEEDED.

    python clients/python/examples/adaptive.py --target localhost:50051 --relative 0.01
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc

import tanksim_client
from tanksim_client import Client, job_pb2, metric_name, state_name

DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "examples" / "mc-tau-adaptive.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC), help="adaptive Monte Carlo spec (YAML or JSON)")
    parser.add_argument("--target", default="localhost:50051", help="gateway host:port")
    parser.add_argument("--relative", type=float, help="override the target: a fraction of |mean|")
    parser.add_argument(
        "--token", help="API key or JWT (default: $TANKSIM_TOKEN; prefer it, a command line is visible)"
    )
    args = parser.parse_args()

    request = tanksim_client.load_spec(args.spec)
    if request.WhichOneof("job") != "monte_carlo" or not request.monte_carlo.HasField("stop"):
        parser.error(f"{args.spec} is not a Monte Carlo job with a stop rule")
    if args.relative is not None:
        request.monte_carlo.stop.relative_half_width = args.relative

    with Client(args.target, token=args.token) as client:
        try:
            job = client.submit(request)
            print(f"submitted job {job.id} (at most {job.progress.runs_total} runs)", flush=True)
            wave_end = 0
            for job in client.watch(job.id):
                released = job.progress.runs_released
                if released != wave_end and job.state == job_pb2.JOB_STATE_RUNNING:
                    wave_end = released
                    print(f"wave up to run {released} ({job.progress.runs_done} done)", flush=True)
            if job.state != job_pb2.JOB_STATE_SUCCEEDED:
                reason = f": {job.error}" if job.error else ""
                print(f"job {job.id} {state_name(job.state)}{reason}")
                return 1
            print_precision(client.results(job.id).stop)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 2
    print(f"job {job.id} {state_name(job.state)}")
    return 0


def print_precision(stop) -> None:
    level = round(100 * stop.confidence_level)
    verdict = "target reached" if stop.target_reached else "target not reached"
    print(f"\nmetric      {metric_name(stop.metric)}")
    print(f"mean        {stop.mean:.6g}")
    print(f"half_width  {stop.half_width:.6g} ({level} % confidence)")
    print(f"target      {stop.target_half_width:.6g}")
    print(f"runs        {stop.runs} of at most {stop.max_runs}: {verdict}")
    print()


if __name__ == "__main__":
    sys.exit(main())
