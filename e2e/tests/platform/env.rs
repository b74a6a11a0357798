//! A container's environment as the kubelet builds it: `envFrom` ConfigMaps first, then `env`
//! in order, `$(NAME)` expanded from what is already defined (Kubernetes' dependent variables),
//! values from Secrets and the downward API replaced by stand-ins.

use serde_json::Value;
use tanksim_e2e::manifests::Rendered;

/// Stand-in for a value read from a Secret (the real one is sealed).
pub(crate) const SECRET: &str = "sealed-secret-value";
/// Stand-in for a downward-API field (`metadata.name`, ...).
pub(crate) const FIELD: &str = "pod-0";
/// Stand-in for the pod's address (`status.podIP`).
pub(crate) const POD_IP: &str = "10.42.0.7";

/// One variable: its name, expanded value, and the names its value referred to.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) refers_to: Vec<String>,
}

/// The container's variables in definition order (a later definition of a name replaces the
/// earlier one, as in the kubelet).
pub(crate) fn container_env(rendered: &Rendered, container: &Value) -> Vec<Var> {
    let mut vars: Vec<Var> = Vec::new();
    let define = |vars: &mut Vec<Var>, var: Var| {
        vars.retain(|v| v.name != var.name);
        vars.push(var);
    };
    for source in container["envFrom"].as_array().into_iter().flatten() {
        let name = source["configMapRef"]["name"].as_str().unwrap_or_else(|| {
            panic!("{}: only configMapRef envFrom sources are used: {source}", rendered.overlay)
        });
        let config_map = rendered.get("ConfigMap", name);
        for (key, value) in config_map["data"].as_object().into_iter().flatten() {
            let value = value.as_str().unwrap_or_default().to_owned();
            define(&mut vars, Var { name: key.clone(), value, refers_to: Vec::new() });
        }
    }
    for item in container["env"].as_array().into_iter().flatten() {
        let name = item["name"].as_str().unwrap().to_owned();
        let var = if let Some(raw) = item["value"].as_str() {
            let (value, refers_to) = expand(raw, &vars);
            Var { name, value, refers_to }
        } else if item["valueFrom"]["secretKeyRef"].is_object() {
            Var { name, value: SECRET.to_owned(), refers_to: Vec::new() }
        } else if item["valueFrom"]["resourceFieldRef"].is_object() {
            Var { name, value: "1".to_owned(), refers_to: Vec::new() }
        } else if item["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP" {
            Var { name, value: POD_IP.to_owned(), refers_to: Vec::new() }
        } else if item["valueFrom"]["fieldRef"].is_object() {
            Var { name, value: FIELD.to_owned(), refers_to: Vec::new() }
        } else {
            panic!("{}: env {name}: unsupported source {item}", rendered.overlay);
        };
        define(&mut vars, var);
    }
    vars
}

/// `$(NAME)` replaced by NAME's value when NAME is defined; `$$` is a literal `$`. Returns the
/// names referred to, defined or not (an undefined one is left as written, as the kubelet does,
/// and reported by the caller).
fn expand(raw: &str, vars: &[Var]) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut refers = Vec::new();
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
            refers.push(name.to_owned());
            match vars.iter().find(|v| v.name == name) {
                Some(v) => out.push_str(&v.value),
                None => out.push_str(&rest[i..i + 3 + name.len()]),
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    (out, refers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependent_variables_expand_like_the_kubelet() {
        let vars = vec![Var { name: "A".into(), value: "x".into(), refers_to: vec![] }];
        assert_eq!(
            expand("redis://:$(A)@$(B)/0", &vars),
            ("redis://:x@$(B)/0".into(), vec!["A".into(), "B".into()])
        );
        assert_eq!(expand("$$(A) $", &vars).0, "$(A) $");
    }
}
