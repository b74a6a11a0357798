#!/usr/bin/env python3
"""Sobol' sensitivity indices of tank metrics through the Python client.

Submits a sensitivity job spec (examples/sensitivity-pi.yaml by default), waits for it, and
prints for each metric and parameter the first-order index S1 and the total index ST with their
confidence intervals. Exits 0 only if the job SUCCEEDED.

    python clients/python/examples/sensitivity.py --target localhost:50051 --samples 1024
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc

import tanksim_client
from tanksim_client import Client, job_pb2, metric_name, state_name

DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "examples" / "sensitivity-pi.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC), help="sensitivity job spec (YAML or JSON)")
    parser.add_argument("--target", default="localhost:50051", help="gateway host:port")
    parser.add_argument("--samples", type=int, help="override the number of base samples")
    parser.add_argument(
        "--token", help="API key or JWT (default: $TANKSIM_TOKEN; prefer it, a command line is visible)"
    )
    args = parser.parse_args()

    request = tanksim_client.load_spec(args.spec)
    if request.WhichOneof("job") != "sensitivity":
        parser.error(f"{args.spec} is not a sensitivity job")
    if args.samples is not None:
        request.sensitivity.samples = args.samples

    with Client(args.target, token=args.token) as client:
        try:
            job = client.submit(request)
            print(f"submitted job {job.id} ({job.progress.runs_total} runs)", flush=True)
            for job in client.watch(job.id):
                pass
            if job.state != job_pb2.JOB_STATE_SUCCEEDED:
                reason = f": {job.error}" if job.error else ""
                print(f"job {job.id} {state_name(job.state)}{reason}")
                return 1
            print_indices(client.results(job.id).sensitivity)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 2
    print(f"job {job.id} {state_name(job.state)}")
    return 0


def print_indices(result) -> None:
    level = round(100 * result.confidence_level)
    print(f"\nSobol' indices ({result.samples} base samples, {level} % intervals)")
    print(f"{'metric':<20} {'parameter':<16} {'S1':>8} {'lo':>8} {'hi':>8} {'ST':>8} {'lo':>8} {'hi':>8}")
    for m in result.metrics:
        for param, s1, st in zip(result.params, m.first_order, m.total_order):
            cells = " ".join(f"{v:>8.4f}" for v in (s1.value, s1.lo, s1.hi, st.value, st.lo, st.hi))
            print(f"{metric_name(m.metric):<20} {param:<16} {cells}")
    print()


if __name__ == "__main__":
    sys.exit(main())
