//! KEDA's scale loop for one ScaledObject: kedacore/keda `pkg/scaling/scale_handler.go`
//! (`checkScalers` → `getScaledObjectState`: active when any trigger's `GetMetricsAndActivity`
//! says so, an erroring trigger marks an error) and
//! `pkg/scaling/executor/scale_scaledobjects.go` (`RequestScale`, `scaleFromZeroOrIdle`,
//! `scaleToZeroOrIdle`): it only ever moves the replica count between 0 and the HPA's range.

use std::time::Duration;

use super::{Reading, Spec, before, is_active};

/// What KEDA's scale loop did at one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KedaAction {
    /// `scaleFromZeroOrIdle`: 0 → max(minReplicaCount, 1).
    Activated,
    /// Active with replicas: `LastActiveTime` = now, the HPA does the rest.
    KeptActive,
    /// Active, but another trigger errored: `PartialTriggerError`, `LastActiveTime` untouched.
    PartialError,
    /// Inactive and a trigger errored, no fallback: `TriggerError`, nothing changes.
    TriggerError,
    /// `scaleToZeroOrIdle` after the cooldown: → minReplicaCount.
    ScaledToZero,
    /// `scaleToZeroOrIdle` within the cooldown: `ScalerCooldown`.
    CoolingDown,
    /// Inactive below minReplicaCount: raised to it.
    RaisedToMin,
    /// Inactive at 0: nothing to do.
    Idle,
}

/// KEDA's per-ScaledObject state: `status.lastActiveTime`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keda {
    last_active: Option<Duration>,
}

impl Keda {
    pub(crate) fn last_active(&self) -> Option<Duration> {
        self.last_active
    }

    /// One pass of the scale loop at `now` with the triggers' `readings` (in trigger order),
    /// updating the target's `replicas`. The ScaledObject was created at time 0 (what
    /// `initialCooldownPeriod` counts from).
    pub(crate) fn poll(
        &mut self,
        spec: &Spec,
        now: Duration,
        readings: &[Reading],
        replicas: &mut i32,
    ) -> KedaAction {
        let error = readings.iter().any(Result::is_err);
        let active = spec.triggers.iter().zip(readings).any(|(t, r)| is_active(t, r));
        let current = *replicas;
        if active {
            if current == 0 {
                *replicas = spec.min.max(1);
                self.last_active = Some(now);
                KedaAction::Activated
            } else if error {
                KedaAction::PartialError
            } else {
                self.last_active = Some(now);
                KedaAction::KeptActive
            }
        } else if error {
            KedaAction::TriggerError
        } else if current > 0 && spec.min == 0 {
            let cooled = match self.last_active {
                None => before(Duration::ZERO, now, spec.initial_cooldown),
                Some(t) => t + spec.cooldown < now,
            };
            if cooled {
                *replicas = spec.min;
                KedaAction::ScaledToZero
            } else {
                KedaAction::CoolingDown
            }
        } else if current < spec.min {
            *replicas = spec.min;
            KedaAction::RaisedToMin
        } else {
            KedaAction::Idle
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{secs, spec};
    use super::*;

    #[test]
    fn keda_activates_from_zero_and_scales_to_zero_only_after_the_cooldown() {
        let spec = spec();
        let mut keda = Keda::default();
        let mut replicas = 0;
        let idle = [Ok(0), Ok(0)];
        assert_eq!(keda.poll(&spec, secs(0), &idle, &mut replicas), KedaAction::Idle);
        // One queued entry is above activationLagCount 0: 0 → max(min, 1) = 1.
        assert_eq!(keda.poll(&spec, secs(5), &[Ok(1), Ok(0)], &mut replicas), KedaAction::Activated);
        assert_eq!((replicas, keda.last_active()), (1, Some(secs(5))));
        // Pending entries alone keep it active (and refresh lastActiveTime).
        assert_eq!(keda.poll(&spec, secs(10), &[Ok(0), Ok(1)], &mut replicas), KedaAction::KeptActive);
        assert_eq!(keda.last_active(), Some(secs(10)));
        // 60 s after the last activity is not yet strictly after the cooldown.
        assert_eq!(keda.poll(&spec, secs(70), &idle, &mut replicas), KedaAction::CoolingDown);
        assert_eq!(replicas, 1);
        assert_eq!(keda.poll(&spec, secs(75), &idle, &mut replicas), KedaAction::ScaledToZero);
        assert_eq!(replicas, 0);
    }

    #[test]
    fn keda_errors_keep_the_count_and_do_not_refresh_the_last_activity() {
        let spec = spec();
        let mut keda = Keda::default();
        let mut replicas = 0;
        // XPENDING fails before any worker created the group; the lag trigger reads 0.
        let no_group = [Ok(0), Err("NOGROUP".to_owned())];
        assert_eq!(keda.poll(&spec, secs(0), &no_group, &mut replicas), KedaAction::TriggerError);
        assert_eq!(
            keda.poll(&spec, secs(5), &[Ok(3), Err("x".into())], &mut replicas),
            KedaAction::Activated
        );
        assert_eq!(
            keda.poll(&spec, secs(10), &[Ok(3), Err("x".into())], &mut replicas),
            KedaAction::PartialError
        );
        assert_eq!(keda.last_active(), Some(secs(5)));
        // Inactive with an error and no fallback: never scaled to zero, however long.
        assert_eq!(keda.poll(&spec, secs(500), &no_group, &mut replicas), KedaAction::TriggerError);
        assert_eq!(replicas, 1);
    }
}
