//! KEDA and the Kubernetes HPA deciding a ScaledObject's replicas, as pure functions of time
//! and of what the triggers read: the model the autoscaling test runs against a real stream.
//! Every step follows the upstream code named beside it; nothing is tuned for the test.
//!
//! Two controllers write the scale target's `spec.replicas`:
//! - KEDA's scale loop ([`Keda::poll`], `keda.rs`) every `pollingInterval`: kedacore/keda
//!   `pkg/scaling/scale_handler.go` (`startScaleLoop` → `checkScalers` →
//!   `getScaledObjectState`: the object is active when any trigger's `GetMetricsAndActivity`
//!   says so; a trigger that errors is an error, never "active"), then
//!   `pkg/scaling/executor/scale_scaledobjects.go` `RequestScale`: from 0 to
//!   max(minReplicaCount, 1) as soon as a trigger is active; to minReplicaCount once none has
//!   been active for `cooldownPeriod`; in between it leaves the count to the HPA.
//! - the HPA that KEDA creates for the object (minReplicas max(minReplicaCount, 1),
//!   maxReplicas maxReplicaCount, one External metric per trigger with an `AverageValue`
//!   target, the ScaledObject's `behavior`), reconciled every
//!   `--horizontal-pod-autoscaler-sync-period` ([`Hpa::sync`], `hpa.rs`):
//!   kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go` (`reconcileAutoscaler`,
//!   `computeReplicasForMetrics`, `normalizeDesiredReplicasWithBehaviors`,
//!   `stabilizeRecommendationWithBehaviors`, `convertDesiredReplicasWithBehaviorRate`,
//!   `calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`,
//!   `storeScaleEvent`, `recordInitialRecommendation`) and `replica_calculator.go`
//!   (`GetExternalPerPodMetricReplicas`).
//!
//! This file holds what both read: the ScaledObject as the model needs it. Time is a
//! [`Duration`] since the start of the run, so the unit tests drive it by hand. Go's strict
//! `Before`/`After` comparisons are kept as they are (see [`after`]).

mod hpa;
mod keda;

pub(crate) use hpa::{Hpa, HpaStep};
pub(crate) use keda::{Keda, KedaAction};

use std::time::Duration;

/// The HPA controller's default `--horizontal-pod-autoscaler-tolerance`: a metric within
/// 10 % of its target leaves the replica count alone.
pub(crate) const HPA_TOLERANCE: f64 = 0.1;
/// The HPA controller's default `--horizontal-pod-autoscaler-sync-period`: how often an HPA
/// is reconciled (and so how often it asks KEDA's metrics server for the triggers' values).
pub(crate) const HPA_SYNC_PERIOD: Duration = Duration::from_secs(15);
/// The HPA controller's default `--horizontal-pod-autoscaler-downscale-stabilization`, used
/// for a scaleDown rule without `stabilizationWindowSeconds`.
pub(crate) const HPA_DOWNSCALE_STABILIZATION: Duration = Duration::from_secs(300);

/// What a `redis-streams` trigger measures (KEDA's `scaleFactor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// `lagCount` with a `consumerGroup`: the group's `lag` from `XINFO GROUPS`.
    Lag,
    /// `consumerGroup` without `lagCount`: the count of `XPENDING` (summary form).
    Pending,
    /// No `consumerGroup`: `XLEN`.
    Length,
}

/// One trigger as KEDA resolves its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trigger {
    pub(crate) name: String,
    pub(crate) measure: Measure,
    /// The External metric's `AverageValue` target: `lagCount`, `pendingEntriesCount` or
    /// `streamLength`.
    pub(crate) target: i64,
    /// `activationLagCount`: the trigger is active while its value is above this (KEDA
    /// applies it to whatever the trigger measures).
    pub(crate) activation: i64,
    pub(crate) stream: String,
    pub(crate) group: String,
}

/// What one trigger read: its value, or the scaler's error.
pub(crate) type Reading = Result<i64, String>;

/// `HPAScalingPolicy.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyType {
    Pods,
    Percent,
}

/// `HPAScalingPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) kind: PolicyType,
    pub(crate) value: i32,
    pub(crate) period: Duration,
}

/// `HPAScalingRules.selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Select {
    Max,
    Min,
    Disabled,
}

/// `HPAScalingRules`, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rules {
    pub(crate) stabilization: Duration,
    pub(crate) select: Select,
    pub(crate) policies: Vec<Policy>,
}

impl Rules {
    /// kubernetes `pkg/apis/autoscaling/v2/defaults.go` `defaultHPAScaleUpRules`.
    pub(crate) fn default_up() -> Rules {
        let period = Duration::from_secs(15);
        Rules {
            stabilization: Duration::ZERO,
            select: Select::Max,
            policies: vec![
                Policy { kind: PolicyType::Pods, value: 4, period },
                Policy { kind: PolicyType::Percent, value: 100, period },
            ],
        }
    }

    /// kubernetes `defaultHPAScaleDownRules` (the window comes from the controller's flag).
    pub(crate) fn default_down() -> Rules {
        Rules {
            stabilization: HPA_DOWNSCALE_STABILIZATION,
            select: Select::Max,
            policies: vec![Policy { kind: PolicyType::Percent, value: 100, period: Duration::from_secs(15) }],
        }
    }

    fn longest_period(&self) -> Duration {
        self.policies.iter().map(|p| p.period).max().unwrap_or_default()
    }
}

/// A ScaledObject as the model needs it, plus the HPA controller's sync period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) min: i32,
    pub(crate) max: i32,
    pub(crate) polling: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) initial_cooldown: Duration,
    pub(crate) scale_up: Rules,
    pub(crate) scale_down: Rules,
    pub(crate) hpa_sync: Duration,
    pub(crate) triggers: Vec<Trigger>,
}

impl Spec {
    /// The HPA's minReplicas: KEDA's `GetHPAMinReplicas` (minReplicaCount if above 0, else 1).
    pub(crate) fn hpa_min(&self) -> i32 {
        if self.min > 0 { self.min } else { 1 }
    }

    /// The same object with every duration divided by `factor` (counts and targets kept):
    /// the test runs the controllers `factor` times faster than a cluster would.
    pub(crate) fn faster(&self, factor: u32) -> Spec {
        let rules = |r: &Rules| Rules {
            stabilization: r.stabilization / factor,
            select: r.select,
            policies: r.policies.iter().map(|p| Policy { period: p.period / factor, ..*p }).collect(),
        };
        Spec {
            polling: self.polling / factor,
            cooldown: self.cooldown / factor,
            initial_cooldown: self.initial_cooldown / factor,
            scale_up: rules(&self.scale_up),
            scale_down: rules(&self.scale_down),
            hpa_sync: self.hpa_sync / factor,
            ..self.clone()
        }
    }
}

/// Go's `t.After(now.Add(-window))`: `t` lies strictly inside the window ending now.
pub(crate) fn after(t: Duration, now: Duration, window: Duration) -> bool {
    t + window > now
}

/// Go's `t.Before(now.Add(-window))`: `t` lies strictly before the window ending now.
pub(crate) fn before(t: Duration, now: Duration, window: Duration) -> bool {
    t + window < now
}

/// Whether a reading makes its trigger active: `GetMetricsAndActivity` returns
/// `metricCount > ActivationLagCount` (an error is never active).
pub(crate) fn is_active(trigger: &Trigger, reading: &Reading) -> bool {
    matches!(reading, Ok(v) if *v > trigger.activation)
}

/// What the unit tests of the model share.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    pub(crate) fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn trigger(name: &str, measure: Measure, target: i64) -> Trigger {
        Trigger { name: name.into(), measure, target, activation: 0, stream: "s".into(), group: "g".into() }
    }

    /// The shape of deploy/base/worker-scaling.yaml with max 4, written out by hand so the
    /// expected numbers below can be worked on paper.
    pub(crate) fn spec() -> Spec {
        Spec {
            min: 0,
            max: 4,
            polling: secs(5),
            cooldown: secs(60),
            initial_cooldown: Duration::ZERO,
            scale_up: Rules {
                stabilization: Duration::ZERO,
                select: Select::Max,
                policies: vec![
                    Policy { kind: PolicyType::Percent, value: 100, period: secs(15) },
                    Policy { kind: PolicyType::Pods, value: 4, period: secs(15) },
                ],
            },
            scale_down: Rules {
                stabilization: secs(120),
                select: Select::Max,
                policies: vec![Policy { kind: PolicyType::Pods, value: 1, period: secs(60) }],
            },
            hpa_sync: HPA_SYNC_PERIOD,
            triggers: vec![trigger("lag", Measure::Lag, 10), trigger("pending", Measure::Pending, 2)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{secs, spec};
    use super::*;

    #[test]
    fn a_null_lag_read_as_minus_one_decides_like_a_zero_lag() {
        let spec = spec();
        for lag in [0, -1] {
            let (mut keda, mut hpa, mut replicas) = (Keda::default(), Hpa::default(), 3);
            // Only the pending entry keeps it active; the lag asks for nothing.
            let action = keda.poll(&spec, secs(1), &[Ok(lag), Ok(1)], &mut replicas);
            // 4 pending on 3 pods: ratio 0.67 → ceil(2); the initial recommendation (3) holds.
            let step = hpa.sync(&spec, secs(2), &[Ok(lag), Ok(4)], &mut replicas, 3);
            assert_eq!(
                (action, step.proposals, replicas),
                (KedaAction::KeptActive, vec![Some(0), Some(2)], 3)
            );
        }
    }

    #[test]
    fn faster_divides_every_duration_and_nothing_else() {
        let fast = spec().faster(10);
        assert_eq!(
            (fast.polling, fast.cooldown, fast.hpa_sync),
            (secs(5) / 10, secs(6), Duration::from_millis(1500))
        );
        assert_eq!(fast.scale_down.stabilization, secs(12));
        assert_eq!(
            fast.scale_up.policies[1],
            Policy { kind: PolicyType::Pods, value: 4, period: secs(15) / 10 }
        );
        assert_eq!((fast.min, fast.max, fast.triggers), (0, 4, spec().triggers));
    }
}
