import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Sampling(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAMPLING_UNSPECIFIED: _ClassVar[Sampling]
    SAMPLING_RANDOM: _ClassVar[Sampling]
    SAMPLING_SOBOL: _ClassVar[Sampling]
    SAMPLING_LATIN_HYPERCUBE: _ClassVar[Sampling]

class Goal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GOAL_UNSPECIFIED: _ClassVar[Goal]
    GOAL_MINIMIZE: _ClassVar[Goal]
    GOAL_MAXIMIZE: _ClassVar[Goal]

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_OVERSHOOT_PCT: _ClassVar[Metric]
    METRIC_RISE_TIME: _ClassVar[Metric]
    METRIC_SETTLING_TIME: _ClassVar[Metric]
    METRIC_PEAK: _ClassVar[Metric]
    METRIC_PEAK_TIME: _ClassVar[Metric]
    METRIC_STEADY_STATE_ERROR: _ClassVar[Metric]
    METRIC_IAE: _ClassVar[Metric]
    METRIC_ISE: _ClassVar[Metric]
    METRIC_ITAE: _ClassVar[Metric]
    METRIC_CONTROL_EFFORT: _ClassVar[Metric]
    METRIC_SATURATED_FRACTION: _ClassVar[Metric]
    METRIC_FINAL_LEVEL: _ClassVar[Metric]
    METRIC_OVERFLOW: _ClassVar[Metric]

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_KIND_UNSPECIFIED: _ClassVar[JobKind]
    JOB_KIND_MONTE_CARLO: _ClassVar[JobKind]
    JOB_KIND_SWEEP: _ClassVar[JobKind]
    JOB_KIND_DATASET: _ClassVar[JobKind]
    JOB_KIND_SENSITIVITY: _ClassVar[JobKind]
    JOB_KIND_OPTIMIZE: _ClassVar[JobKind]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class OptimizeStopReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPTIMIZE_STOP_REASON_UNSPECIFIED: _ClassVar[OptimizeStopReason]
    OPTIMIZE_STOP_REASON_CONVERGED: _ClassVar[OptimizeStopReason]
    OPTIMIZE_STOP_REASON_DEGENERATE: _ClassVar[OptimizeStopReason]
    OPTIMIZE_STOP_REASON_MAX_GENERATIONS: _ClassVar[OptimizeStopReason]
SAMPLING_UNSPECIFIED: Sampling
SAMPLING_RANDOM: Sampling
SAMPLING_SOBOL: Sampling
SAMPLING_LATIN_HYPERCUBE: Sampling
GOAL_UNSPECIFIED: Goal
GOAL_MINIMIZE: Goal
GOAL_MAXIMIZE: Goal
METRIC_UNSPECIFIED: Metric
METRIC_OVERSHOOT_PCT: Metric
METRIC_RISE_TIME: Metric
METRIC_SETTLING_TIME: Metric
METRIC_PEAK: Metric
METRIC_PEAK_TIME: Metric
METRIC_STEADY_STATE_ERROR: Metric
METRIC_IAE: Metric
METRIC_ISE: Metric
METRIC_ITAE: Metric
METRIC_CONTROL_EFFORT: Metric
METRIC_SATURATED_FRACTION: Metric
METRIC_FINAL_LEVEL: Metric
METRIC_OVERFLOW: Metric
JOB_KIND_UNSPECIFIED: JobKind
JOB_KIND_MONTE_CARLO: JobKind
JOB_KIND_SWEEP: JobKind
JOB_KIND_DATASET: JobKind
JOB_KIND_SENSITIVITY: JobKind
JOB_KIND_OPTIMIZE: JobKind
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
OPTIMIZE_STOP_REASON_UNSPECIFIED: OptimizeStopReason
OPTIMIZE_STOP_REASON_CONVERGED: OptimizeStopReason
OPTIMIZE_STOP_REASON_DEGENERATE: OptimizeStopReason
OPTIMIZE_STOP_REASON_MAX_GENERATIONS: OptimizeStopReason

class MonteCarlo(_message.Message):
    __slots__ = ("runs", "seed", "params", "sampling", "stop")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    runs: int
    seed: int
    params: _containers.RepeatedCompositeFieldContainer[ParamDistribution]
    sampling: Sampling
    stop: MonteCarloStop
    def __init__(self, runs: _Optional[int] = ..., seed: _Optional[int] = ..., params: _Optional[_Iterable[_Union[ParamDistribution, _Mapping]]] = ..., sampling: _Optional[_Union[Sampling, str]] = ..., stop: _Optional[_Union[MonteCarloStop, _Mapping]] = ...) -> None: ...

class MonteCarloStop(_message.Message):
    __slots__ = ("metric", "half_width", "relative_half_width", "confidence_level", "batch_runs", "quantile")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    HALF_WIDTH_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_HALF_WIDTH_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    BATCH_RUNS_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    half_width: float
    relative_half_width: float
    confidence_level: float
    batch_runs: int
    quantile: float
    def __init__(self, metric: _Optional[_Union[Metric, str]] = ..., half_width: _Optional[float] = ..., relative_half_width: _Optional[float] = ..., confidence_level: _Optional[float] = ..., batch_runs: _Optional[int] = ..., quantile: _Optional[float] = ...) -> None: ...

class Sweep(_message.Message):
    __slots__ = ("axes", "objective", "seed")
    AXES_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedCompositeFieldContainer[Axis]
    objective: Objective
    seed: int
    def __init__(self, axes: _Optional[_Iterable[_Union[Axis, _Mapping]]] = ..., objective: _Optional[_Union[Objective, _Mapping]] = ..., seed: _Optional[int] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("runs", "seed", "params", "record_every", "sampling")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RECORD_EVERY_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    runs: int
    seed: int
    params: _containers.RepeatedCompositeFieldContainer[ParamDistribution]
    record_every: int
    sampling: Sampling
    def __init__(self, runs: _Optional[int] = ..., seed: _Optional[int] = ..., params: _Optional[_Iterable[_Union[ParamDistribution, _Mapping]]] = ..., record_every: _Optional[int] = ..., sampling: _Optional[_Union[Sampling, str]] = ...) -> None: ...

class Sensitivity(_message.Message):
    __slots__ = ("samples", "seed", "params", "metrics", "bootstrap_resamples", "confidence_level")
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    samples: int
    seed: int
    params: _containers.RepeatedCompositeFieldContainer[ParamDistribution]
    metrics: _containers.RepeatedScalarFieldContainer[Metric]
    bootstrap_resamples: int
    confidence_level: float
    def __init__(self, samples: _Optional[int] = ..., seed: _Optional[int] = ..., params: _Optional[_Iterable[_Union[ParamDistribution, _Mapping]]] = ..., metrics: _Optional[_Iterable[_Union[Metric, str]]] = ..., bootstrap_resamples: _Optional[int] = ..., confidence_level: _Optional[float] = ...) -> None: ...

class Optimize(_message.Message):
    __slots__ = ("params", "objective", "population", "max_generations", "seed", "x_tolerance", "initial_step", "robust")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    POPULATION_FIELD_NUMBER: _ClassVar[int]
    MAX_GENERATIONS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    X_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_STEP_FIELD_NUMBER: _ClassVar[int]
    ROBUST_FIELD_NUMBER: _ClassVar[int]
    params: _containers.RepeatedCompositeFieldContainer[Bound]
    objective: Objective
    population: int
    max_generations: int
    seed: int
    x_tolerance: float
    initial_step: float
    robust: OptimizeRobust
    def __init__(self, params: _Optional[_Iterable[_Union[Bound, _Mapping]]] = ..., objective: _Optional[_Union[Objective, _Mapping]] = ..., population: _Optional[int] = ..., max_generations: _Optional[int] = ..., seed: _Optional[int] = ..., x_tolerance: _Optional[float] = ..., initial_step: _Optional[float] = ..., robust: _Optional[_Union[OptimizeRobust, _Mapping]] = ...) -> None: ...

class Bound(_message.Message):
    __slots__ = ("param", "lo", "hi", "start")
    PARAM_FIELD_NUMBER: _ClassVar[int]
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    param: str
    lo: float
    hi: float
    start: float
    def __init__(self, param: _Optional[str] = ..., lo: _Optional[float] = ..., hi: _Optional[float] = ..., start: _Optional[float] = ...) -> None: ...

class OptimizeRobust(_message.Message):
    __slots__ = ("params", "runs", "quantile", "sampling")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    params: _containers.RepeatedCompositeFieldContainer[ParamDistribution]
    runs: int
    quantile: float
    sampling: Sampling
    def __init__(self, params: _Optional[_Iterable[_Union[ParamDistribution, _Mapping]]] = ..., runs: _Optional[int] = ..., quantile: _Optional[float] = ..., sampling: _Optional[_Union[Sampling, str]] = ...) -> None: ...

class ParamDistribution(_message.Message):
    __slots__ = ("param", "fixed", "uniform", "normal", "truncated_normal", "log_normal", "triangular", "choice")
    PARAM_FIELD_NUMBER: _ClassVar[int]
    FIXED_FIELD_NUMBER: _ClassVar[int]
    UNIFORM_FIELD_NUMBER: _ClassVar[int]
    NORMAL_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_NORMAL_FIELD_NUMBER: _ClassVar[int]
    LOG_NORMAL_FIELD_NUMBER: _ClassVar[int]
    TRIANGULAR_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    param: str
    fixed: float
    uniform: Uniform
    normal: Normal
    truncated_normal: TruncatedNormal
    log_normal: LogNormal
    triangular: Triangular
    choice: Choice
    def __init__(self, param: _Optional[str] = ..., fixed: _Optional[float] = ..., uniform: _Optional[_Union[Uniform, _Mapping]] = ..., normal: _Optional[_Union[Normal, _Mapping]] = ..., truncated_normal: _Optional[_Union[TruncatedNormal, _Mapping]] = ..., log_normal: _Optional[_Union[LogNormal, _Mapping]] = ..., triangular: _Optional[_Union[Triangular, _Mapping]] = ..., choice: _Optional[_Union[Choice, _Mapping]] = ...) -> None: ...

class Uniform(_message.Message):
    __slots__ = ("lo", "hi")
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    lo: float
    hi: float
    def __init__(self, lo: _Optional[float] = ..., hi: _Optional[float] = ...) -> None: ...

class Normal(_message.Message):
    __slots__ = ("mean", "sd")
    MEAN_FIELD_NUMBER: _ClassVar[int]
    SD_FIELD_NUMBER: _ClassVar[int]
    mean: float
    sd: float
    def __init__(self, mean: _Optional[float] = ..., sd: _Optional[float] = ...) -> None: ...

class TruncatedNormal(_message.Message):
    __slots__ = ("mean", "sd", "lo", "hi")
    MEAN_FIELD_NUMBER: _ClassVar[int]
    SD_FIELD_NUMBER: _ClassVar[int]
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    mean: float
    sd: float
    lo: float
    hi: float
    def __init__(self, mean: _Optional[float] = ..., sd: _Optional[float] = ..., lo: _Optional[float] = ..., hi: _Optional[float] = ...) -> None: ...

class LogNormal(_message.Message):
    __slots__ = ("mu", "sigma")
    MU_FIELD_NUMBER: _ClassVar[int]
    SIGMA_FIELD_NUMBER: _ClassVar[int]
    mu: float
    sigma: float
    def __init__(self, mu: _Optional[float] = ..., sigma: _Optional[float] = ...) -> None: ...

class Triangular(_message.Message):
    __slots__ = ("lo", "mode", "hi")
    LO_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    lo: float
    mode: float
    hi: float
    def __init__(self, lo: _Optional[float] = ..., mode: _Optional[float] = ..., hi: _Optional[float] = ...) -> None: ...

class Choice(_message.Message):
    __slots__ = ("values", "weights")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    weights: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ..., weights: _Optional[_Iterable[float]] = ...) -> None: ...

class Axis(_message.Message):
    __slots__ = ("param", "list", "linspace", "logspace")
    PARAM_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    LINSPACE_FIELD_NUMBER: _ClassVar[int]
    LOGSPACE_FIELD_NUMBER: _ClassVar[int]
    param: str
    list: ValueList
    linspace: Linspace
    logspace: Logspace
    def __init__(self, param: _Optional[str] = ..., list: _Optional[_Union[ValueList, _Mapping]] = ..., linspace: _Optional[_Union[Linspace, _Mapping]] = ..., logspace: _Optional[_Union[Logspace, _Mapping]] = ...) -> None: ...

class ValueList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Linspace(_message.Message):
    __slots__ = ("start", "stop", "num")
    START_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    NUM_FIELD_NUMBER: _ClassVar[int]
    start: float
    stop: float
    num: int
    def __init__(self, start: _Optional[float] = ..., stop: _Optional[float] = ..., num: _Optional[int] = ...) -> None: ...

class Logspace(_message.Message):
    __slots__ = ("start", "stop", "num")
    START_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    NUM_FIELD_NUMBER: _ClassVar[int]
    start: float
    stop: float
    num: int
    def __init__(self, start: _Optional[float] = ..., stop: _Optional[float] = ..., num: _Optional[int] = ...) -> None: ...

class Objective(_message.Message):
    __slots__ = ("metric", "goal")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    goal: Goal
    def __init__(self, metric: _Optional[_Union[Metric, str]] = ..., goal: _Optional[_Union[Goal, str]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "name", "kind", "state", "progress", "submitted_at", "started_at", "finished_at", "error", "tenant")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: JobKind
    state: JobState
    progress: Progress
    submitted_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    error: str
    tenant: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., state: _Optional[_Union[JobState, str]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., tenant: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("runs_total", "runs_done", "chunks_total", "chunks_done", "chunks_failed", "runs_released")
    RUNS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    RUNS_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FAILED_FIELD_NUMBER: _ClassVar[int]
    RUNS_RELEASED_FIELD_NUMBER: _ClassVar[int]
    runs_total: int
    runs_done: int
    chunks_total: int
    chunks_done: int
    chunks_failed: int
    runs_released: int
    def __init__(self, runs_total: _Optional[int] = ..., runs_done: _Optional[int] = ..., chunks_total: _Optional[int] = ..., chunks_done: _Optional[int] = ..., chunks_failed: _Optional[int] = ..., runs_released: _Optional[int] = ...) -> None: ...

class MetricSummary(_message.Message):
    __slots__ = ("metric", "count", "absent", "non_finite", "mean", "std", "min", "max", "p5", "p50", "p95", "histogram", "quantile_rank_error")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ABSENT_FIELD_NUMBER: _ClassVar[int]
    NON_FINITE_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    P5_FIELD_NUMBER: _ClassVar[int]
    P50_FIELD_NUMBER: _ClassVar[int]
    P95_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_RANK_ERROR_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    count: int
    absent: int
    non_finite: int
    mean: float
    std: float
    min: float
    max: float
    p5: float
    p50: float
    p95: float
    histogram: _containers.RepeatedCompositeFieldContainer[HistogramBin]
    quantile_rank_error: float
    def __init__(self, metric: _Optional[_Union[Metric, str]] = ..., count: _Optional[int] = ..., absent: _Optional[int] = ..., non_finite: _Optional[int] = ..., mean: _Optional[float] = ..., std: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., p5: _Optional[float] = ..., p50: _Optional[float] = ..., p95: _Optional[float] = ..., histogram: _Optional[_Iterable[_Union[HistogramBin, _Mapping]]] = ..., quantile_rank_error: _Optional[float] = ...) -> None: ...

class HistogramBin(_message.Message):
    __slots__ = ("lo", "hi", "count")
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    lo: float
    hi: float
    count: int
    def __init__(self, lo: _Optional[float] = ..., hi: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class SweepResult(_message.Message):
    __slots__ = ("params", "objective", "best", "points", "complete")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BEST_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    params: _containers.RepeatedScalarFieldContainer[str]
    objective: Objective
    best: SweepPoint
    points: _containers.RepeatedCompositeFieldContainer[SweepPoint]
    complete: bool
    def __init__(self, params: _Optional[_Iterable[str]] = ..., objective: _Optional[_Union[Objective, _Mapping]] = ..., best: _Optional[_Union[SweepPoint, _Mapping]] = ..., points: _Optional[_Iterable[_Union[SweepPoint, _Mapping]]] = ..., complete: _Optional[bool] = ...) -> None: ...

class SweepPoint(_message.Message):
    __slots__ = ("run", "values", "objective")
    RUN_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    run: int
    values: _containers.RepeatedScalarFieldContainer[float]
    objective: float
    def __init__(self, run: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ..., objective: _Optional[float] = ...) -> None: ...

class SensitivityResult(_message.Message):
    __slots__ = ("params", "samples", "confidence_level", "metrics", "complete")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    params: _containers.RepeatedScalarFieldContainer[str]
    samples: int
    confidence_level: float
    metrics: _containers.RepeatedCompositeFieldContainer[MetricSensitivity]
    complete: bool
    def __init__(self, params: _Optional[_Iterable[str]] = ..., samples: _Optional[int] = ..., confidence_level: _Optional[float] = ..., metrics: _Optional[_Iterable[_Union[MetricSensitivity, _Mapping]]] = ..., complete: _Optional[bool] = ...) -> None: ...

class MetricSensitivity(_message.Message):
    __slots__ = ("metric", "samples_used", "samples_dropped", "variance", "first_order", "total_order")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_USED_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    VARIANCE_FIELD_NUMBER: _ClassVar[int]
    FIRST_ORDER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ORDER_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    samples_used: int
    samples_dropped: int
    variance: float
    first_order: _containers.RepeatedCompositeFieldContainer[SobolIndex]
    total_order: _containers.RepeatedCompositeFieldContainer[SobolIndex]
    def __init__(self, metric: _Optional[_Union[Metric, str]] = ..., samples_used: _Optional[int] = ..., samples_dropped: _Optional[int] = ..., variance: _Optional[float] = ..., first_order: _Optional[_Iterable[_Union[SobolIndex, _Mapping]]] = ..., total_order: _Optional[_Iterable[_Union[SobolIndex, _Mapping]]] = ...) -> None: ...

class SobolIndex(_message.Message):
    __slots__ = ("value", "lo", "hi")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    value: float
    lo: float
    hi: float
    def __init__(self, value: _Optional[float] = ..., lo: _Optional[float] = ..., hi: _Optional[float] = ...) -> None: ...

class OptimizeResult(_message.Message):
    __slots__ = ("params", "objective", "best", "path", "runs", "stopped", "complete")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BEST_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    params: _containers.RepeatedScalarFieldContainer[str]
    objective: Objective
    best: OptimizeCandidate
    path: _containers.RepeatedCompositeFieldContainer[OptimizeStep]
    runs: int
    stopped: OptimizeStopReason
    complete: bool
    def __init__(self, params: _Optional[_Iterable[str]] = ..., objective: _Optional[_Union[Objective, _Mapping]] = ..., best: _Optional[_Union[OptimizeCandidate, _Mapping]] = ..., path: _Optional[_Iterable[_Union[OptimizeStep, _Mapping]]] = ..., runs: _Optional[int] = ..., stopped: _Optional[_Union[OptimizeStopReason, str]] = ..., complete: _Optional[bool] = ...) -> None: ...

class OptimizeCandidate(_message.Message):
    __slots__ = ("generation", "candidate", "values", "objective")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    generation: int
    candidate: int
    values: _containers.RepeatedScalarFieldContainer[float]
    objective: float
    def __init__(self, generation: _Optional[int] = ..., candidate: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ..., objective: _Optional[float] = ...) -> None: ...

class OptimizeStep(_message.Message):
    __slots__ = ("generation", "best", "mean", "width")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    BEST_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    generation: int
    best: OptimizeCandidate
    mean: _containers.RepeatedScalarFieldContainer[float]
    width: float
    def __init__(self, generation: _Optional[int] = ..., best: _Optional[_Union[OptimizeCandidate, _Mapping]] = ..., mean: _Optional[_Iterable[float]] = ..., width: _Optional[float] = ...) -> None: ...

class RunRow(_message.Message):
    __slots__ = ("run", "params", "metrics", "trajectory")
    RUN_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_FIELD_NUMBER: _ClassVar[int]
    run: int
    params: _containers.RepeatedScalarFieldContainer[float]
    metrics: _containers.RepeatedScalarFieldContainer[float]
    trajectory: Trajectory
    def __init__(self, run: _Optional[int] = ..., params: _Optional[_Iterable[float]] = ..., metrics: _Optional[_Iterable[float]] = ..., trajectory: _Optional[_Union[Trajectory, _Mapping]] = ...) -> None: ...

class Trajectory(_message.Message):
    __slots__ = ("t", "h", "u", "r")
    T_FIELD_NUMBER: _ClassVar[int]
    H_FIELD_NUMBER: _ClassVar[int]
    U_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    t: _containers.RepeatedScalarFieldContainer[float]
    h: _containers.RepeatedScalarFieldContainer[float]
    u: _containers.RepeatedScalarFieldContainer[float]
    r: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, t: _Optional[_Iterable[float]] = ..., h: _Optional[_Iterable[float]] = ..., u: _Optional[_Iterable[float]] = ..., r: _Optional[_Iterable[float]] = ...) -> None: ...
