#!/usr/bin/env python3
"""Monte Carlo over the tank's time constant through the Python client.

Submits a job spec (examples/mc-tau.yaml by default), prints its progress while watching it,
then prints the per-metric results. Exits 0 only if the job SUCCEEDED.

    python clients/python/examples/mc_tau.py --target localhost:50051 --runs 5000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc

import tanksim_client
from tanksim_client import Client, job_pb2, metric_name, state_name

DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "examples" / "mc-tau.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC), help="job spec (YAML or JSON)")
    parser.add_argument("--target", default="localhost:50051", help="gateway host:port")
    parser.add_argument("--runs", type=int, help="override the number of runs")
    parser.add_argument(
        "--token", help="API key or JWT (default: $TANKSIM_TOKEN; prefer it, a command line is visible)"
    )
    args = parser.parse_args()

    request = tanksim_client.load_spec(args.spec)
    if args.runs is not None:
        kind = request.WhichOneof("job")
        if kind not in ("monte_carlo", "dataset"):
            parser.error(f"--runs applies to Monte Carlo and dataset jobs, not to {kind}")
        getattr(request, kind).runs = args.runs

    with Client(args.target, token=args.token) as client:
        try:
            job = client.submit(request)
            print(f"submitted job {job.id} ({job.name}, {job.progress.runs_total} runs)", flush=True)
            job = watch(client, job)
            if job.state != job_pb2.JOB_STATE_SUCCEEDED:
                reason = f": {job.error}" if job.error else ""
                print(f"job {job.id} {state_name(job.state)}{reason}")
                return 1
            print_results(client.results(job.id))
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 2
    print(f"job {job.id} {state_name(job.state)}")
    return 0


def watch(client: Client, job: job_pb2.Job) -> job_pb2.Job:
    """Prints a line whenever the state or the count of finished runs changes."""
    last = None
    for job in client.watch(job.id):
        p = job.progress
        seen = (job.state, p.runs_done)
        if seen != last:
            last = seen
            print(
                f"{state_name(job.state):<9} {p.runs_done:>10}/{p.runs_total} runs"
                f"  ({p.chunks_done}/{p.chunks_total} chunks)",
                flush=True,
            )
    return job


def print_results(results) -> None:
    print(f"\n{'metric':<20} {'count':>8} {'mean':>12} {'p5':>12} {'p50':>12} {'p95':>12}")
    for m in results.metrics:
        stats = (m.mean, m.p5, m.p50, m.p95) if m.count else (float("nan"),) * 4
        print(f"{metric_name(m.metric):<20} {m.count:>8} " + " ".join(num(v) for v in stats))
    print()


def num(v: float) -> str:
    """A 12-wide column; ``-`` when there is no value."""
    return f"{'-':>12}" if v != v else f"{v:>12.6g}"


if __name__ == "__main__":
    sys.exit(main())
