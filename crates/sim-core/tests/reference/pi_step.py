#!/usr/bin/env python3
"""Independent reference for tests/pi_reference.rs: the unsaturated PI loop on the first-order
tank, simulated by python-control as a discrete-time LTI system, plus its step_info.

The loop is the kernel's, rebuilt from textbook blocks rather than from the kernel's update
equations, so an error in either shows up as a mismatch:
  plant       P(z) = c2d(K / (tau s + 1), dt, 'zoh')       (= K (1 - a) / (z - a), a = e^(-dt/tau))
  controller  C(z) = kp + ki * dt / (z - 1)                 (forward-Euler integrator: the integral
                                                             used at step k holds e_0..e_{k-1})
  closed loop T(z) = feedback(P C, 1),  h = T r  for the unit step r, h0 = 0.

Writes JSON (default: pi_step.json beside this script; `--out PATH` to write elsewhere, which
the Rust test `reference_data_is_current` uses to check the committed file is up to date).
Regenerate with:  $TANKSIM_PYTHON crates/sim-core/tests/reference/pi_step.py
"""

import argparse
import json
import pathlib

import control
import numpy as np

# The loop under test. tests/pi_reference.rs holds the same constants and checks they match.
CONFIG = {
    "gain": 2.0,
    "tau": 10.0,
    "h0": 0.0,
    "kp": 2.0,
    "ki": 0.5,
    "setpoint": 1.0,
    "dt": 0.01,
    "horizon": 60.0,
}
# Keep every STRIDE-th sample (and the last): enough to pin the whole response, small to commit.
STRIDE = 20
STEP_INFO_OPTIONS = {"RiseTimeLimits": [0.1, 0.9], "SettlingTimeThreshold": 0.02}


def closed_loop(cfg):
    dt = cfg["dt"]
    plant = control.c2d(control.tf([cfg["gain"]], [cfg["tau"], 1.0]), dt, method="zoh")
    # kp + ki*dt/(z-1) = (kp z + (ki dt - kp)) / (z - 1)
    pi = control.tf([cfg["kp"], cfg["ki"] * dt - cfg["kp"]], [1.0, -1.0], dt)
    loop = control.feedback(plant * pi, 1)
    # The controller output u = C/(1 + P C) r, to confirm the loop never needs the limits.
    effort = control.feedback(pi, plant)
    return loop, effort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = pathlib.Path(__file__).resolve().parent
    parser.add_argument("--out", type=pathlib.Path, default=here / "pi_step.json")
    args = parser.parse_args()

    cfg = CONFIG
    if cfg["h0"] != 0.0 or cfg["setpoint"] != 1.0:
        raise SystemExit("step_response assumes a unit step from rest")
    n = round(cfg["horizon"] / cfg["dt"])
    # The kernel's grid exactly: t[k] = k * dt (a product, not a running sum).
    t = np.arange(n + 1, dtype=float) * cfg["dt"]

    loop, effort = closed_loop(cfg)
    level = control.step_response(loop, T=t).outputs
    u = control.step_response(effort, T=t).outputs
    if level.shape != t.shape:
        raise SystemExit(f"unexpected response shape {level.shape}")
    info = control.step_info(
        level,
        T=t,
        SettlingTimeThreshold=STEP_INFO_OPTIONS["SettlingTimeThreshold"],
        RiseTimeLimits=tuple(STEP_INFO_OPTIONS["RiseTimeLimits"]),
    )

    index = list(range(0, n + 1, STRIDE))
    if index[-1] != n:
        index.append(n)
    out = {
        "description": "Unit-step response of the discrete PI loop on the ZOH first-order tank, "
        "by python-control (tests/reference/pi_step.py); compared in tests/pi_reference.rs",
        "python_control": control.__version__,
        "config": cfg,
        "u_range": [float(u.min()), float(u.max())],
        "samples": {
            "index": index,
            "t": [float(t[k]) for k in index],
            "level": [float(level[k]) for k in index],
        },
        "step_info_options": STEP_INFO_OPTIONS,
        "step_info": {
            key: float(info[key])
            for key in ("RiseTime", "SettlingTime", "Overshoot", "Peak", "PeakTime", "SteadyStateValue")
        },
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
