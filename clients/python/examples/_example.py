"""What the job examples share: the common arguments, loading and checking the spec, submitting
it, following it to its end and reading its results. Each example adds its own options and
prints its own part of the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Optional

import grpc

import tanksim_client
from tanksim_client import Client, job_pb2, job_service_pb2, state_name

#: The repository's example specs.
SPECS = Path(__file__).resolve().parents[3] / "examples"


def run(
    doc: str,
    spec: str,
    kind: str,
    show: Callable[[job_service_pb2.GetJobResultsResponse], None],
    options: Callable[[argparse.ArgumentParser], None] = lambda parser: None,
    adjust: Callable[[argparse.Namespace, job_service_pb2.SubmitJobRequest, argparse.ArgumentParser], None] = (
        lambda args, request, parser: None
    ),
    on_update: Optional[Callable[[job_pb2.Job], None]] = None,
) -> int:
    """Runs the `kind` job of `spec` (a file in examples/ unless given on the command line),
    calling `on_update` on every status it streams, and `show` on its results once it
    SUCCEEDED. Returns the exit status: 0 only if the job SUCCEEDED, 1 if it did not, 2 on an
    RPC error."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(SPECS / spec), help=f"{kind} job spec (YAML or JSON)")
    parser.add_argument("--target", default="localhost:50051", help="gateway host:port")
    parser.add_argument(
        "--token", help="API key or JWT (default: $TANKSIM_TOKEN; prefer it, a command line is visible)"
    )
    options(parser)
    args = parser.parse_args()

    request = tanksim_client.load_spec(args.spec)
    if request.WhichOneof("job") != kind:
        parser.error(f"{args.spec} is not a {kind} job")
    adjust(args, request, parser)

    with Client(args.target, token=args.token) as client:
        try:
            job = client.submit(request)
            p = job.progress
            at_most = "at most " if 0 < p.runs_released < p.runs_total else ""
            print(f"submitted job {job.id} ({at_most}{p.runs_total} runs)", flush=True)
            for job in client.watch(job.id):
                if on_update is not None:
                    on_update(job)
            if job.state != job_pb2.JOB_STATE_SUCCEEDED:
                reason = f": {job.error}" if job.error else ""
                print(f"job {job.id} {state_name(job.state)}{reason}")
                return 1
            show(client.results(job.id))
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 2
    print(f"job {job.id} {state_name(job.state)}")
    return 0
