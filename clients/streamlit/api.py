"""The Streamlit app's calls to the gateway, through the Python client (clients/python).

No Streamlit here: each function takes a :class:`tanksim_client.Client` and returns plain
values (dicts, pandas frames, a pyarrow table), so the page code only lays them out.
Failed calls raise ``grpc.RpcError``; :func:`describe_error` turns one into what a person reads,
and :func:`field_violations` reads the ``google.rpc.BadRequest`` detail of an
``INVALID_ARGUMENT`` from ``SubmitJob``.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import grpc
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from google.rpc import error_details_pb2, status_pb2

from tanksim_client import Client, job_pb2, job_service_pb2, metric_name, parse_spec, state_name

#: Job states after which nothing changes.
TERMINAL_STATES = frozenset(
    {job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED}
)

#: Every metric's short name (``overshoot_pct``, ...), in ``Metric`` order (the order of
#: ``RunRow.metrics``).
METRIC_NAMES: List[str] = [
    metric_name(v) for v in job_pb2.Metric.values() if v != job_pb2.METRIC_UNSPECIFIED
]

#: How many jobs the jobs table lists (newest first).
MAX_LISTED_JOBS = 200


@dataclass(frozen=True)
class Violation:
    """One rejected field of a request: its path (``config.dt``) and why."""

    field: str
    reason: str


def connect(target: str, token: Optional[str]) -> Client:
    """A client for ``target`` (``host:port``) sending ``token`` (empty: none) on every call."""
    # An empty token must not fall back to $TANKSIM_TOKEN inside the client: the sidebar's
    # value (which starts as $TANKSIM_TOKEN) is the one in force.
    return Client(target.strip(), token=(token or "").strip() or "", timeout=15.0)


def kind_name(kind: int) -> str:
    """``JOB_KIND_MONTE_CARLO`` -> ``monte_carlo``."""
    return job_pb2.JobKind.Name(kind).removeprefix("JOB_KIND_").lower()


def is_terminal(job: job_pb2.Job) -> bool:
    """Whether the job has ended (succeeded, failed or cancelled)."""
    return job.state in TERMINAL_STATES


def field_violations(error: grpc.RpcError) -> List[Violation]:
    """The field violations of an ``INVALID_ARGUMENT`` (its ``google.rpc.BadRequest`` detail,
    from the ``grpc-status-details-bin`` trailer); empty when it carries none."""
    trailers = getattr(error, "trailing_metadata", None)
    metadata = trailers() if callable(trailers) else None
    out: List[Violation] = []
    for key, value in metadata or ():
        if key != "grpc-status-details-bin":
            continue
        try:
            status = status_pb2.Status.FromString(value)
        except Exception:  # a malformed trailer: fall back to the message alone
            return []
        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                out.extend(Violation(v.field, v.description) for v in bad.field_violations)
    return out


def describe_error(error: grpc.RpcError) -> str:
    """``CODE: details`` with a hint for the codes a misconfigured connection gives."""
    code = error.code() if callable(getattr(error, "code", None)) else None
    details = error.details() if callable(getattr(error, "details", None)) else str(error)
    name = code.name if code is not None else "ERROR"
    hints = {
        "UNAVAILABLE": " (is `tanksim serve all` running at that address?)",
        "UNAUTHENTICATED": " (set the API token in the sidebar or $TANKSIM_TOKEN)",
        "PERMISSION_DENIED": " (the token lacks the scope this call needs)",
    }
    return f"{name}: {details}{hints.get(name, '')}"


def submit(client: Client, spec: Mapping[str, Any]) -> job_pb2.Job:
    """Submits a spec (the YAML's mapping); raises ``json_format.ParseError`` for a mapping
    that is not a ``SubmitJobRequest`` and ``grpc.RpcError`` when the gateway refuses it."""
    return client.submit(parse_spec(dict(spec)))


def watch(client: Client, job_id: str) -> Iterator[job_pb2.Job]:
    """WatchJob's events until the job ends (the last carries its final state)."""
    return client.watch(job_id)


def progress_fraction(job: job_pb2.Job) -> float:
    """Runs done over runs total, in [0, 1] (1 once the job succeeded)."""
    if job.state == job_pb2.JOB_STATE_SUCCEEDED:
        return 1.0
    total = job.progress.runs_total
    return min(1.0, job.progress.runs_done / total) if total else 0.0


def progress_text(job: job_pb2.Job) -> str:
    """``running: 1200/2000 runs (3/8 chunks)``."""
    p = job.progress
    text = f"{state_name(job.state)}: {p.runs_done}/{p.runs_total} runs ({p.chunks_done}/{p.chunks_total} chunks"
    if p.chunks_failed:
        text += f", {p.chunks_failed} failed"
    return text + ")"


def jobs_table(client: Client, limit: int = MAX_LISTED_JOBS) -> pd.DataFrame:
    """ListJobs as a table, newest first: id, name, kind, state, runs, submitted, finished, error."""
    rows = [_job_row(job) for job in itertools.islice(client.list_jobs(page_size=100), limit)]
    columns = ["id", "name", "kind", "state", "runs_done", "runs_total", "submitted", "finished", "error"]
    return pd.DataFrame(rows, columns=columns)


def _job_row(job: job_pb2.Job) -> dict:
    def when(ts: Any) -> Optional[pd.Timestamp]:
        return pd.Timestamp(ts.ToDatetime()) if ts.seconds or ts.nanos else None

    return {
        "id": job.id,
        "name": job.name,
        "kind": kind_name(job.kind),
        "state": state_name(job.state),
        "runs_done": job.progress.runs_done,
        "runs_total": job.progress.runs_total,
        "submitted": when(job.submitted_at),
        "finished": when(job.finished_at),
        "error": job.error,
    }


def results(client: Client, job_id: str, histogram_bins: int) -> job_service_pb2.GetJobResultsResponse:
    """GetJobResults with ``histogram_bins`` bins per metric and every sweep point (up to 100k)."""
    return client.results(job_id, histogram_bins=histogram_bins, max_points=100_000)


def metrics_table(response: job_service_pb2.GetJobResultsResponse) -> pd.DataFrame:
    """One row per metric: count, absent, non-finite, mean, std, min, p5, p50, p95, max and
    the quantiles' rank error in % of the runs (0: exact; statistics empty for a metric no run
    has a value of)."""
    rows = []
    for m in response.metrics:
        stats = {k: getattr(m, k) if m.count else None for k in ("mean", "std", "min", "p5", "p50", "p95", "max")}
        stats["rank_error_pct"] = 100.0 * m.quantile_rank_error if m.count else None
        rows.append(
            {"metric": metric_name(m.metric), "count": m.count, "absent": m.absent, "non_finite": m.non_finite, **stats}
        )
    return pd.DataFrame(rows)


def histogram_frame(response: job_service_pb2.GetJobResultsResponse) -> pd.DataFrame:
    """Every metric's histogram bins: metric, lo, hi, count (metrics without bins are absent)."""
    rows = [
        {"metric": metric_name(m.metric), "lo": b.lo, "hi": b.hi, "count": b.count}
        for m in response.metrics
        for b in m.histogram
    ]
    return pd.DataFrame(rows, columns=["metric", "lo", "hi", "count"])


def sweep_frame(response: job_service_pb2.GetJobResultsResponse) -> Tuple[List[str], pd.DataFrame]:
    """A sweep's axis parameters and its points: run, one column per axis, objective (NaN where
    the metric has no value)."""
    sweep = response.sweep
    params = list(sweep.params)
    rows = []
    for point in sweep.points:
        row = {"run": point.run}
        row.update({p: v for p, v in zip(params, point.values)})
        row["objective"] = point.objective if point.HasField("objective") else float("nan")
        rows.append(row)
    return params, pd.DataFrame(rows, columns=["run", *params, "objective"])


def sobol_frame(response: job_service_pb2.GetJobResultsResponse) -> pd.DataFrame:
    """A sensitivity job's indices, long: metric, param, order (``S1``/``ST``), value, lo, hi."""
    s = response.sensitivity
    rows = []
    for m in s.metrics:
        for order, indices in (("S1", m.first_order), ("ST", m.total_order)):
            for param, index in zip(s.params, indices):
                rows.append(
                    {
                        "metric": metric_name(m.metric),
                        "param": param,
                        "order": order,
                        "value": index.value,
                        "lo": index.lo,
                        "hi": index.hi,
                    }
                )
    return pd.DataFrame(rows, columns=["metric", "param", "order", "value", "lo", "hi"])


def optimize_frame(response: job_service_pb2.GetJobResultsResponse) -> Tuple[List[str], pd.DataFrame]:
    """An optimisation's path, a row per generation: its best objective, the best so far, the
    search's mean per parameter and its width."""
    o = response.optimize
    params = list(o.params)
    maximize = o.objective.goal == job_pb2.GOAL_MAXIMIZE
    rows, best = [], float("nan")
    for step in o.path:
        value = step.best.objective if step.HasField("best") else float("nan")
        if value == value and (best != best or (value > best if maximize else value < best)):
            best = value
        row = {"generation": step.generation, "best": value, "best_so_far": best, "width": step.width}
        row.update({f"mean {p}": v for p, v in zip(params, step.mean)})
        rows.append(row)
    return params, pd.DataFrame(rows, columns=["generation", "best", "best_so_far", *(f"mean {p}" for p in params), "width"])


def sensitivity_table(response: job_service_pb2.GetJobResultsResponse) -> pd.DataFrame:
    """Per metric of a sensitivity job: base samples used and dropped, and its variance."""
    rows = [
        {
            "metric": metric_name(m.metric),
            "samples_used": m.samples_used,
            "samples_dropped": m.samples_dropped,
            "variance": m.variance,
        }
        for m in response.sensitivity.metrics
    ]
    return pd.DataFrame(rows, columns=["metric", "samples_used", "samples_dropped", "variance"])


def export_table(
    client: Client, job_id: str, on_rows: Optional[Callable[[int], None]] = None
) -> pa.Table:
    """ExportRuns as an Arrow table with the columns `tanksim ... --export parquet` writes: ``run``,
    one float column per varied parameter (its path), one nullable float column per metric
    (null where absent), and list columns ``t``, ``h``, ``u``, ``r`` when runs carry
    trajectories. Built a batch at a time, so a large dataset is held as Arrow arrays rather
    than Python objects. ``on_rows`` is told the count of rows read so far after each batch."""
    params: Optional[List[str]] = None
    batches: List[Dict[str, pa.Array]] = []
    rows_read = 0
    for message in client.jobs.ExportRuns(job_service_pb2.ExportRunsRequest(id=job_id)):
        if params is None:
            params = list(message.params)
        if message.rows:
            batches.append(_batch_columns(message.rows, params))
            rows_read += len(message.rows)
        if on_rows is not None:
            on_rows(rows_read)
    params = params or []
    with_trajectories = any("t" in b for b in batches)
    names = ["run", *params, *METRIC_NAMES] + (list(TRAJECTORY_COLUMNS) if with_trajectories else [])
    types = [pa.uint64()] + [pa.float64()] * (len(params) + len(METRIC_NAMES))
    types += [pa.list_(pa.float64())] * (len(names) - len(types))
    schema = pa.schema([pa.field(n, t, nullable=n not in ["run", *params]) for n, t in zip(names, types)])
    record_batches = []
    for columns in batches:
        length = len(columns["run"])
        arrays = [columns[n] if n in columns else pa.nulls(length, type=t) for n, t in zip(names, types)]
        record_batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(record_batches, schema=schema)


#: The trajectory list columns of an export, in ``Trajectory`` field order.
TRAJECTORY_COLUMNS = ("t", "h", "u", "r")


def _batch_columns(rows: Sequence[job_pb2.RunRow], params: Sequence[str]) -> Dict[str, pa.Array]:
    """One ExportRuns message's rows as Arrow arrays, by column name (trajectory columns only
    when some row has one)."""
    nan = float("nan")
    columns: Dict[str, pa.Array] = {"run": pa.array([r.run for r in rows], type=pa.uint64())}
    for i, name in enumerate(params):
        columns[name] = pa.array([r.params[i] if i < len(r.params) else nan for r in rows], type=pa.float64())
    for i, name in enumerate(METRIC_NAMES):
        values = [r.metrics[i] if i < len(r.metrics) else nan for r in rows]
        columns[name] = pa.array([None if v != v else v for v in values], type=pa.float64())
    if any(r.HasField("trajectory") for r in rows):
        for c in TRAJECTORY_COLUMNS:
            offsets, values, valid = [0], [], []
            for r in rows:
                has = r.HasField("trajectory")
                if has:
                    values.extend(getattr(r.trajectory, c))
                offsets.append(len(values))
                valid.append(has)
            mask = pa.array([not v for v in valid], type=pa.bool_())
            columns[c] = pa.ListArray.from_arrays(
                pa.array(offsets, type=pa.int32()), pa.array(values, type=pa.float64()), mask=mask
            )
    return columns


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as a Parquet file (Snappy, as the CLI writes it)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()
