from . import config_pb2 as _config_pb2
from . import job_pb2 as _job_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitJobRequest(_message.Message):
    __slots__ = ("name", "config", "monte_carlo", "sweep", "dataset", "sensitivity", "optimize")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    MONTE_CARLO_FIELD_NUMBER: _ClassVar[int]
    SWEEP_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZE_FIELD_NUMBER: _ClassVar[int]
    name: str
    config: _config_pb2.SimConfig
    monte_carlo: _job_pb2.MonteCarlo
    sweep: _job_pb2.Sweep
    dataset: _job_pb2.Dataset
    sensitivity: _job_pb2.Sensitivity
    optimize: _job_pb2.Optimize
    def __init__(self, name: _Optional[str] = ..., config: _Optional[_Union[_config_pb2.SimConfig, _Mapping]] = ..., monte_carlo: _Optional[_Union[_job_pb2.MonteCarlo, _Mapping]] = ..., sweep: _Optional[_Union[_job_pb2.Sweep, _Mapping]] = ..., dataset: _Optional[_Union[_job_pb2.Dataset, _Mapping]] = ..., sensitivity: _Optional[_Union[_job_pb2.Sensitivity, _Mapping]] = ..., optimize: _Optional[_Union[_job_pb2.Optimize, _Mapping]] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_job_pb2.Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[_job_pb2.Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetJobResultsRequest(_message.Message):
    __slots__ = ("id", "histogram_bins", "max_points")
    ID_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_BINS_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    histogram_bins: int
    max_points: int
    def __init__(self, id: _Optional[str] = ..., histogram_bins: _Optional[int] = ..., max_points: _Optional[int] = ...) -> None: ...

class GetJobResultsResponse(_message.Message):
    __slots__ = ("job", "metrics", "sweep", "sensitivity", "stop", "optimize")
    JOB_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZE_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    metrics: _containers.RepeatedCompositeFieldContainer[_job_pb2.MetricSummary]
    sweep: _job_pb2.SweepResult
    sensitivity: _job_pb2.SensitivityResult
    stop: StopResult
    optimize: _job_pb2.OptimizeResult
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., metrics: _Optional[_Iterable[_Union[_job_pb2.MetricSummary, _Mapping]]] = ..., sweep: _Optional[_Union[_job_pb2.SweepResult, _Mapping]] = ..., sensitivity: _Optional[_Union[_job_pb2.SensitivityResult, _Mapping]] = ..., stop: _Optional[_Union[StopResult, _Mapping]] = ..., optimize: _Optional[_Union[_job_pb2.OptimizeResult, _Mapping]] = ...) -> None: ...

class StopResult(_message.Message):
    __slots__ = ("metric", "mean", "half_width", "target_half_width", "confidence_level", "runs", "values", "max_runs", "target_reached", "quantile", "estimate", "lower", "upper")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    HALF_WIDTH_FIELD_NUMBER: _ClassVar[int]
    TARGET_HALF_WIDTH_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    MAX_RUNS_FIELD_NUMBER: _ClassVar[int]
    TARGET_REACHED_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    metric: _job_pb2.Metric
    mean: float
    half_width: float
    target_half_width: float
    confidence_level: float
    runs: int
    values: int
    max_runs: int
    target_reached: bool
    quantile: float
    estimate: float
    lower: float
    upper: float
    def __init__(self, metric: _Optional[_Union[_job_pb2.Metric, str]] = ..., mean: _Optional[float] = ..., half_width: _Optional[float] = ..., target_half_width: _Optional[float] = ..., confidence_level: _Optional[float] = ..., runs: _Optional[int] = ..., values: _Optional[int] = ..., max_runs: _Optional[int] = ..., target_reached: _Optional[bool] = ..., quantile: _Optional[float] = ..., estimate: _Optional[float] = ..., lower: _Optional[float] = ..., upper: _Optional[float] = ...) -> None: ...

class ExportRunsRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ExportRunsResponse(_message.Message):
    __slots__ = ("params", "rows")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    params: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[_job_pb2.RunRow]
    def __init__(self, params: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[_job_pb2.RunRow, _Mapping]]] = ...) -> None: ...
