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
    fn the_examples_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        for name in ["mc-tau.yaml", "k-tau-sweep.yaml", "dataset-100k.yaml"] {
            load(&dir.join(name)).unwrap();
        }
    }
}
