"""The Streamlit app's charts, as Altair (Vega-Lite) specs built from the frames in api.py.

- :func:`histograms`: the metrics' histogram bins (GetJobResults' ``MetricSummary.histogram``).
- :func:`sweep_heatmap`: a 2-axis sweep's objective over the grid, the best point marked.
- :func:`sweep_line`: a 1-axis sweep's objective along the axis.
- :func:`sobol_bars`: one metric's first-order (S1) and total (ST) Sobol' indices with their
  confidence intervals as error bars.
"""

from __future__ import annotations

from typing import Optional, Sequence

import altair as alt
import pandas as pd

#: Charts are this wide unless the container stretches them.
WIDTH = 220


def histograms(bins: pd.DataFrame, metrics: Sequence[str], columns: int = 3) -> alt.Chart:
    """One small histogram per metric in ``metrics`` (bars from each bin's lo to hi, height its
    count), each with its own scales."""
    data = bins[bins["metric"].isin(list(metrics))]
    base = (
        alt.Chart(data)
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("lo:Q", title=None, scale=alt.Scale(zero=False)),
            x2="hi:Q",
            y=alt.Y("count:Q", title="runs"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("lo:Q", format=".4g"),
                alt.Tooltip("hi:Q", format=".4g"),
                alt.Tooltip("count:Q"),
            ],
        )
        .properties(width=WIDTH, height=160)
    )
    return (
        base.facet(facet=alt.Facet("metric:N", title=None, sort=list(metrics)), columns=columns)
        .resolve_scale(x="independent", y="independent")
        .resolve_axis(x="independent", y="independent")
    )


def sweep_heatmap(
    points: pd.DataFrame, x: str, y: str, objective: str, best_run: Optional[int], log_colour: bool = False
) -> alt.LayerChart:
    """The objective at each grid point: ``x`` (the first axis) across, ``y`` up, colour the
    objective (on a log scale if ``log_colour``; none where it has no value); the best point
    ringed."""
    data = points.copy()
    axis = dict(format=".3g", formatType="number", labelOverlap="greedy")
    cells = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X(f"{_field(x)}:O", title=x, axis=alt.Axis(**axis)),
            y=alt.Y(f"{_field(y)}:O", title=y, sort="descending", axis=alt.Axis(**axis)),
            color=alt.Color("objective:Q", title=objective, scale=alt.Scale(scheme="viridis", type="log" if log_colour else "linear")),
            tooltip=[
                alt.Tooltip(f"{_field(x)}:Q", title=x, format=".4g"),
                alt.Tooltip(f"{_field(y)}:Q", title=y, format=".4g"),
                alt.Tooltip("objective:Q", title=objective, format=".4g"),
                alt.Tooltip("run:Q"),
            ],
        )
        .properties(height=420)
    )
    layers = [cells]
    if best_run is not None:
        best = (
            alt.Chart(data[data["run"] == best_run])
            .mark_point(shape="circle", size=140, color="red", strokeWidth=2.5, filled=False)
            .encode(x=f"{_field(x)}:O", y=alt.Y(f"{_field(y)}:O", sort="descending"))
        )
        layers.append(best)
    return alt.layer(*layers)


def sweep_line(points: pd.DataFrame, x: str, objective: str) -> alt.Chart:
    """The objective along a 1-axis sweep."""
    return (
        alt.Chart(points)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{_field(x)}:Q", title=x),
            y=alt.Y("objective:Q", title=objective),
            tooltip=[alt.Tooltip(f"{_field(x)}:Q", title=x, format=".4g"), alt.Tooltip("objective:Q", format=".4g")],
        )
        .properties(height=300)
    )


def optimize_path(path: pd.DataFrame, objective: str) -> alt.LayerChart:
    """An optimisation's best objective per generation (points) and the best so far (a line)."""
    base = alt.Chart(path).encode(x=alt.X("generation:Q", title="generation"))
    points = base.mark_point(filled=True, color="#4c78a8").encode(
        y=alt.Y("best:Q", title=objective, scale=alt.Scale(zero=False)),
        tooltip=["generation:Q", alt.Tooltip("best:Q", format=".6g")],
    )
    line = base.mark_line(color="#e45756").encode(y="best_so_far:Q")
    return alt.layer(points, line).properties(height=300)


def sobol_bars(indices: pd.DataFrame, metric: str, params: Sequence[str]) -> alt.LayerChart:
    """``metric``'s S1 and ST per parameter as grouped horizontal bars (a parameter per row,
    its path readable), with [lo, hi] error bars."""
    data = indices[indices["metric"] == metric]
    y = alt.Y("param:N", title=None, sort=list(params))
    offset = alt.YOffset("order:N", sort=["S1", "ST"])
    colour = alt.Color(
        "order:N",
        title="index",
        sort=["S1", "ST"],
        scale=alt.Scale(domain=["S1", "ST"], range=["#4c78a8", "#f58518"]),
        legend=alt.Legend(orient="bottom"),
    )
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            yOffset=offset,
            x=alt.X("value:Q", title="Sobol' index"),
            color=colour,
            tooltip=[
                "param:N",
                "order:N",
                alt.Tooltip("value:Q", format=".3f"),
                alt.Tooltip("lo:Q", format=".3f"),
                alt.Tooltip("hi:Q", format=".3f"),
            ],
        )
    )
    # Rules rather than mark_errorbar: the composite mark drops the yOffset channel.
    errors = alt.Chart(data).mark_rule(color="black", strokeWidth=1.5).encode(
        y=y, yOffset=offset, x="lo:Q", x2="hi:Q"
    )
    return alt.layer(bars, errors).properties(height=alt.Step(14), title=metric)


def _field(name: str) -> str:
    """A column name as a Vega-Lite field: dots (``plant.tau``) would mean nesting, so escape them."""
    return name.replace(".", "\\.")
