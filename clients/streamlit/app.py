"""tanksim's Streamlit frontend, on the public gRPC API (``tanksim.v1.JobService``).

Pick or write a job spec, submit it, watch its progress live (WatchJob), read its results
(GetJobResults: per-metric table, histograms, a sweep's heatmap, Sobol' indices), list and
cancel jobs (ListJobs, CancelJob), and download a job's per-run rows as Parquet (ExportRuns).

    PYTHONPATH=clients/python/src:clients/streamlit streamlit run clients/streamlit/app.py

The gateway and API token come from $TANKSIM_GATEWAY (default 127.0.0.1:50051) and
$TANKSIM_TOKEN, and can be changed in the sidebar. See README.md.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
# The app's own modules, and the Python client when it is not installed (a checkout).
for extra in (HERE, HERE.parent / "python" / "src"):
    if extra.is_dir() and str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import grpc  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import api  # noqa: E402
import results_view  # noqa: E402
import spec_editor  # noqa: E402
from tanksim_client import Client, job_pb2, state_name  # noqa: E402

DEFAULT_GATEWAY = "127.0.0.1:50051"
#: Session-state keys.
JOB_KEY = "job_id"
SUBMIT_ERROR_KEY = "submit_error"


@st.cache_resource(max_entries=4, show_spinner=False)
def client_for(target: str, token: str) -> Client:
    """One client (one gRPC channel) per gateway and token, shared by the session's reruns."""
    return api.connect(target, token)


def main() -> None:
    st.set_page_config(page_title="tanksim", page_icon="💧", layout="wide")
    spec_editor.init_state()
    client = _sidebar()
    st.title("tanksim")
    st.caption("Water-tank simulation jobs on a tanksim gateway: Monte Carlo, sweeps, datasets, Sobol' sensitivity, CMA-ES optimisation.")
    # Laid out top to bottom, filled in another order: watching a running job blocks until it
    # ends, so it comes last, after the jobs list is drawn. The job's area is a slot whose
    # content is replaced whole, so a previous job's results do not linger (greyed out) below
    # the progress bar while it is watched.
    editor_area = st.container()
    job_area = st.empty()
    jobs_area = st.container()
    with jobs_area:
        _jobs(client)
    with editor_area:
        _editor(client)
    with job_area.container():
        _current_job(client)


def _sidebar() -> Client:
    with st.sidebar:
        st.header("Gateway")
        target = st.text_input(
            "Address (host:port)",
            value=os.environ.get("TANKSIM_GATEWAY") or DEFAULT_GATEWAY,
            key="gateway",
            help="tanksim serve all, or a deployed gateway; default $TANKSIM_GATEWAY",
        )
        token = st.text_input(
            "API token",
            value=os.environ.get("TANKSIM_TOKEN", ""),
            type="password",
            key="token",
            help="An API key (tsk_...) or a JWT; default $TANKSIM_TOKEN. Cancelling needs the jobs:cancel scope.",
        )
        st.caption("Scopes: jobs:submit to submit, jobs:read to watch and read, jobs:cancel to cancel.")
    return client_for(target.strip() or DEFAULT_GATEWAY, token.strip())


def _editor(client: Client) -> None:
    st.header("Job spec")
    spec, _ = spec_editor.render()
    submitted = st.button("Submit job", type="primary", disabled=spec is None, key="submit")
    if submitted and spec is not None:
        st.session_state[SUBMIT_ERROR_KEY] = None
        try:
            job = api.submit(client, spec)
        except json_format.ParseError as e:
            _remember_error(f"The spec is not a SubmitJobRequest: {e}", [])
        except grpc.RpcError as e:
            _remember_error(api.describe_error(e), api.field_violations(e))
        else:
            st.session_state[JOB_KEY] = job.id
            st.toast(f"Submitted job {job.id}")
    _show_submit_error()


def _remember_error(message: str, violations: list) -> None:
    """Keeps a refusal on screen until the spec changes or is submitted again."""
    st.session_state[SUBMIT_ERROR_KEY] = {
        "message": message,
        "violations": [(v.field, v.reason) for v in violations],
        "spec": st.session_state.get(spec_editor.SPEC_KEY),
    }


def _show_submit_error() -> None:
    error = st.session_state.get(SUBMIT_ERROR_KEY)
    if not error or error["spec"] != st.session_state.get(spec_editor.SPEC_KEY):
        return
    with st.container(key="tanksim-submit-error"):
        if error["violations"]:
            st.error(f"The gateway rejected the spec (INVALID_ARGUMENT): {len(error['violations'])} field(s) to fix.")
            st.dataframe(
                pd.DataFrame(error["violations"], columns=["field", "reason"]),
                hide_index=True,
                width="stretch",
            )
        else:
            st.error(error["message"])


def _current_job(client: Client) -> None:
    job_id: Optional[str] = st.session_state.get(JOB_KEY)
    st.header("Job")
    if not job_id:
        st.caption("Submit a job, or pick one in the jobs list below.")
        return
    try:
        job = client.get(job_id)
    except grpc.RpcError as e:
        st.error(api.describe_error(e))
        return
    st.markdown(f"`{job.id}` **{job.name}** · {api.kind_name(job.kind).replace('_', ' ')}")
    if not api.is_terminal(job):
        _watch(client, job)
        return
    with st.container(key="tanksim-job-state"):
        _final_state(job)
    if job.progress.runs_done or job.state == job_pb2.JOB_STATE_SUCCEEDED:
        results_view.render(client, job)


def _final_state(job: job_pb2.Job) -> None:
    took = ""
    if job.submitted_at.seconds and job.finished_at.seconds:
        seconds = (job.finished_at.ToDatetime() - job.submitted_at.ToDatetime()).total_seconds()
        took = f", {seconds:.1f} s after it was submitted"
    runs = f"{job.progress.runs_done}/{job.progress.runs_total} runs"
    if job.state == job_pb2.JOB_STATE_SUCCEEDED:
        st.success(f"Job {job.id} succeeded: {runs}{took}.")
    elif job.state == job_pb2.JOB_STATE_CANCELLED:
        st.warning(f"Job {job.id} cancelled after {runs}. {job.error}".strip())
    else:
        st.error(f"Job {job.id} failed after {runs}: {job.error}")


def _watch(client: Client, job: job_pb2.Job) -> None:
    """A progress bar that moves with each WatchJob event; reruns the page once the job ends."""
    with st.container(key="tanksim-job-state"):
        bar = st.progress(api.progress_fraction(job), text=api.progress_text(job))
    st.button("Cancel job", key="cancel_current", on_click=_cancel, args=(client, job.id))
    last = job
    try:
        for last in api.watch(client, job.id):
            bar.progress(api.progress_fraction(last), text=api.progress_text(last))
    except grpc.RpcError as e:
        st.error(f"Watching stopped: {api.describe_error(e)}")
        return
    if not api.is_terminal(last):
        # The stream ended without a final state (a gateway restart, say): look again soon.
        time.sleep(1.0)
    st.rerun()


def _cancel(client: Client, job_id: str) -> None:
    try:
        job = client.cancel(job_id)
    except grpc.RpcError as e:
        st.toast(f"Cancel failed: {api.describe_error(e)}")
        return
    st.toast(f"Job {job.id}: {state_name(job.state)}")


def _jobs(client: Client) -> None:
    title, refresh = st.columns([5, 1], vertical_alignment="bottom")
    with title:
        st.header("Jobs")
    with refresh:
        st.button("Refresh", key="jobs_refresh", width="stretch")  # a click reruns the page
    try:
        jobs = api.jobs_table(client)
    except grpc.RpcError as e:
        st.error(f"Listing jobs failed: {api.describe_error(e)}")
        return
    if jobs.empty:
        st.caption("No jobs yet for this token's tenant.")
        return
    jobs["progress"] = [d / t if t else 0.0 for d, t in zip(jobs["runs_done"], jobs["runs_total"])]
    st.dataframe(
        jobs[["id", "name", "kind", "state", "progress", "runs_done", "runs_total", "submitted", "finished", "error"]],
        hide_index=True,
        width="stretch",
        key="jobs_table",
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0, format="percent"),
            "submitted": st.column_config.DatetimeColumn("submitted (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "finished": st.column_config.DatetimeColumn("finished (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        },
    )
    labels = {row.id: f"{row.id} · {row.name} · {row.kind} · {row.state}" for row in jobs.itertuples()}
    pick, view, cancel = st.columns([4, 1, 1], vertical_alignment="bottom")
    with pick:
        chosen = st.selectbox("Job", list(labels), format_func=labels.get, key="jobs_pick")
    with view:
        st.button("View", key="jobs_view", on_click=_view, args=(chosen,), width="stretch")
    with cancel:
        state = jobs.loc[jobs["id"] == chosen, "state"].iloc[0] if chosen else ""
        st.button(
            "Cancel",
            key="jobs_cancel",
            disabled=state not in ("queued", "running"),
            on_click=_cancel,
            args=(client, chosen),
            width="stretch",
        )


def _view(job_id: Optional[str]) -> None:
    if job_id:
        st.session_state[JOB_KEY] = job_id


main()
