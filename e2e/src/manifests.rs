//! The Kubernetes manifests as a cluster receives them: `kubectl kustomize` of an overlay under
//! `deploy/overlays`, parsed into JSON objects, with lookups by kind and name.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The objects of one rendered overlay.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub overlay: String,
    pub objects: Vec<Value>,
}

/// Renders `deploy/overlays/<overlay>` with `kubectl kustomize` (kubectl ships kustomize).
///
/// # Panics
/// If kubectl is missing or the overlay does not render: the manifests are what is tested.
pub fn render(overlay: &str) -> Rendered {
    let dir = repo().join("deploy/overlays").join(overlay);
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("kubectl kustomize {}: {e} (is kubectl installed?)", dir.display()));
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("kustomize prints UTF-8");
    Rendered { overlay: overlay.to_owned(), objects: parse_stream(&text) }
}

/// Every document of a YAML stream, empty ones skipped.
///
/// # Panics
/// On YAML that does not parse.
pub fn parse_stream(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("a YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

impl Rendered {
    /// Objects of `kind`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects.iter().filter(move |o| o["kind"] == kind)
    }

    /// The object of `kind` named `name`.
    ///
    /// # Panics
    /// If there is none.
    pub fn get(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name).unwrap_or_else(|| panic!("{}: no {kind} named {name}", self.overlay))
    }

    /// The object of `kind` named `name`, if any.
    pub fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.objects.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
    }

    /// Deployments and StatefulSets: (kind, name, pod spec).
    pub fn workloads(&self) -> Vec<(&str, &str, &Value)> {
        self.objects
            .iter()
            .filter(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
            .map(|o| {
                let kind = o["kind"].as_str().unwrap_or_default();
                let name = o["metadata"]["name"].as_str().unwrap_or_default();
                (kind, name, &o["spec"]["template"]["spec"])
            })
            .collect()
    }
}
