#!/usr/bin/env python3
"""An optimisation through the Python client: CMA-ES over bounded parameters, a generation per wave.

Submits an optimisation spec (examples/optimize-k-tau.yaml by default: the plant gain K and
time constant tau of least ISE), waits for it, and prints the path (each generation's best
objective and the search's mean) and the best point. Exits 0 only if the job SUCCEEDED.

    python clients/python/examples/optimize.py --target localhost:50051 --generations 30
"""

from __future__ import annotations

import sys

from _example import run
from tanksim_client import job_pb2, metric_name


def main() -> int:
    def options(parser) -> None:
        parser.add_argument("--generations", type=int, help="override max_generations")

    def adjust(args, request, parser) -> None:
        if args.generations is not None:
            request.optimize.max_generations = args.generations

    return run(__doc__, "optimize-k-tau.yaml", "optimize", lambda r: print_search(r.optimize), options, adjust)


def print_search(result) -> None:
    objective = metric_name(result.objective.metric)
    print(f"\n{'generation':>10} {'best ' + objective:>14}  mean")
    for step in result.path:
        best = f"{step.best.objective:.6g}" if step.HasField("best") else "-"
        mean = ", ".join(f"{p} = {v:.4g}" for p, v in zip(result.params, step.mean))
        print(f"{step.generation:>10} {best:>14}  {mean}")
    stopped = job_pb2.OptimizeStopReason.Name(result.stopped).removeprefix("OPTIMIZE_STOP_REASON_").lower()
    print(f"\nstopped     {stopped}")
    print(f"runs        {result.runs}")
    if result.HasField("best"):
        point = ", ".join(f"{p} = {v:.6g}" for p, v in zip(result.params, result.best.values))
        print(f"best        {objective} = {result.best.objective:.9g} at {point}")
    print()


if __name__ == "__main__":
    sys.exit(main())
