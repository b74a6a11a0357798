//! The worker's ScaledObject and the services' settings, read from an overlay as
//! `kubectl kustomize` renders it: every number the simulation uses comes from here.
//!
//! The ScaledObject is read strictly: a field KEDA does not have (a typo KEDA itself would
//! silently ignore in trigger metadata) fails the test, and so does a KEDA feature the model
//! does not implement (fallback, idle replicas, scaling modifiers, cached metrics, other
//! metric types or trigger types), rather than being simulated wrongly. Defaults are KEDA's
//! (`pollingInterval` 30, `cooldownPeriod` 300, `initialCooldownPeriod` 0, min 0, max 100)
//! and Kubernetes' for the HPA behavior (`model::Rules`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use tanksim_e2e::manifests::Rendered;

use super::model::{HPA_SYNC_PERIOD, Measure, Policy, PolicyType, Rules, Select, Spec, Trigger};

/// The ScaledObject's `spec` (KEDA v1alpha1 `ScaledObjectSpec`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScaledObjectSpec {
    scale_target_ref: ScaleTargetRef,
    polling_interval: Option<u64>,
    initial_cooldown_period: Option<u64>,
    cooldown_period: Option<u64>,
    idle_replica_count: Option<i32>,
    min_replica_count: Option<i32>,
    max_replica_count: Option<i32>,
    advanced: Option<Advanced>,
    fallback: Option<Value>,
    triggers: Vec<TriggerSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScaleTargetRef {
    api_version: Option<String>,
    kind: Option<String>,
    name: String,
    #[serde(rename = "envSourceContainerName")]
    _env_source_container_name: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Advanced {
    #[serde(rename = "restoreToOriginalReplicaCount")]
    _restore_to_original_replica_count: Option<IgnoredAny>,
    horizontal_pod_autoscaler_config: Option<HpaConfig>,
    scaling_modifiers: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct HpaConfig {
    #[serde(rename = "name")]
    _name: Option<IgnoredAny>,
    behavior: Option<Behavior>,
}

/// autoscaling/v2 `HorizontalPodAutoscalerBehavior`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Behavior {
    scale_up: Option<RulesSpec>,
    scale_down: Option<RulesSpec>,
}

/// autoscaling/v2 `HPAScalingRules` (`tolerance` is the alpha per-rule tolerance, not modeled).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RulesSpec {
    stabilization_window_seconds: Option<u64>,
    select_policy: Option<String>,
    policies: Option<Vec<PolicySpec>>,
    tolerance: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicySpec {
    #[serde(rename = "type")]
    kind: String,
    value: i32,
    period_seconds: u64,
}

/// KEDA `ScaleTriggers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TriggerSpec {
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    use_cached_metrics: Option<bool>,
    metadata: BTreeMap<String, String>,
    #[serde(rename = "authenticationRef")]
    _authentication_ref: Option<IgnoredAny>,
    metric_type: Option<String>,
}

/// The metadata keys KEDA's `redis-streams` scaler reads (`redisStreamsMetadata` and the
/// connection fields of `redis_scaler.go`); any other key is ignored by KEDA, so a typo
/// there would silently fall back to a default.
const REDIS_STREAMS_KEYS: &[&str] = &[
    "address",
    "addressFromEnv",
    "host",
    "hostFromEnv",
    "port",
    "portFromEnv",
    "username",
    "usernameFromEnv",
    "password",
    "passwordFromEnv",
    "databaseIndex",
    "enableTLS",
    "unsafeSsl",
    "stream",
    "consumerGroup",
    "pendingEntriesCount",
    "streamLength",
    "lagCount",
    "activationLagCount",
];

/// The ScaledObject named `name` in `rendered`, as the model's [`Spec`] (real time).
///
/// # Panics
/// If it is missing, has a field KEDA does not know, or uses what the model does not
/// implement.
pub(crate) fn scaled_object(rendered: &Rendered, name: &str) -> (Spec, String) {
    let object = rendered.get("ScaledObject", name);
    let what = format!("{}: ScaledObject {name}", rendered.overlay);
    let spec: ScaledObjectSpec = serde_json::from_value(object["spec"].clone())
        .unwrap_or_else(|e| panic!("{what}: not a ScaledObject spec KEDA knows: {e}"));
    let unsupported = [
        ("idleReplicaCount", spec.idle_replica_count.is_some()),
        ("fallback", spec.fallback.is_some()),
        ("advanced.scalingModifiers", spec.advanced.as_ref().is_some_and(|a| a.scaling_modifiers.is_some())),
    ];
    for (field, present) in unsupported {
        assert!(
            !present,
            "{what}: {field} changes KEDA's decisions and is not modeled by this test; extend model.rs"
        );
    }
    let target = &spec.scale_target_ref;
    assert!(
        target.kind.as_deref().unwrap_or("Deployment") == "Deployment"
            && target.api_version.as_deref().unwrap_or("apps/v1") == "apps/v1",
        "{what}: the model drives a Deployment, not {target:?}"
    );
    let behavior = spec
        .advanced
        .as_ref()
        .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
        .and_then(|h| h.behavior.as_ref())
        .unwrap_or_else(|| panic!("{what}: no HPA behavior: the HPA's no-behavior path is not modeled"));
    let scale_up = rules(&what, "scaleUp", behavior.scale_up.as_ref(), Rules::default_up());
    let scale_down = rules(&what, "scaleDown", behavior.scale_down.as_ref(), Rules::default_down());
    let triggers = spec.triggers.iter().enumerate().map(|(i, t)| trigger(&what, i, t)).collect();
    let spec = Spec {
        min: spec.min_replica_count.unwrap_or(0),
        max: spec.max_replica_count.unwrap_or(100),
        polling: Duration::from_secs(spec.polling_interval.unwrap_or(30)),
        cooldown: Duration::from_secs(spec.cooldown_period.unwrap_or(300)),
        initial_cooldown: Duration::from_secs(spec.initial_cooldown_period.unwrap_or(0)),
        scale_up,
        scale_down,
        hpa_sync: HPA_SYNC_PERIOD,
        triggers,
    };
    assert!(0 <= spec.min && spec.min <= spec.max, "{what}: min {} / max {}", spec.min, spec.max);
    (spec, target.name.clone())
}

/// `HPAScalingRules` with Kubernetes' defaults for what is left out.
fn rules(what: &str, which: &str, spec: Option<&RulesSpec>, default: Rules) -> Rules {
    let Some(spec) = spec else { return default };
    assert!(spec.tolerance.is_none(), "{what}: {which}.tolerance is not modeled (the default 0.1 is)");
    let select = match spec.select_policy.as_deref() {
        None | Some("Max") => Select::Max,
        Some("Min") => Select::Min,
        Some("Disabled") => Select::Disabled,
        Some(other) => panic!("{what}: {which}.selectPolicy {other:?} is not Max, Min or Disabled"),
    };
    let policies = match &spec.policies {
        None => default.policies,
        Some(policies) if policies.is_empty() => default.policies,
        Some(policies) => policies
            .iter()
            .map(|p| Policy {
                kind: match p.kind.as_str() {
                    "Pods" => PolicyType::Pods,
                    "Percent" => PolicyType::Percent,
                    other => panic!("{what}: {which} policy type {other:?} is not Pods or Percent"),
                },
                value: p.value,
                period: Duration::from_secs(p.period_seconds),
            })
            .collect(),
    };
    Rules {
        stabilization: spec.stabilization_window_seconds.map_or(default.stabilization, Duration::from_secs),
        select,
        policies,
    }
}

/// One trigger as KEDA's `redisStreamsMetadata.Validate` resolves it.
fn trigger(what: &str, index: usize, spec: &TriggerSpec) -> Trigger {
    let name = spec.name.clone().unwrap_or_else(|| format!("trigger {index}"));
    let what = format!("{what}, trigger {name}");
    assert_eq!(spec.kind, "redis-streams", "{what}: only redis-streams triggers are modeled");
    assert!(
        spec.metric_type.as_deref().unwrap_or("AverageValue") == "AverageValue",
        "{what}: metricType {:?} is not modeled (AverageValue is)",
        spec.metric_type
    );
    assert!(!spec.use_cached_metrics.unwrap_or(false), "{what}: useCachedMetrics is not modeled");
    let meta = &spec.metadata;
    for key in meta.keys() {
        assert!(
            REDIS_STREAMS_KEYS.contains(&key.as_str()),
            "{what}: metadata key {key:?} is not one KEDA's redis-streams scaler reads (KEDA would ignore it)"
        );
    }
    let number = |key: &str, default: i64| -> i64 {
        meta.get(key).map_or(default, |v| v.parse().unwrap_or_else(|e| panic!("{what}: {key} {v:?}: {e}")))
    };
    let stream = meta.get("stream").cloned().unwrap_or_else(|| panic!("{what}: no stream"));
    let group = meta.get("consumerGroup").cloned().unwrap_or_default();
    let (measure, target) = if group.is_empty() {
        (Measure::Length, number("streamLength", 5))
    } else if number("lagCount", 0) != 0 {
        (Measure::Lag, number("lagCount", 0))
    } else {
        (Measure::Pending, number("pendingEntriesCount", 5))
    };
    assert!(target > 0, "{what}: a target of {target} makes the HPA divide by zero");
    Trigger { name, measure, target, activation: number("activationLagCount", 0), stream, group }
}

/// The environment a Deployment's first container gets from its ConfigMaps and literal
/// `env` values (secrets and field references left out: the test needs `TANKSIM_*`).
pub(crate) fn container_env(rendered: &Rendered, deployment: &str) -> BTreeMap<String, String> {
    let object = rendered.get("Deployment", deployment);
    let container = &object["spec"]["template"]["spec"]["containers"][0];
    let mut env = BTreeMap::new();
    for from in container["envFrom"].as_array().into_iter().flatten() {
        if let Some(name) = from["configMapRef"]["name"].as_str() {
            let map = rendered.get("ConfigMap", name);
            for (key, value) in map["data"].as_object().into_iter().flatten() {
                env.insert(key.clone(), value.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    for var in container["env"].as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (var["name"].as_str(), var["value"].as_str()) {
            env.insert(name.to_owned(), value.to_owned());
        }
    }
    env
}

/// `key` of `env` as a number.
///
/// # Panics
/// If it is missing or not a number.
pub(crate) fn number(env: &BTreeMap<String, String>, deployment: &str, key: &str) -> u64 {
    let value = env.get(key).unwrap_or_else(|| panic!("Deployment {deployment}: {key} is not set"));
    value.parse().unwrap_or_else(|e| panic!("Deployment {deployment}: {key}={value:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use tanksim_e2e::manifests::parse_stream;

    use super::*;

    fn rendered(spec: &str) -> Rendered {
        let yaml =
            format!("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: w\nspec:\n{spec}");
        Rendered { overlay: "test".into(), objects: parse_stream(&yaml) }
    }

    /// A ScaledObject spec (indented under `spec:`) with only a scaleUp policy and one
    /// redis-streams trigger with `metadata` (a YAML flow mapping's entries).
    fn triggers(metadata: &str) -> String {
        [
            "  scaleTargetRef: { name: worker }",
            "  advanced:",
            "    horizontalPodAutoscalerConfig:",
            "      behavior:",
            "        scaleUp:",
            "          policies: [{ type: Pods, value: 2, periodSeconds: 30 }]",
            "  triggers:",
            "    - type: redis-streams",
            &format!("      metadata: {{ address: r:6379, stream: s, {metadata} }}"),
            "",
        ]
        .join("\n")
    }

    #[test]
    fn keda_and_kubernetes_defaults_fill_what_is_left_out() {
        let (spec, target) = scaled_object(&rendered(&triggers("consumerGroup: g, lagCount: \"7\"")), "w");
        assert_eq!(target, "worker");
        assert_eq!(
            (spec.min, spec.max, spec.polling, spec.cooldown),
            (0, 100, Duration::from_secs(30), Duration::from_secs(300))
        );
        // scaleUp as written, the rest of it and all of scaleDown from Kubernetes' defaults.
        assert_eq!(spec.scale_up.stabilization, Duration::ZERO);
        assert_eq!(
            spec.scale_up.policies,
            vec![Policy { kind: PolicyType::Pods, value: 2, period: Duration::from_secs(30) }]
        );
        assert_eq!(spec.scale_down, Rules::default_down());
        assert_eq!(
            (spec.triggers[0].measure, spec.triggers[0].target, spec.triggers[0].activation),
            (Measure::Lag, 7, 0)
        );
    }

    #[test]
    fn the_trigger_mode_follows_keda_validate() {
        let mode = |metadata: &str| {
            let (spec, _) = scaled_object(&rendered(&triggers(metadata)), "w");
            (spec.triggers[0].measure, spec.triggers[0].target)
        };
        // A lagCount of 0 is no lagCount: pending entries, default target 5.
        assert_eq!(mode("consumerGroup: g, lagCount: \"0\""), (Measure::Pending, 5));
        assert_eq!(mode("consumerGroup: g, pendingEntriesCount: \"3\""), (Measure::Pending, 3));
        // lagCount wins over pendingEntriesCount.
        assert_eq!(mode("consumerGroup: g, pendingEntriesCount: \"3\", lagCount: \"4\""), (Measure::Lag, 4));
        assert_eq!(mode("streamLength: \"9\""), (Measure::Length, 9));
    }

    #[test]
    #[should_panic(expected = "is not one KEDA's redis-streams scaler reads")]
    fn a_misspelled_metadata_key_fails() {
        scaled_object(
            &rendered(&triggers("consumerGroup: g, lagCount: \"7\", activationLagcount: \"2\"")),
            "w",
        );
    }

    #[test]
    #[should_panic(expected = "not a ScaledObject spec KEDA knows")]
    fn a_field_keda_does_not_have_fails() {
        scaled_object(&rendered(&format!("  cooldownPeriods: 5\n{}", triggers("consumerGroup: g"))), "w");
    }

    #[test]
    #[should_panic(expected = "fallback changes KEDA's decisions")]
    fn a_feature_the_model_lacks_fails() {
        let fallback = "  fallback: { failureThreshold: 3, replicas: 1 }\n";
        scaled_object(&rendered(&format!("{fallback}{}", triggers("consumerGroup: g"))), "w");
    }
}
