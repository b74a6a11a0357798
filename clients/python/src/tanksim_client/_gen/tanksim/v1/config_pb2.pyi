from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlantKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLANT_KIND_UNSPECIFIED: _ClassVar[PlantKind]
    PLANT_KIND_FIRST_ORDER: _ClassVar[PlantKind]
    PLANT_KIND_TORRICELLI: _ClassVar[PlantKind]

class ControllerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROLLER_KIND_UNSPECIFIED: _ClassVar[ControllerKind]
    CONTROLLER_KIND_OPEN_LOOP: _ClassVar[ControllerKind]
    CONTROLLER_KIND_PID: _ClassVar[ControllerKind]

class DerivativeOn(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DERIVATIVE_ON_UNSPECIFIED: _ClassVar[DerivativeOn]
    DERIVATIVE_ON_MEASUREMENT: _ClassVar[DerivativeOn]
    DERIVATIVE_ON_ERROR: _ClassVar[DerivativeOn]

class AntiWindup(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANTI_WINDUP_UNSPECIFIED: _ClassVar[AntiWindup]
    ANTI_WINDUP_NONE: _ClassVar[AntiWindup]
    ANTI_WINDUP_CONDITIONAL: _ClassVar[AntiWindup]
    ANTI_WINDUP_BACK_CALCULATION: _ClassVar[AntiWindup]

class ProfileKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROFILE_KIND_UNSPECIFIED: _ClassVar[ProfileKind]
    PROFILE_KIND_STEP: _ClassVar[ProfileKind]
    PROFILE_KIND_RAMP: _ClassVar[ProfileKind]
    PROFILE_KIND_SINE: _ClassVar[ProfileKind]
    PROFILE_KIND_SCHEDULE: _ClassVar[ProfileKind]
PLANT_KIND_UNSPECIFIED: PlantKind
PLANT_KIND_FIRST_ORDER: PlantKind
PLANT_KIND_TORRICELLI: PlantKind
CONTROLLER_KIND_UNSPECIFIED: ControllerKind
CONTROLLER_KIND_OPEN_LOOP: ControllerKind
CONTROLLER_KIND_PID: ControllerKind
DERIVATIVE_ON_UNSPECIFIED: DerivativeOn
DERIVATIVE_ON_MEASUREMENT: DerivativeOn
DERIVATIVE_ON_ERROR: DerivativeOn
ANTI_WINDUP_UNSPECIFIED: AntiWindup
ANTI_WINDUP_NONE: AntiWindup
ANTI_WINDUP_CONDITIONAL: AntiWindup
ANTI_WINDUP_BACK_CALCULATION: AntiWindup
PROFILE_KIND_UNSPECIFIED: ProfileKind
PROFILE_KIND_STEP: ProfileKind
PROFILE_KIND_RAMP: ProfileKind
PROFILE_KIND_SINE: ProfileKind
PROFILE_KIND_SCHEDULE: ProfileKind

class SimConfig(_message.Message):
    __slots__ = ("plant", "controller", "input", "disturbance", "noise", "dt", "horizon", "record", "settling_band")
    PLANT_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    DISTURBANCE_FIELD_NUMBER: _ClassVar[int]
    NOISE_FIELD_NUMBER: _ClassVar[int]
    DT_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    SETTLING_BAND_FIELD_NUMBER: _ClassVar[int]
    plant: Plant
    controller: Controller
    input: Profile
    disturbance: Disturbance
    noise: MeasurementNoise
    dt: float
    horizon: float
    record: Recording
    settling_band: float
    def __init__(self, plant: _Optional[_Union[Plant, _Mapping]] = ..., controller: _Optional[_Union[Controller, _Mapping]] = ..., input: _Optional[_Union[Profile, _Mapping]] = ..., disturbance: _Optional[_Union[Disturbance, _Mapping]] = ..., noise: _Optional[_Union[MeasurementNoise, _Mapping]] = ..., dt: _Optional[float] = ..., horizon: _Optional[float] = ..., record: _Optional[_Union[Recording, _Mapping]] = ..., settling_band: _Optional[float] = ...) -> None: ...

class Plant(_message.Message):
    __slots__ = ("kind", "gain", "tau", "h0", "area", "outlet", "max_inflow", "h_max", "substeps")
    KIND_FIELD_NUMBER: _ClassVar[int]
    GAIN_FIELD_NUMBER: _ClassVar[int]
    TAU_FIELD_NUMBER: _ClassVar[int]
    H0_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    OUTLET_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLOW_FIELD_NUMBER: _ClassVar[int]
    H_MAX_FIELD_NUMBER: _ClassVar[int]
    SUBSTEPS_FIELD_NUMBER: _ClassVar[int]
    kind: PlantKind
    gain: float
    tau: float
    h0: float
    area: float
    outlet: float
    max_inflow: float
    h_max: float
    substeps: int
    def __init__(self, kind: _Optional[_Union[PlantKind, str]] = ..., gain: _Optional[float] = ..., tau: _Optional[float] = ..., h0: _Optional[float] = ..., area: _Optional[float] = ..., outlet: _Optional[float] = ..., max_inflow: _Optional[float] = ..., h_max: _Optional[float] = ..., substeps: _Optional[int] = ...) -> None: ...

class Controller(_message.Message):
    __slots__ = ("kind", "kp", "ki", "kd", "u_min", "u_max", "derivative_filter", "derivative_on", "anti_windup", "back_calculation_gain")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KP_FIELD_NUMBER: _ClassVar[int]
    KI_FIELD_NUMBER: _ClassVar[int]
    KD_FIELD_NUMBER: _ClassVar[int]
    U_MIN_FIELD_NUMBER: _ClassVar[int]
    U_MAX_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVE_FILTER_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVE_ON_FIELD_NUMBER: _ClassVar[int]
    ANTI_WINDUP_FIELD_NUMBER: _ClassVar[int]
    BACK_CALCULATION_GAIN_FIELD_NUMBER: _ClassVar[int]
    kind: ControllerKind
    kp: float
    ki: float
    kd: float
    u_min: float
    u_max: float
    derivative_filter: float
    derivative_on: DerivativeOn
    anti_windup: AntiWindup
    back_calculation_gain: float
    def __init__(self, kind: _Optional[_Union[ControllerKind, str]] = ..., kp: _Optional[float] = ..., ki: _Optional[float] = ..., kd: _Optional[float] = ..., u_min: _Optional[float] = ..., u_max: _Optional[float] = ..., derivative_filter: _Optional[float] = ..., derivative_on: _Optional[_Union[DerivativeOn, str]] = ..., anti_windup: _Optional[_Union[AntiWindup, str]] = ..., back_calculation_gain: _Optional[float] = ...) -> None: ...

class Profile(_message.Message):
    __slots__ = ("kind", "value", "initial", "at", "end", "amplitude", "period", "phase", "points")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    AMPLITUDE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    kind: ProfileKind
    value: float
    initial: float
    at: float
    end: float
    amplitude: float
    period: float
    phase: float
    points: _containers.RepeatedCompositeFieldContainer[SchedulePoint]
    def __init__(self, kind: _Optional[_Union[ProfileKind, str]] = ..., value: _Optional[float] = ..., initial: _Optional[float] = ..., at: _Optional[float] = ..., end: _Optional[float] = ..., amplitude: _Optional[float] = ..., period: _Optional[float] = ..., phase: _Optional[float] = ..., points: _Optional[_Iterable[_Union[SchedulePoint, _Mapping]]] = ...) -> None: ...

class SchedulePoint(_message.Message):
    __slots__ = ("at", "value")
    AT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    at: float
    value: float
    def __init__(self, at: _Optional[float] = ..., value: _Optional[float] = ...) -> None: ...

class Disturbance(_message.Message):
    __slots__ = ("magnitude", "start", "end")
    MAGNITUDE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    magnitude: float
    start: float
    end: float
    def __init__(self, magnitude: _Optional[float] = ..., start: _Optional[float] = ..., end: _Optional[float] = ...) -> None: ...

class MeasurementNoise(_message.Message):
    __slots__ = ("sd", "seed")
    SD_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    sd: float
    seed: int
    def __init__(self, sd: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class Recording(_message.Message):
    __slots__ = ("every",)
    EVERY_FIELD_NUMBER: _ClassVar[int]
    every: int
    def __init__(self, every: _Optional[int] = ...) -> None: ...
