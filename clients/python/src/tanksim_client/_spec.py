"""Job specs: the proto3 JSON (or YAML) of ``SubmitJobRequest``, as the CLI and grpcurl read it."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Union

from google.protobuf import json_format

from ._gen.tanksim.v1 import job_service_pb2

Spec = Union[Mapping[str, Any], job_service_pb2.SubmitJobRequest]


def parse_spec(spec: Spec) -> job_service_pb2.SubmitJobRequest:
    """A spec as a request: a request is returned as is, a mapping is parsed as proto3 JSON.

    Unknown fields are errors (``google.protobuf.json_format.ParseError``), so a misspelt
    field does not silently fall back to its default.
    """
    if isinstance(spec, job_service_pb2.SubmitJobRequest):
        return spec
    return json_format.ParseDict(spec, job_service_pb2.SubmitJobRequest())


def load_spec(path: Union[str, os.PathLike]) -> job_service_pb2.SubmitJobRequest:
    """Reads a job-spec file: YAML when it ends in ``.yaml``/``.yml`` (needs PyYAML), else JSON."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if os.fspath(path).endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "YAML job specs need PyYAML: pip install 'tanksim-client[yaml]'"
            ) from e
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{os.fspath(path)}: a job spec is a mapping, found {type(data).__name__}")
    return parse_spec(data)
