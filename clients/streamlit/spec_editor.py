"""The job-spec editor: an example from the repository's examples/, its YAML in a text area,
and widgets for the common knobs (runs or samples, seed, sampling, each parameter's
distribution and bounds, sweep axes, sensitivity metrics, an optimisation's bounds).

The YAML text is the one source of truth (``st.session_state[SPEC_KEY]``): a widget's change
rewrites the value at its path in the YAML (dropping the YAML's comments), and editing the text
or loading an example re-creates the widgets from it (their keys carry a revision number).
What is submitted is the text's mapping, as proto3 JSON of ``SubmitJobRequest``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import streamlit as st
import yaml

from api import METRIC_NAMES

#: The session-state key of the YAML text area.
SPEC_KEY = "spec_yaml"
#: The session-state key of the widgets' revision (bumped when the YAML is replaced).
REV_KEY = "spec_rev"
#: The session-state key of the example selectbox.
EXAMPLE_KEY = "spec_example"

#: The repository's example specs, relative to this file (clients/streamlit/ -> examples/).
EXAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "examples"

#: The job kinds (the ``SubmitJobRequest.job`` oneof), in the order the editor lists them.
JOB_KINDS = ("monte_carlo", "sweep", "dataset", "sensitivity", "optimize")

#: The distributions a parameter can have (``ParamDistribution.distribution``), with the
#: fields each one takes.
DISTRIBUTIONS: Dict[str, Tuple[str, ...]] = {
    "uniform": ("lo", "hi"),
    "normal": ("mean", "sd"),
    "truncated_normal": ("mean", "sd", "lo", "hi"),
    "log_normal": ("mu", "sigma"),
    "triangular": ("lo", "mode", "hi"),
    "fixed": (),
    "choice": ("values", "weights"),
}

#: The ways a sweep axis lists its values (``Axis.values``).
AXIS_KINDS = ("linspace", "logspace", "list")

#: The largest integer a number widget takes (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1

SAMPLINGS = ("SAMPLING_RANDOM", "SAMPLING_SOBOL", "SAMPLING_LATIN_HYPERCUBE")
GOALS = ("GOAL_MINIMIZE", "GOAL_MAXIMIZE")

Path_ = Tuple[Any, ...]


def list_examples() -> List[str]:
    """The example specs' file names (``mc-tau.yaml``, ...), sorted; empty if the folder is missing."""
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.suffix in (".yaml", ".yml"))


def parse(text: str) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The YAML's mapping, or None and why it is not one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return None, f"not valid YAML: {e}"
    if data is None:
        return None, "the spec is empty"
    if not isinstance(data, dict):
        return None, f"a job spec is a mapping, found {type(data).__name__}"
    return data, None


def dump(spec: Dict[str, Any]) -> str:
    """The mapping as YAML in the examples' style (leaf mappings inline, keys in order)."""
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=100)


def job_kind(spec: Dict[str, Any]) -> Optional[str]:
    """Which job the spec is (the first of :data:`JOB_KINDS` it has), or None."""
    return next((k for k in JOB_KINDS if isinstance(spec.get(k), dict)), None)


def distribution_of(param: Dict[str, Any]) -> Optional[str]:
    """The distribution a ``ParamDistribution`` mapping sets, or None."""
    return next((k for k in DISTRIBUTIONS if k in param), None)


def center_and_spread(kind: Optional[str], value: Any) -> Tuple[float, float]:
    """A typical value and scale of a distribution, to seed another kind's fields from."""
    v = value if isinstance(value, dict) else {}
    num = lambda key, default: _float(v.get(key), default)  # noqa: E731
    if kind == "fixed":
        c = _float(value, 1.0)
        return c, abs(c) * 0.1 or 1.0
    if kind == "uniform":
        lo, hi = num("lo", 0.0), num("hi", 1.0)
        return (lo + hi) / 2, abs(hi - lo) / 4 or 1.0
    if kind in ("normal", "truncated_normal"):
        return num("mean", 1.0), abs(num("sd", 0.1)) or 1.0
    if kind == "log_normal":
        mu, sigma = num("mu", 0.0), abs(num("sigma", 0.1))
        c = math.exp(mu) if abs(mu) < 700 else 1.0
        return c, c * sigma or 1.0
    if kind == "triangular":
        lo, hi = num("lo", 0.0), num("hi", 1.0)
        return num("mode", (lo + hi) / 2), abs(hi - lo) / 4 or 1.0
    if kind == "choice":
        values = [x for x in (v.get("values") or []) if isinstance(x, (int, float))]
        if values:
            c = sum(values) / len(values)
            return c, (max(values) - min(values)) / 4 or abs(c) * 0.1 or 1.0
    return 1.0, 0.1


def convert_distribution(param: Dict[str, Any], new_kind: str) -> Dict[str, Any]:
    """``param`` with its distribution replaced by a ``new_kind`` one centred where the old
    one was (e.g. normal(10, 2) -> uniform [6, 14])."""
    old = distribution_of(param)
    c, s = center_and_spread(old, param.get(old) if old else None)
    out = {k: v for k, v in param.items() if k not in DISTRIBUTIONS}
    r = _round
    out[new_kind] = {
        "fixed": r(c),
        "uniform": {"lo": r(c - 2 * s), "hi": r(c + 2 * s)},
        "normal": {"mean": r(c), "sd": r(s)},
        "truncated_normal": {"mean": r(c), "sd": r(s)},
        "log_normal": {"mu": r(math.log(c)) if c > 0 else 0.0, "sigma": r(s / c) if c > 0 else 0.25},
        "triangular": {"lo": r(c - 2 * s), "mode": r(c), "hi": r(c + 2 * s)},
        "choice": {"values": [r(c - s), r(c), r(c + s)]},
    }[new_kind]
    return out


def set_path(spec: Dict[str, Any], path: Path_, value: Any) -> Dict[str, Any]:
    """A copy of ``spec`` with ``value`` at ``path`` (keys and list indices; missing mappings
    are created); a value of None removes the key."""
    out = copy.deepcopy(spec)
    node: Any = out
    for step in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(step, {})
        else:
            node = node[step]
    last = path[-1]
    if value is None and isinstance(node, dict):
        node.pop(last, None)
    else:
        node[last] = value
    return out


def get_path(spec: Any, path: Path_, default: Any = None) -> Any:
    """The value at ``path``, or ``default`` where the path does not lead anywhere."""
    node = spec
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return default
    return node


# --- Streamlit ---------------------------------------------------------------------------


def init_state() -> None:
    """The editor's session state on a session's first run: an empty spec."""
    st.session_state.setdefault(SPEC_KEY, "")
    st.session_state.setdefault(REV_KEY, 0)


def render() -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """Draws the example picker, the YAML text area and the knobs; returns the spec's mapping
    (or None and why the text is not a spec)."""
    examples = list_examples()
    st.selectbox(
        "Example spec",
        examples,
        index=None,
        key=EXAMPLE_KEY,
        placeholder=f"Choose one of {EXAMPLES_DIR.name}/*.yaml…" if examples else "no examples found",
        on_change=_load_example,
        help=f"The job specs in {EXAMPLES_DIR}",
    )
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.text_area(
            "Job spec (YAML of SubmitJobRequest)",
            key=SPEC_KEY,
            height=520,
            on_change=_bump_rev,
            help="Proto3 JSON field names (snake_case) and enum names, as the CLI reads them. "
            "Changing a knob on the right rewrites this text (its comments are dropped).",
        )
    spec, error = parse(st.session_state[SPEC_KEY])
    with right:
        if spec is None:
            if st.session_state[SPEC_KEY].strip():
                st.error(error)
            else:
                st.info("Choose an example spec above, or write one in the text area.")
            return None, error
        _knobs(spec)
    return spec, None


def _load_example() -> None:
    name = st.session_state.get(EXAMPLE_KEY)
    if not name:
        return
    try:
        st.session_state[SPEC_KEY] = (EXAMPLES_DIR / name).read_text(encoding="utf-8")
    except OSError as e:
        st.session_state[SPEC_KEY] = f"# could not read {name}: {e}\n"
    _bump_rev()


def _bump_rev() -> None:
    st.session_state[REV_KEY] = st.session_state.get(REV_KEY, 0) + 1


def _key(path: Path_) -> str:
    return f"knob:{st.session_state[REV_KEY]}:" + ".".join(str(p) for p in path)


def _rewrite(change: Callable[[Dict[str, Any]], Dict[str, Any]]) -> None:
    """Applies ``change`` to the current spec and writes the result back to the text area."""
    spec, _ = parse(st.session_state[SPEC_KEY])
    if spec is not None:
        st.session_state[SPEC_KEY] = dump(change(spec))


def _patch(path: Path_, key: str, convert: Callable[[Any], Any] = lambda v: v) -> None:
    if not _current(key):
        return
    value = st.session_state.get(key)
    _rewrite(lambda spec: set_path(spec, path, None if value is None else convert(value)))


def _current(key: str) -> bool:
    """Whether a knob's key belongs to the spec's current revision. A knob drawn for an earlier
    revision (another example, since replaced) may still be on the page when the next
    interaction reruns the script; its value then reaches a callback as a change, and must not
    be written into the new spec."""
    return key.startswith(f"knob:{st.session_state.get(REV_KEY, 0)}:")


def _number(label: str, spec: Dict[str, Any], path: Path_, *, integer: bool = False, optional: bool = False,
            help: Optional[str] = None) -> None:
    """A number input bound to ``path`` (an optional one may be left empty: the key is removed).
    No bounds: the gateway validates, and says which field is wrong and why."""
    current = get_path(spec, path)
    key = _key(path)
    if integer:
        value = int(_float(current, 0)) if current is not None or not optional else None
        if value is not None and abs(value) > MAX_SAFE_INTEGER:
            # A browser's number box holds no more (e.g. a 64-bit seed): edit it in the YAML.
            st.text_input(label, value=str(value), key=key, disabled=True, help="too large here: edit it in the YAML")
            return
        st.number_input(label, value=value, step=1, key=key, help=help,
                        on_change=_patch, args=(path, key, int))
    else:
        value = _float(current, 0.0) if current is not None or not optional else None
        st.number_input(label, value=value, step=_step(value), format="%g", key=key, help=help,
                        on_change=_patch, args=(path, key, _round))


def _select(label: str, options: Sequence[str], spec: Dict[str, Any], path: Path_, default: str,
            format_func: Callable[[str], str] = str) -> None:
    current = get_path(spec, path, default)
    key = _key(path)
    index = list(options).index(current) if current in options else 0
    st.selectbox(label, options, index=index, key=key, format_func=format_func, on_change=_patch, args=(path, key))


def _short(enum_value: str) -> str:
    """``SAMPLING_LATIN_HYPERCUBE`` -> ``latin hypercube``."""
    return enum_value.split("_", 1)[1].lower().replace("_", " ")


def _knobs(spec: Dict[str, Any]) -> None:
    kind = job_kind(spec)
    if kind is None:
        st.warning("The spec sets no job: add one of " + ", ".join(f"`{k}:`" for k in JOB_KINDS) + ".")
        return
    st.markdown(f"**{kind.replace('_', ' ').title()}** job `{spec.get('name', '')}`")
    if kind in ("monte_carlo", "dataset"):
        a, b, c = st.columns(3)
        with a:
            _number("Runs", spec, (kind, "runs"), integer=True)
        with b:
            _number("Seed", spec, (kind, "seed"), integer=True)
        with c:
            _select("Sampling", SAMPLINGS, spec, (kind, "sampling"), "SAMPLING_RANDOM", _short)
        if kind == "dataset":
            _number("Record every (steps; 0: no trajectories)", spec, (kind, "record_every"), integer=True)
        _params(spec, kind)
    elif kind == "sensitivity":
        a, b, c = st.columns(3)
        with a:
            _number("Base samples", spec, (kind, "samples"), integer=True,
                    help="samples × (parameters + 2) runs; a power of two keeps the Sobol' points balanced")
        with b:
            _number("Seed", spec, (kind, "seed"), integer=True)
        with c:
            _number("Confidence level", spec, (kind, "confidence_level"), optional=True,
                    help="of the bootstrap intervals; empty: 0.95")
        _metrics(spec, kind)
        _params(spec, kind)
    elif kind == "optimize":
        _optimize(spec)
    else:
        _sweep(spec)


def _optimize(spec: Dict[str, Any]) -> None:
    """An optimisation's search settings and each searched parameter's bounds."""
    a, b, c = st.columns(3)
    with a:
        _number("Max generations", spec, ("optimize", "max_generations"), integer=True, help="0: 100")
    with b:
        _number("Population", spec, ("optimize", "population"), integer=True,
                help="candidates per generation; 0: CMA-ES's default, 4 + 3 ln n")
    with c:
        _number("Seed", spec, ("optimize", "seed"), integer=True)
    st.markdown("**Searched parameters**")
    for i, bound in enumerate(get_path(spec, ("optimize", "params"), []) or []):
        if not isinstance(bound, dict):
            continue
        lo, hi, start = st.columns(3)
        name = bound.get("param", f"params[{i}]")
        with lo:
            _number(f"{name}: lo", spec, ("optimize", "params", i, "lo"))
        with hi:
            _number(f"{name}: hi", spec, ("optimize", "params", i, "hi"))
        with start:
            _number(f"{name}: start", spec, ("optimize", "params", i, "start"), optional=True,
                    help="empty: the middle of [lo, hi]")


def _metrics(spec: Dict[str, Any], kind: str) -> None:
    path = (kind, "metrics")
    current = [m.removeprefix("METRIC_").lower() for m in get_path(spec, path, []) or [] if isinstance(m, str)]
    key = _key(path)
    st.multiselect(
        "Metrics", METRIC_NAMES, default=[m for m in current if m in METRIC_NAMES], key=key,
        on_change=_patch, args=(path, key, lambda names: [f"METRIC_{n.upper()}" for n in names]),
    )


def _params(spec: Dict[str, Any], kind: str) -> None:
    params = get_path(spec, (kind, "params"), []) or []
    st.markdown("**Parameters**")
    for i, param in enumerate(params):
        if not isinstance(param, dict):
            continue
        with st.container(border=True):
            top = st.columns([3, 3, 1], vertical_alignment="bottom")
            with top[0]:
                key = _key((kind, "params", i, "param"))
                st.text_input("Parameter", value=str(param.get("param", "")), key=key,
                              on_change=_patch, args=((kind, "params", i, "param"), key))
            with top[1]:
                dist = distribution_of(param) or "fixed"
                key = _key((kind, "params", i, "distribution"))
                st.selectbox("Distribution", list(DISTRIBUTIONS), index=list(DISTRIBUTIONS).index(dist),
                             key=key, on_change=_switch_distribution, args=(kind, i, key))
            with top[2]:
                st.button("✕", key=_key((kind, "params", i, "remove")), help="Remove this parameter",
                          on_click=_remove, args=((kind, "params"), i))
            _bounds(spec, (kind, "params", i), dist)
    key = _key((kind, "params", "new"))
    new, add = st.columns([4, 1], vertical_alignment="bottom")
    with new:
        st.text_input("Add a parameter (its path)", key=key, placeholder="controller.ki")
    with add:
        st.button("Add", key=_key((kind, "params", "add")), on_click=_add_param, args=(kind, key))


def _bounds(spec: Dict[str, Any], path: Path_, dist: str) -> None:
    if dist == "fixed":
        _number("Value", spec, (*path, "fixed"))
        return
    if dist == "choice":
        key = _key((*path, "choice", "values"))
        values = get_path(spec, (*path, "choice", "values"), []) or []
        st.text_input("Values (comma-separated)", value=", ".join(str(v) for v in values), key=key,
                      on_change=_patch, args=((*path, "choice", "values"), key, _number_list))
        return
    fields = DISTRIBUTIONS[dist]
    columns = st.columns(len(fields))
    for column, field in zip(columns, fields):
        with column:
            optional = dist == "truncated_normal" and field in ("lo", "hi")
            label = {"lo": "lower bound", "hi": "upper bound"}.get(field, field) if optional else field
            _number(label, spec, (*path, dist, field), optional=optional,
                    help="empty: unbounded" if optional else None)


def _sweep(spec: Dict[str, Any]) -> None:
    a, b, c = st.columns(3)
    objective_metrics = [f"METRIC_{m.upper()}" for m in METRIC_NAMES]
    with a:
        _select("Objective", objective_metrics, spec, ("sweep", "objective", "metric"), "METRIC_ISE",
                lambda m: m.removeprefix("METRIC_").lower())
    with b:
        _select("Goal", GOALS, spec, ("sweep", "objective", "goal"), "GOAL_MINIMIZE", _short)
    with c:
        _number("Seed", spec, ("sweep", "seed"), integer=True)
    axes = get_path(spec, ("sweep", "axes"), []) or []
    st.markdown("**Axes** (the first varies slowest)")
    for i, axis in enumerate(axes):
        if not isinstance(axis, dict):
            continue
        path = ("sweep", "axes", i)
        with st.container(border=True):
            top = st.columns([3, 3, 1], vertical_alignment="bottom")
            with top[0]:
                key = _key((*path, "param"))
                st.text_input("Parameter", value=str(axis.get("param", "")), key=key,
                              on_change=_patch, args=((*path, "param"), key))
            with top[1]:
                kind = next((k for k in AXIS_KINDS if k in axis), "linspace")
                key = _key((*path, "values"))
                st.selectbox("Values", AXIS_KINDS, index=AXIS_KINDS.index(kind), key=key,
                             on_change=_switch_axis, args=(i, key))
            with top[2]:
                st.button("✕", key=_key((*path, "remove")), help="Remove this axis",
                          on_click=_remove, args=(("sweep", "axes"), i))
            if kind == "list":
                key = _key((*path, "list", "values"))
                values = get_path(axis, ("list", "values"), []) or []
                st.text_input("Values (comma-separated)", value=", ".join(str(v) for v in values), key=key,
                              on_change=_patch, args=((*path, "list", "values"), key, _number_list))
            else:
                s, e, n = st.columns(3)
                with s:
                    _number("start", spec, (*path, kind, "start"))
                with e:
                    _number("stop", spec, (*path, kind, "stop"))
                with n:
                    _number("num", spec, (*path, kind, "num"), integer=True)
    key = _key(("sweep", "axes", "new"))
    new, add = st.columns([4, 1], vertical_alignment="bottom")
    with new:
        st.text_input("Add an axis (its parameter's path)", key=key, placeholder="controller.kp")
    with add:
        st.button("Add", key=_key(("sweep", "axes", "add")), on_click=_add_axis, args=(key,))


def _switch_distribution(kind: str, index: int, key: str) -> None:
    if not _current(key):
        return
    new_kind = st.session_state.get(key)
    if new_kind in DISTRIBUTIONS:
        path = (kind, "params", index)
        _rewrite(lambda spec: set_path(spec, path, convert_distribution(get_path(spec, path, {}), new_kind)))


def _switch_axis(index: int, key: str) -> None:
    if not _current(key):
        return
    new_kind = st.session_state.get(key)
    path = ("sweep", "axes", index)

    def change(spec: Dict[str, Any]) -> Dict[str, Any]:
        axis = get_path(spec, path, {})
        values = _axis_values(axis)
        out = {k: v for k, v in axis.items() if k not in AXIS_KINDS}
        if new_kind == "list":
            out["list"] = {"values": values}
        else:
            lo, hi = (min(values), max(values)) if values else (1.0, 10.0)
            if new_kind == "logspace" and lo <= 0:
                lo = hi / 100 if hi > 0 else 1.0
                hi = hi if hi > 0 else 10.0
            out[new_kind] = {"start": _round(lo), "stop": _round(hi), "num": len(values) or 10}
        return set_path(spec, path, out)

    _rewrite(change)


def _axis_values(axis: Dict[str, Any]) -> List[float]:
    """An axis' values (as the gateway computes them), for converting it to another kind."""
    if "list" in axis:
        return [float(v) for v in get_path(axis, ("list", "values"), []) or [] if isinstance(v, (int, float))]
    for kind in ("linspace", "logspace"):
        if kind in axis:
            start = _float(get_path(axis, (kind, "start")), 1.0)
            stop = _float(get_path(axis, (kind, "stop")), 10.0)
            num = max(1, min(1000, int(_float(get_path(axis, (kind, "num")), 10))))
            if num == 1:
                return [_round(start)]
            if kind == "logspace" and start > 0 and stop > 0:
                ratio = (stop / start) ** (1 / (num - 1))
                return [_round(start * ratio**i) for i in range(num)]
            return [_round(start + (stop - start) * i / (num - 1)) for i in range(num)]
    return []


def _remove(path: Path_, index: int) -> None:
    def change(spec: Dict[str, Any]) -> Dict[str, Any]:
        items = list(get_path(spec, path, []) or [])
        if 0 <= index < len(items):
            del items[index]
        return set_path(spec, path, items)

    _rewrite(change)
    _bump_rev()


def _add_param(kind: str, key: str) -> None:
    name = (st.session_state.get(key) or "").strip()
    if name:
        items = lambda spec: list(get_path(spec, (kind, "params"), []) or [])  # noqa: E731
        _rewrite(lambda spec: set_path(spec, (kind, "params"), items(spec) + [{"param": name, "uniform": {"lo": 0.5, "hi": 1.5}}]))
        _bump_rev()


def _add_axis(key: str) -> None:
    name = (st.session_state.get(key) or "").strip()
    if name:
        items = lambda spec: list(get_path(spec, ("sweep", "axes"), []) or [])  # noqa: E731
        axis = {"param": name, "linspace": {"start": 0.5, "stop": 1.5, "num": 5}}
        _rewrite(lambda spec: set_path(spec, ("sweep", "axes"), items(spec) + [axis]))
        _bump_rev()


def _number_list(text: str) -> List[float]:
    """``"1, 2.5, 4"`` -> ``[1.0, 2.5, 4.0]``; what is not a number is left out."""
    out = []
    for part in str(text).replace(";", ",").split(","):
        try:
            out.append(float(part))
        except ValueError:
            continue
    return out


def _float(value: Any, default: float) -> float:
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _round(value: float) -> float:
    """Six significant digits: what a person typed, without float noise (9.999999999)."""
    if not isinstance(value, (int, float)) or value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.6g}")


def _step(value: Optional[float]) -> float:
    """A tenth of the value's order of magnitude (10 -> 1, 2 -> 0.1, 0.05 -> 0.001)."""
    if value is None or value == 0 or not math.isfinite(value):
        return 0.1
    return 10.0 ** (math.floor(math.log10(abs(value))) - 1)
