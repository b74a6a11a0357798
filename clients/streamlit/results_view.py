"""A job's results on the page: per-metric table, histograms, a sweep's grid, a sensitivity
job's Sobol' indices, an adaptive job's precision, an optimisation's path, and the Parquet
download of its per-run rows.

Each chart sits in a container with a fixed key, so it carries the CSS class
``st-key-<key>`` that tests and people can find it by: ``tanksim-histograms``,
``tanksim-sweep-heatmap`` (2-axis sweeps), ``tanksim-sweep-line`` (1-axis sweeps),
``tanksim-sobol-<metric>`` (one per metric of a sensitivity job), ``tanksim-precision`` (an
adaptive Monte Carlo job's interval and runs), ``tanksim-optimize-path`` (an optimisation's
best objective per generation).
"""

from __future__ import annotations

import math

import grpc
import streamlit as st

import api
import charts
from tanksim_client import Client, job_pb2, job_service_pb2, metric_name

#: Histogram bins asked of GetJobResults by default (the server allows 1 to 200).
DEFAULT_BINS = 30
#: Metrics whose histograms are shown first, when they have values.
PREFERRED_HISTOGRAMS = ("overshoot_pct", "settling_time", "rise_time", "iae", "ise", "control_effort")
#: Job kinds whose per-run rows ExportRuns streams.
EXPORTABLE = (
    job_pb2.JOB_KIND_DATASET,
    job_pb2.JOB_KIND_SWEEP,
    job_pb2.JOB_KIND_SENSITIVITY,
    job_pb2.JOB_KIND_OPTIMIZE,
)


@st.cache_data(max_entries=32, show_spinner=False)
def _final_results(_client: Client, target: str, token: str, job_id: str, bins: int) -> bytes:
    """An ended job's results (which no longer change), serialized so the cache can keep them;
    keyed by gateway and token too, so another token's caller reads them from the gateway."""
    return api.results(_client, job_id, bins).SerializeToString()


def render(client: Client, job: job_pb2.Job) -> None:
    """The results of an ended job (partial for a cancelled or failed one)."""
    bins = st.session_state.get("hist_bins", DEFAULT_BINS)
    try:
        data = _final_results(
            client, st.session_state.get("gateway", ""), st.session_state.get("token", ""), job.id, bins
        )
    except grpc.RpcError as e:
        st.error(f"Reading the results failed: {api.describe_error(e)}")
        return
    response = job_service_pb2.GetJobResultsResponse.FromString(data)
    if job.state != job_pb2.JOB_STATE_SUCCEEDED:
        st.caption("Partial results: the runs that finished before the job ended.")

    st.subheader("Metrics")
    table = api.metrics_table(response)
    # Tall enough for every metric without a scrollbar (rows of 35 px and the header).
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3, key=f"metrics-{job.id}")

    if job.kind == job_pb2.JOB_KIND_SWEEP and response.sweep.params:
        _sweep(response)
    if job.kind == job_pb2.JOB_KIND_SENSITIVITY and response.sensitivity.params:
        _sensitivity(response)
    if response.HasField("stop"):
        _precision(response.stop)
    if response.HasField("optimize"):
        _optimize(response)
    _histograms(response)
    if job.kind in EXPORTABLE:
        _export(client, job)


def _precision(stop: job_service_pb2.StopResult) -> None:
    """An adaptive Monte Carlo job's stopping point: its mean's or quantile's interval against
    the target."""
    st.subheader("Precision")
    level = round(100 * stop.confidence_level)
    statistic = f"p{100 * stop.quantile:g}" if stop.quantile else "mean"
    with st.container(key="tanksim-precision"):
        cols = st.columns(3)
        cols[0].metric(f"{statistic} {metric_name(stop.metric)}", f"{stop.estimate:.6g}")
        cols[1].metric(f"± half-width ({level} %)", f"{stop.half_width:.4g}", help=f"target ± {stop.target_half_width:.4g}")
        cols[2].metric("runs", f"{stop.runs:,}", help=f"at most {stop.max_runs:,}")
        verdict = "reached" if stop.target_reached else "not reached (stopped at the run cap)"
        interval = "no interval yet" if math.isnan(stop.lower) else f"interval [{stop.lower:.6g}, {stop.upper:.6g}]"
        st.caption(f"Target ± {stop.target_half_width:.4g}: {verdict}; {interval}.")


def _optimize(response: job_service_pb2.GetJobResultsResponse) -> None:
    """An optimisation's best point and its path, generation by generation."""
    o = response.optimize
    objective = metric_name(o.objective.metric)
    st.subheader("Optimisation")
    params, path = api.optimize_frame(response)
    stopped = job_pb2.OptimizeStopReason.Name(o.stopped).removeprefix("OPTIMIZE_STOP_REASON_").lower().replace("_", " ")
    if o.HasField("best"):
        at = ", ".join(f"{p} = {v:.5g}" for p, v in zip(params, o.best.values))
        st.markdown(
            f"Best point: **{at}**, {objective} = **{o.best.objective:.6g}** "
            f"(generation {o.best.generation}); {len(o.path)} generations, {o.runs:,} runs"
            + (f", {stopped}." if o.stopped else ".")
        )
    with st.container(key="tanksim-optimize-path"):
        st.altair_chart(charts.optimize_path(path, objective), width="stretch")
    st.dataframe(path, hide_index=True, width="stretch")


def _histograms(response: job_service_pb2.GetJobResultsResponse) -> None:
    st.subheader("Histograms")
    bins = api.histogram_frame(response)
    available = [metric_name(m.metric) for m in response.metrics if m.histogram]
    if not available:
        st.caption("No metric has values to draw.")
        return
    preferred = [m for m in PREFERRED_HISTOGRAMS if m in available] or available[:6]
    left, right = st.columns([4, 1])
    with left:
        shown = st.multiselect("Metrics", available, default=preferred, key="hist_metrics")
    with right:
        st.number_input("Bins", min_value=1, max_value=200, value=DEFAULT_BINS, step=5, key="hist_bins")
    with st.container(key="tanksim-histograms"):
        if shown:
            st.altair_chart(charts.histograms(bins, shown), width="content")


def _sweep(response: job_service_pb2.GetJobResultsResponse) -> None:
    sweep = response.sweep
    params, points = api.sweep_frame(response)
    objective = metric_name(sweep.objective.metric)
    goal = "smallest" if sweep.objective.goal != job_pb2.GOAL_MAXIMIZE else "largest"
    st.subheader("Sweep")
    best_run = None
    if sweep.HasField("best") and sweep.best.HasField("objective"):
        best_run = sweep.best.run
        at = ", ".join(f"{p} = {v:.4g}" for p, v in zip(params, sweep.best.values))
        st.markdown(f"Best point ({goal} {objective}): **{at}**, {objective} = **{sweep.best.objective:.4g}** (run {best_run})")
    if not sweep.complete:
        st.caption(f"{len(points)} points of the grid shown (not all).")
    if len(params) == 2:
        values = points["objective"].dropna()
        positive = not values.empty and bool((values > 0).all())
        log_colour = st.toggle(
            "Log colour scale", value=False, key="heatmap_log", disabled=not positive,
            help="for an objective spanning orders of magnitude (only when every value is > 0)",
        )
        with st.container(key="tanksim-sweep-heatmap"):
            chart = charts.sweep_heatmap(points, params[0], params[1], objective, best_run, log_colour and positive)
            st.altair_chart(chart, width="stretch")
    elif len(params) == 1:
        with st.container(key="tanksim-sweep-line"):
            st.altair_chart(charts.sweep_line(points, params[0], objective), width="stretch")
    else:
        st.caption(f"{len(params)} axes: the points as a table (a heatmap needs 2 axes).")
        st.dataframe(points, hide_index=True, width="stretch")


def _sensitivity(response: job_service_pb2.GetJobResultsResponse) -> None:
    s = response.sensitivity
    level = s.confidence_level or 0.95
    st.subheader("Sobol' indices")
    st.caption(
        f"{s.samples} base samples; bars: first-order (S1) and total (ST) indices, "
        f"error bars: {level:.0%} bootstrap confidence intervals"
        + ("" if s.complete else "; not every run is in yet")
        + "."
    )
    st.dataframe(api.sensitivity_table(response), hide_index=True, width="stretch")
    indices = api.sobol_frame(response)
    params = list(s.params)
    columns = st.columns(min(3, max(1, len(s.metrics))))
    for i, m in enumerate(s.metrics):
        name = metric_name(m.metric)
        with columns[i % len(columns)]:
            with st.container(key=f"tanksim-sobol-{name}"):
                st.altair_chart(charts.sobol_bars(indices, name, params), width="stretch")
                dropped = f", {m.samples_dropped} dropped" if m.samples_dropped else ""
                variance = f"{m.variance:.4g}" if math.isfinite(m.variance) else "n/a"
                st.caption(f"{name}: {m.samples_used} samples used{dropped}; variance {variance}")


def _export(client: Client, job: job_pb2.Job) -> None:
    st.subheader("Per-run rows")
    key = f"parquet:{job.id}"
    if key not in st.session_state:
        st.caption(f"{job.progress.runs_done} runs: parameters, metrics and any recorded trajectories.")
        if st.button("Fetch rows as Parquet", key=f"export-{job.id}"):
            bar = st.progress(0.0, text="ExportRuns…")
            total = max(1, job.progress.runs_done)
            try:
                table = api.export_table(
                    client, job.id, lambda n: bar.progress(min(1.0, n / total), text=f"{n}/{total} rows")
                )
            except grpc.RpcError as e:
                st.error(f"ExportRuns failed: {api.describe_error(e)}")
                return
            st.session_state[key] = (api.parquet_bytes(table), table.num_rows, table.num_columns)
            bar.empty()
    if key in st.session_state:
        data, rows, cols = st.session_state[key]
        st.download_button(
            f"Download {job.name or job.id}.parquet ({rows} rows × {cols} columns, {len(data) / 1e6:.1f} MB)",
            data=data,
            file_name=f"{job.name or job.id}-{job.id}.parquet",
            mime="application/vnd.apache.parquet",
            key=f"download-{job.id}",
        )
