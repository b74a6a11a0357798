from . import config_pb2 as _config_pb2
from . import job_pb2 as _job_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SimulateRequest(_message.Message):
    __slots__ = ("config",)
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: _config_pb2.SimConfig
    def __init__(self, config: _Optional[_Union[_config_pb2.SimConfig, _Mapping]] = ...) -> None: ...

class SimulateResponse(_message.Message):
    __slots__ = ("metrics", "trajectory")
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedScalarFieldContainer[float]
    trajectory: _job_pb2.Trajectory
    def __init__(self, metrics: _Optional[_Iterable[float]] = ..., trajectory: _Optional[_Union[_job_pb2.Trajectory, _Mapping]] = ...) -> None: ...
