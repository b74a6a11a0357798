"""Python client for tanksim's gRPC API (``tanksim.v1``).

- :class:`Client`: submit a job, watch it, read its results and per-run rows.
- :func:`load_spec`: a job-spec file (proto3 JSON or YAML) as a ``SubmitJobRequest``.
- :func:`metric_name`, :func:`state_name`: enum values as the short names the CLI prints.
- The generated messages and stubs, re-exported: ``config_pb2``, ``job_pb2``,
  ``job_service_pb2`` (+ ``_grpc``), ``simulation_service_pb2`` (+ ``_grpc``). They live in
  ``tanksim_client._gen`` and are regenerated from ``proto/`` by ``generate.sh``.
"""

from ._gen.tanksim.v1 import (
    config_pb2,
    job_pb2,
    job_service_pb2,
    job_service_pb2_grpc,
    simulation_service_pb2,
    simulation_service_pb2_grpc,
)
from ._client import Client, metric_name, state_name
from ._spec import load_spec, parse_spec

__all__ = [
    "Client",
    "config_pb2",
    "job_pb2",
    "job_service_pb2",
    "job_service_pb2_grpc",
    "load_spec",
    "metric_name",
    "parse_spec",
    "simulation_service_pb2",
    "simulation_service_pb2_grpc",
    "state_name",
]
