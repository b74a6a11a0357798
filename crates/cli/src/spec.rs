//! Reading a job spec: the proto3 JSON of `tanksim.v1.SubmitJobRequest` (what `grpcurl -d @`
//! sends), or the same document in YAML.

use std::path::Path;

use anyhow::Context;
use tanksim_proto::v1::SubmitJobRequest;

/// Reads and parses a spec file (`.yaml`/`.yml` as YAML, anything else as JSON, falling
/// back to YAML when JSON does not parse).
pub fn load(path: &Path) -> anyhow::Result<SubmitJobRequest> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text, path.extension().and_then(|e| e.to_str()))
        .with_context(|| format!("parsing {}", path.display()))
}

/// Parses spec text; `extension` picks the format first.
pub fn parse(text: &str, extension: Option<&str>) -> anyhow::Result<SubmitJobRequest> {
    let yaml = matches!(extension, Some("yaml" | "yml"));
    if !yaml && let Ok(spec) = serde_json::from_str::<SubmitJobRequest>(text) {
        return Ok(spec);
    }
    // YAML is read into a JSON value first so both formats go through the same proto3 JSON
    // mapping (enum names, field names in snake_case or lowerCamelCase, 64-bit integers as
    // numbers or strings).
    let value: serde_json::Value = serde_norway::from_str(text).context("not valid YAML or JSON")?;
    Ok(serde_json::from_value(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_give_the_same_spec() {
        let yaml = "name: x\nconfig:\n  plant: { kind: PLANT_KIND_FIRST_ORDER, tau: 3.5 }\n  dt: 0.01\nmonte_carlo: { runs: 10, seed: 1 }\n";
        let json = r#"{"name":"x","config":{"plant":{"kind":"PLANT_KIND_FIRST_ORDER","tau":3.5},"dt":0.01},"monteCarlo":{"runs":"10","seed":"1"}}"#;
        let a = parse(yaml, Some("yaml")).unwrap();
        let b = parse(json, Some("json")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.config.unwrap().plant.unwrap().tau, 3.5);
    }

    #[test]
    fn unknown_fields_and_bad_enums_are_errors() {
        assert!(parse("config: { plant: { kind: PLANT_KIND_NOPE } }", Some("yaml")).is_err());
        assert!(parse(r#"{"confg": {}}"#, Some("json")).is_err());
    }

    #[test]
    fn every_example_parses_and_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        names.sort();
        assert!(names.len() >= 4, "{names:?}");
        for path in names {
            let spec = load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            let limits = tanksim_sim_core::validate::Limits::default();
            if let Err(v) = tanksim_proto::convert::job_spec_from_request(&spec, &limits) {
                panic!("{}: {v:?}", path.display());
            }
        }
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::*;

        /// The MC-tau example as JSON, a value at a time replaced by something hostile.
        fn example() -> serde_json::Value {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
            serde_json::to_value(load(&dir.join("mc-tau.yaml")).unwrap()).unwrap()
        }

        fn hostile() -> impl Strategy<Value = serde_json::Value> {
            use serde_json::json;
            prop_oneof![
                Just(json!("NaN")),
                Just(json!("Infinity")),
                Just(json!("-Infinity")),
                Just(json!(1e308)),
                Just(json!(-1)),
                Just(json!("18446744073709551616")),
                Just(json!("0x10")),
                Just(json!(null)),
                Just(json!([])),
                Just(json!({})),
                Just(json!("PLANT_KIND_NOPE")),
                Just(json!(true)),
                "\\PC{0,30}".prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
            ]
        }

        /// Replaces the `pick`-th scalar or container of `v` (depth first) with `with`.
        fn replace(v: &mut serde_json::Value, pick: &mut usize, with: &serde_json::Value) -> bool {
            if *pick == 0 {
                *v = with.clone();
                return true;
            }
            *pick -= 1;
            match v {
                serde_json::Value::Object(map) => map.values_mut().any(|c| replace(c, pick, with)),
                serde_json::Value::Array(items) => items.iter_mut().any(|c| replace(c, pick, with)),
                _ => false,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Any text, as JSON or YAML, parses to a spec or to an error; never a panic.
            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,200}", yaml in any::<bool>()) {
                let _ = parse(&text, Some(if yaml { "yaml" } else { "json" }));
            }

            /// The example with one value made hostile parses or is refused, and what parses
            /// converts to a job or to field violations (the gateway's path): never a panic.
            #[test]
            fn hostile_values_in_a_real_spec_never_panic(pick in 0usize..80, with in hostile(), yaml in any::<bool>()) {
                let mut value = example();
                let mut at = pick;
                replace(&mut value, &mut at, &with);
                let text = if yaml { serde_norway::to_string(&value).unwrap() } else { value.to_string() };
                if let Ok(spec) = parse(&text, Some(if yaml { "yaml" } else { "json" })) {
                    let _ = tanksim_proto::convert::job_spec_from_request(&spec, &Default::default());
                }
            }
        }
    }
}
