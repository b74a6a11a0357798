//! The Kubernetes HPA that KEDA creates for a ScaledObject, reconciled once per sync period:
//! kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go` (`reconcileAutoscaler`,
//! `computeReplicasForMetrics`, `normalizeDesiredReplicasWithBehaviors`,
//! `stabilizeRecommendationWithBehaviors`, `convertDesiredReplicasWithBehaviorRate`,
//! `calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`,
//! `storeScaleEvent`, `recordInitialRecommendation`) and `replica_calculator.go`
//! (`GetExternalPerPodMetricReplicas`). Each trigger is one External metric with an
//! `AverageValue` target: desired = ceil(value / target) per metric unless within the
//! tolerance, the largest wins, then the behavior's stabilization windows and rate policies,
//! clamped to [max(minReplicaCount, 1), maxReplicaCount].

use std::time::Duration;

use super::{HPA_TOLERANCE, PolicyType, Reading, Rules, Select, Spec, after, before};

/// `GetExternalPerPodMetricReplicas`: the replicas one External metric with an
/// `AverageValue` target asks for. Values in milli-units as the HPA reads them (KEDA reports
/// `GenerateMetricInMili`); `status_replicas` is the target's `status.replicas` (pods that
/// exist). Go's float arithmetic is kept: with 0 pods the ratio is infinite (or NaN for a 0
/// metric, which compares false and keeps 0).
pub(crate) fn external_per_pod_replicas(
    status_replicas: i32,
    usage_milli: i64,
    target_milli: i64,
    tolerance: f64,
) -> i32 {
    let ratio = usage_milli as f64 / (target_milli as f64 * f64::from(status_replicas));
    if (1.0 - ratio).abs() > tolerance {
        (usage_milli as f64 / target_milli as f64).ceil() as i32
    } else {
        status_replicas
    }
}

/// `computeReplicasForMetrics`: the largest proposal; `None` (no scaling this sync) when every
/// metric failed, or some failed and the others would scale down.
pub(crate) fn replicas_for_metrics(proposals: &[Option<i32>], spec_replicas: i32) -> Option<i32> {
    let mut replicas = 0;
    let mut invalid = 0;
    for proposal in proposals {
        match proposal {
            None => invalid += 1,
            Some(p) if replicas == 0 || *p > replicas => replicas = *p,
            Some(_) => {}
        }
    }
    let failed = invalid >= proposals.len() || (invalid > 0 && replicas < spec_replicas);
    (!failed).then_some(replicas)
}

/// `getReplicasChangePerPeriod`: replicas added (or removed) by events within `period`.
fn change_in_period(period: Duration, events: &[(i32, Duration)], now: Duration) -> i32 {
    events.iter().filter(|(_, t)| after(*t, now, period)).map(|(change, _)| change).sum()
}

/// `calculateScaleUpLimitWithScalingRules`.
pub(crate) fn scale_up_limit(
    current: i32,
    up: &[(i32, Duration)],
    down: &[(i32, Duration)],
    rules: &Rules,
    now: Duration,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select {
        Select::Disabled => return current,
        Select::Min => (i32::MAX, std::cmp::min),
        Select::Max => (i32::MIN, std::cmp::max),
    };
    for p in &rules.policies {
        let start = current - change_in_period(p.period, up, now) + change_in_period(p.period, down, now);
        let proposed = match p.kind {
            PolicyType::Pods => start + p.value,
            // Rounded up, "because the proposed change might not increase the replica count".
            PolicyType::Percent => (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub(crate) fn scale_down_limit(
    current: i32,
    up: &[(i32, Duration)],
    down: &[(i32, Duration)],
    rules: &Rules,
    now: Duration,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select {
        Select::Disabled => return current,
        Select::Min => (i32::MIN, std::cmp::max),
        Select::Max => (i32::MAX, std::cmp::min),
    };
    for p in &rules.policies {
        let start = current - change_in_period(p.period, up, now) + change_in_period(p.period, down, now);
        let proposed = match p.kind {
            PolicyType::Pods => start - p.value,
            // Go's int32(float64) truncates, as `as` does.
            PolicyType::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// What one HPA reconciliation saw and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HpaStep {
    /// Per trigger, the replicas its metric asks for (`None`: the metric could not be read).
    pub(crate) proposals: Vec<Option<i32>>,
    /// The largest proposal, before stabilization and rate limits (`None`: not computed).
    pub(crate) desired: Option<i32>,
    /// `spec.replicas` after the reconciliation.
    pub(crate) after: i32,
    pub(crate) reason: &'static str,
}

/// The HPA controller's memory of one HPA: unstabilized recommendations and its own scale
/// events (KEDA's writes to the replica count are not among them).
#[derive(Debug, Clone, Default)]
pub(crate) struct Hpa {
    /// `None` until the first reconciliation records the initial recommendation.
    recommendations: Option<Vec<(i32, Duration)>>,
    up_events: Vec<(i32, Duration)>,
    down_events: Vec<(i32, Duration)>,
}

impl Hpa {
    /// One `reconcileAutoscaler` at `now`: `replicas` is the target's `spec.replicas` (read
    /// and written), `status_replicas` its pods, `readings` what KEDA's metrics server
    /// answers for each trigger's metric.
    pub(crate) fn sync(
        &mut self,
        spec: &Spec,
        now: Duration,
        readings: &[Reading],
        replicas: &mut i32,
        status_replicas: i32,
    ) -> HpaStep {
        let current = *replicas;
        let min = spec.hpa_min();
        // `recordInitialRecommendation`, before anything else.
        self.recommendations.get_or_insert_with(|| vec![(current, now)]);
        let proposals = spec
            .triggers
            .iter()
            .zip(readings)
            .map(|(t, r)| {
                r.as_ref().ok().map(|&v| {
                    external_per_pod_replicas(status_replicas, v * 1000, t.target * 1000, HPA_TOLERANCE)
                })
            })
            .collect::<Vec<_>>();
        let mut step = HpaStep { proposals, desired: None, after: current, reason: "" };
        let desired = if current == 0 && min != 0 {
            step.reason = "ScalingDisabled";
            return step;
        } else if current > spec.max {
            step.reason = "above maxReplicas";
            spec.max
        } else if current < min {
            step.reason = "below minReplicas";
            min
        } else {
            let Some(metric) = replicas_for_metrics(&step.proposals, current) else {
                step.reason = "FailedComputeMetricsReplicas";
                return step;
            };
            step.desired = Some(metric);
            let stabilized = self.stabilize(spec, now, current, metric.max(0));
            let limited = self.limit_rate(spec, now, current, stabilized, min);
            step.reason = if limited != stabilized {
                "rate or bounds limited"
            } else if stabilized != metric.max(0) {
                "stabilized"
            } else {
                "desired within range"
            };
            limited
        };
        if desired != current {
            self.store_scale_event(spec, now, current, desired);
            *replicas = desired;
        }
        step.after = desired;
        step
    }

    /// `stabilizeRecommendationWithBehaviors`: bring the current count within the lowest
    /// recommendation of the scale-up window and the highest of the scale-down window, then
    /// record this one (old samples outside both windows can never count again: dropped).
    fn stabilize(&mut self, spec: &Spec, now: Duration, current: i32, desired: i32) -> i32 {
        let recommendations = self.recommendations.get_or_insert_with(Vec::new);
        let (up_window, down_window) = (spec.scale_up.stabilization, spec.scale_down.stabilization);
        let (mut up, mut down) = (desired, desired);
        for &(recommendation, t) in recommendations.iter() {
            if after(t, now, up_window) {
                up = up.min(recommendation);
            }
            if after(t, now, down_window) {
                down = down.max(recommendation);
            }
        }
        let mut recommendation = current;
        if recommendation < up {
            recommendation = up;
        }
        if recommendation > down {
            recommendation = down;
        }
        recommendations.retain(|&(_, t)| !(before(t, now, up_window) && before(t, now, down_window)));
        recommendations.push((desired, now));
        recommendation
    }

    /// `convertDesiredReplicasWithBehaviorRate`: the policies' rate limits and the HPA bounds.
    fn limit_rate(&self, spec: &Spec, now: Duration, current: i32, desired: i32, min: i32) -> i32 {
        if desired > current {
            let limit =
                scale_up_limit(current, &self.up_events, &self.down_events, &spec.scale_up, now).max(current);
            let allowed = spec.max.min(limit);
            if desired > allowed {
                return allowed;
            }
        } else if desired < current {
            let limit = scale_down_limit(current, &self.up_events, &self.down_events, &spec.scale_down, now)
                .min(current);
            let allowed = min.max(limit);
            if desired < allowed {
                return allowed;
            }
        }
        desired
    }

    /// `storeScaleEvent` (events older than the longest policy period never count again:
    /// dropped, where Go marks them outdated and reuses their slot).
    fn store_scale_event(&mut self, spec: &Spec, now: Duration, previous: i32, new: i32) {
        let (events, rules, change) = if new > previous {
            (&mut self.up_events, &spec.scale_up, new - previous)
        } else {
            (&mut self.down_events, &spec.scale_down, previous - new)
        };
        let longest = rules.longest_period();
        events.retain(|(_, t)| !before(*t, now, longest));
        events.push((change, now));
    }
}

#[cfg(test)]
mod tests {
    use super::super::Policy;
    use super::super::fixture::{secs, spec};
    use super::*;

    #[test]
    fn one_external_metric_asks_for_ceil_of_value_over_target_outside_the_tolerance() {
        // 120 queued, 10 per pod, 1 pod: ratio 12 → ceil(120 / 10).
        assert_eq!(external_per_pod_replicas(1, 120_000, 10_000, HPA_TOLERANCE), 12);
        // 9 queued on 1 pod: ratio 0.9, |1 - 0.9| is not above 0.1 → stays at 1.
        assert_eq!(external_per_pod_replicas(1, 9_000, 10_000, HPA_TOLERANCE), 1);
        // 21 on 2 pods: ratio 1.05 → stays at 2; 23 on 2 pods: ratio 1.15 → ceil(2.3) = 3.
        assert_eq!(external_per_pod_replicas(2, 21_000, 10_000, HPA_TOLERANCE), 2);
        assert_eq!(external_per_pod_replicas(2, 23_000, 10_000, HPA_TOLERANCE), 3);
        // 2 pending on 4 pods, 2 per pod: ratio 0.25 → ceil(1) = 1.
        assert_eq!(external_per_pod_replicas(4, 2_000, 2_000, HPA_TOLERANCE), 1);
        // Nothing on 4 pods → 0 (the HPA's minReplicas lifts it later).
        assert_eq!(external_per_pod_replicas(4, 0, 2_000, HPA_TOLERANCE), 0);
        // No pods: 3 pending → ratio +inf → ceil(1.5) = 2; 0 pending → NaN → keeps 0.
        assert_eq!(external_per_pod_replicas(0, 3_000, 2_000, HPA_TOLERANCE), 2);
        assert_eq!(external_per_pod_replicas(0, 0, 2_000, HPA_TOLERANCE), 0);
        // A NULL lag read as -1 (go-redis since #3369) asks for ceil(-0.1) = 0, like a lag of 0.
        assert_eq!(external_per_pod_replicas(3, -1_000, 10_000, HPA_TOLERANCE), 0);
    }

    #[test]
    fn the_largest_proposal_wins_and_failed_metrics_block_scaling_down() {
        assert_eq!(replicas_for_metrics(&[Some(12), Some(1)], 1), Some(12));
        assert_eq!(replicas_for_metrics(&[Some(0), Some(0)], 3), Some(0));
        // One metric failed: scaling up on the other is allowed, scaling down is not.
        assert_eq!(replicas_for_metrics(&[None, Some(4)], 2), Some(4));
        assert_eq!(replicas_for_metrics(&[None, Some(1)], 2), None);
        assert_eq!(replicas_for_metrics(&[None, None], 2), None);
    }

    #[test]
    fn scale_up_limits_follow_the_policies_and_their_periods() {
        let rules = spec().scale_up;
        // From 1 pod, no recent event: max(ceil(1 x 2), 1 + 4) = 5.
        assert_eq!(scale_up_limit(1, &[], &[], &rules, secs(100)), 5);
        // 4 pods after +3 at t = 90 s: the period (75, 100] started at 1 → 5 again.
        assert_eq!(scale_up_limit(4, &[(3, secs(90))], &[], &rules, secs(100)), 5);
        // Once the event is 15 s old (not strictly inside the period): from 4 → max(8, 8).
        assert_eq!(scale_up_limit(4, &[(3, secs(85))], &[], &rules, secs(100)), 8);
        // Select Min picks the smaller change: min(2, 5) = 2.
        let min = Rules { select: Select::Min, ..rules.clone() };
        assert_eq!(scale_up_limit(1, &[], &[], &min, secs(100)), 2);
        let disabled = Rules { select: Select::Disabled, ..rules };
        assert_eq!(scale_up_limit(3, &[], &[], &disabled, secs(100)), 3);
    }

    #[test]
    fn scale_down_limits_follow_the_policies_and_their_periods() {
        let rules = spec().scale_down;
        // One pod a minute: from 4 → 3; right after removing one (t = 50 s) → 3 + 1 - 1 = 3.
        assert_eq!(scale_down_limit(4, &[], &[], &rules, secs(100)), 3);
        assert_eq!(scale_down_limit(3, &[], &[(1, secs(50))], &rules, secs(100)), 3);
        // 50 % of 5 truncates to 2.
        let percent = Rules {
            policies: vec![Policy { kind: PolicyType::Percent, value: 50, period: secs(15) }],
            ..rules
        };
        assert_eq!(scale_down_limit(5, &[], &[], &percent, secs(100)), 2);
    }

    #[test]
    fn the_hpa_scales_up_at_the_policy_rate_to_the_max_and_down_after_the_window() {
        let spec = spec();
        let mut hpa = Hpa::default();
        let mut replicas = 1;
        // t = 0: 120 queued, 2 pending on 1 pod → [12, 1] → 12 → limit 5 → max 4.
        let step = hpa.sync(&spec, secs(0), &[Ok(120), Ok(2)], &mut replicas, 1);
        assert_eq!(
            (step.proposals.clone(), step.desired, step.after),
            (vec![Some(12), Some(1)], Some(12), 4)
        );
        // t = 15: queue drained, 8 pending on 4 pods → [0, 4] → 4.
        let step = hpa.sync(&spec, secs(15), &[Ok(0), Ok(8)], &mut replicas, 4);
        assert_eq!((step.desired, step.after), (Some(4), 4));
        // t = 30: 2 pending → [0, 1] → 1, but 12 and 4 are in the 120 s window → stays 4.
        let step = hpa.sync(&spec, secs(30), &[Ok(0), Ok(2)], &mut replicas, 4);
        assert_eq!((step.desired, step.after), (Some(1), 4));
        // t = 135: the 4 of t = 15 left the window (15 + 120 is not after 135): down to 1,
        // but one pod a minute → 3.
        let step = hpa.sync(&spec, secs(135), &[Ok(0), Ok(2)], &mut replicas, 4);
        assert_eq!((step.desired, step.after), (Some(1), 3));
        // t = 150: the minute since the last removal has not passed → still 3.
        let step = hpa.sync(&spec, secs(150), &[Ok(0), Ok(2)], &mut replicas, 3);
        assert_eq!(step.after, 3);
        // t = 196: → 2.
        let step = hpa.sync(&spec, secs(196), &[Ok(0), Ok(2)], &mut replicas, 3);
        assert_eq!(step.after, 2);
    }

    #[test]
    fn the_hpa_leaves_a_target_at_zero_alone() {
        let spec = spec();
        let mut hpa = Hpa::default();
        let mut replicas = 0;
        let step = hpa.sync(&spec, secs(0), &[Ok(500), Ok(0)], &mut replicas, 0);
        assert_eq!((step.reason, replicas), ("ScalingDisabled", 0));
    }
}
