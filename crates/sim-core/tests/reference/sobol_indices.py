"""SciPy's Sobol' indices of the outputs a Rust test hands over, for comparison.

Usage: sobol_indices.py IN.json OUT.json

IN.json:  {"outputs": [{"name": ..., "f_A": [n], "f_B": [n], "f_AB": [d][n]}, ...],
           "ishigami": {"n": n, "seed": s}}   (optional)
OUT.json: {"scipy": "<version>", "outputs": [{"name": ..., "first_order": [d],
           "total_order": [d], "first_lo": [d], "first_hi": [d], "total_lo": [d],
           "total_hi": [d]}, ...], "ishigami": {...same fields...}}

Each output goes through scipy.stats.sobol_indices with the precomputed-values form of
`func` (the Saltelli 2010 / Jansen estimators), then `bootstrap()` (BCa, 999 resamples, 95 %).
`ishigami` asks SciPy to sample and evaluate the Ishigami function itself (its own
scrambled Sobol' design), as an estimate independent of the Rust design.
"""

import json
import sys

import numpy as np
import scipy
from scipy import stats


def summarise(res):
    boot = res.bootstrap(confidence_level=0.95, n_resamples=999)
    return {
        "first_order": res.first_order.tolist(),
        "total_order": res.total_order.tolist(),
        "first_lo": boot.first_order.confidence_interval.low.tolist(),
        "first_hi": boot.first_order.confidence_interval.high.tolist(),
        "total_lo": boot.total_order.confidence_interval.low.tolist(),
        "total_hi": boot.total_order.confidence_interval.high.tolist(),
    }


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[0]) + a * np.sin(x[1]) ** 2 + b * x[2] ** 4 * np.sin(x[0])


def main(src, dst):
    with open(src) as f:
        given = json.load(f)
    out = {"scipy": scipy.__version__, "outputs": []}
    for o in given["outputs"]:
        f_a = np.asarray(o["f_A"], dtype=float)
        func = {"f_A": f_a.reshape(1, -1), "f_B": np.asarray(o["f_B"], dtype=float).reshape(1, -1),
                "f_AB": np.asarray(o["f_AB"], dtype=float).reshape(len(o["f_AB"]), 1, -1)}
        res = stats.sobol_indices(func=func, n=f_a.size, rng=np.random.default_rng(1))
        out["outputs"].append({"name": o["name"], **summarise(res)})
    if "ishigami" in given:
        spec = given["ishigami"]
        dists = [stats.uniform(loc=-np.pi, scale=2 * np.pi)] * 3
        res = stats.sobol_indices(func=ishigami, n=spec["n"], dists=dists,
                                  rng=np.random.default_rng(spec["seed"]))
        out["ishigami"] = summarise(res)
    with open(dst, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
