"""A thin convenience layer over the generated ``JobService`` and ``SimulationService`` stubs."""

from __future__ import annotations

import collections
import os
from typing import Any, Iterator, Mapping, Optional, Sequence, Tuple, Union

import grpc
from google.protobuf import json_format

from ._gen.tanksim.v1 import (
    config_pb2,
    job_pb2,
    job_service_pb2 as js,
    job_service_pb2_grpc,
    simulation_service_pb2,
    simulation_service_pb2_grpc,
)
from ._spec import Spec, parse_spec


class Client:
    """A connection to a tanksim gateway: ``host:port`` (or ``http://host:port``, as the CLI takes).

    Every method raises ``grpc.RpcError`` when the call fails; an invalid spec is
    ``INVALID_ARGUMENT`` with the offending field named in the details. The raw stubs are
    ``client.jobs`` and ``client.simulation`` for anything this layer does not cover.
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        target: str,
        *,
        token: Optional[str] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
        options: Sequence[Tuple[str, Any]] = (),
        timeout: Optional[float] = 30.0,
    ) -> None:
        """``token`` is the bearer token every call carries (an API key ``tsk_...`` or a JWT;
        default: ``$TANKSIM_TOKEN``, none if unset). ``timeout`` (seconds) bounds each unary
        call; streams are not bounded."""
        target = target.removeprefix("http://")
        if credentials is None:
            channel = grpc.insecure_channel(target, options=list(options))
        else:
            channel = grpc.secure_channel(target, credentials, options=list(options))
        if token is None:
            token = os.environ.get("TANKSIM_TOKEN") or None
        # An interceptor rather than call credentials: gRPC attaches those only over TLS,
        # and a gateway behind a TLS-terminating ingress is reached in plaintext.
        self._channel = grpc.intercept_channel(channel, _Bearer(token)) if token else channel
        self._timeout = timeout
        self.jobs = job_service_pb2_grpc.JobServiceStub(self._channel)
        self.simulation = simulation_service_pb2_grpc.SimulationServiceStub(self._channel)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected (raises ``grpc.FutureTimeoutError``)."""
        grpc.channel_ready_future(self._channel).result(timeout=timeout)

    def submit(self, spec: Spec) -> job_pb2.Job:
        """Submits a job (a ``SubmitJobRequest`` or its proto3 JSON as a dict); returns it queued."""
        return self.jobs.SubmitJob(parse_spec(spec), timeout=self._timeout).job

    def get(self, job_id: str) -> job_pb2.Job:
        """The job's state, progress and timings."""
        return self.jobs.GetJob(js.GetJobRequest(id=job_id), timeout=self._timeout).job

    def cancel(self, job_id: str) -> job_pb2.Job:
        """Cancels the job; returns it (unchanged if it had already ended)."""
        return self.jobs.CancelJob(js.CancelJobRequest(id=job_id), timeout=self._timeout).job

    def watch(self, job_id: str) -> Iterator[job_pb2.Job]:
        """Progress events until the job ends; the last one carries its final state."""
        for event in self.jobs.WatchJob(js.WatchJobRequest(id=job_id)):
            yield event.job

    def wait(self, job_id: str) -> job_pb2.Job:
        """Blocks until the job ends and returns it in its final state."""
        job = self.get(job_id)
        for job in self.watch(job_id):
            pass
        return job

    def results(
        self, job_id: str, *, histogram_bins: int = 0, max_points: int = 0
    ) -> js.GetJobResultsResponse:
        """Per-metric summaries (and a sweep's grid and best point); 0 means the server default."""
        request = js.GetJobResultsRequest(
            id=job_id, histogram_bins=histogram_bins, max_points=max_points
        )
        return self.jobs.GetJobResults(request, timeout=self._timeout)

    def export_runs(self, job_id: str) -> Iterator[job_pb2.RunRow]:
        """Per-run rows of a dataset or sweep job, in run order.

        The varied parameters' paths come with the first message of the raw stream
        (``client.jobs.ExportRuns``); the job spec names them too.
        """
        for batch in self.jobs.ExportRuns(js.ExportRunsRequest(id=job_id)):
            yield from batch.rows

    def list_jobs(self, page_size: int = 0) -> Iterator[job_pb2.Job]:
        """Every job, newest first, fetched a page at a time."""
        token = ""
        while True:
            page = self.jobs.ListJobs(
                js.ListJobsRequest(page_size=page_size, page_token=token), timeout=self._timeout
            )
            yield from page.jobs
            token = page.next_page_token
            if not token:
                return

    def simulate(
        self, config: Union[Mapping[str, Any], config_pb2.SimConfig]
    ) -> simulation_service_pb2.SimulateResponse:
        """One synchronous run: its metrics (in ``Metric`` order) and recorded trajectory."""
        if not isinstance(config, config_pb2.SimConfig):
            config = json_format.ParseDict(config, config_pb2.SimConfig())
        request = simulation_service_pb2.SimulateRequest(config=config)
        return self.simulation.Simulate(request, timeout=self._timeout)


def metric_name(metric: int) -> str:
    """``METRIC_OVERSHOOT_PCT`` -> ``overshoot_pct`` (the CLI's and the exports' names)."""
    return job_pb2.Metric.Name(metric).removeprefix("METRIC_").lower()


def state_name(state: int) -> str:
    """``JOB_STATE_SUCCEEDED`` -> ``succeeded``."""
    return job_pb2.JobState.Name(state).removeprefix("JOB_STATE_").lower()


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds ``authorization: Bearer <token>`` to every call."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token.strip()}")

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or []) + [self._header]
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._details(details), request)
