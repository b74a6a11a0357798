#!/usr/bin/env python3
"""Sobol' sensitivity indices of tank metrics through the Python client.

Submits a sensitivity job spec (examples/sensitivity-pi.yaml by default), waits for it, and
prints for each metric and parameter the first-order index S1 and the total index ST with their
confidence intervals. Exits 0 only if the job SUCCEEDED.

    python clients/python/examples/sensitivity.py --target localhost:50051 --samples 1024
"""

from __future__ import annotations

import sys

from _example import run
from tanksim_client import metric_name


def main() -> int:
    def options(parser) -> None:
        parser.add_argument("--samples", type=int, help="override the number of base samples")

    def adjust(args, request, parser) -> None:
        if args.samples is not None:
            request.sensitivity.samples = args.samples

    return run(__doc__, "sensitivity-pi.yaml", "sensitivity", lambda r: print_indices(r.sensitivity), options, adjust)


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
