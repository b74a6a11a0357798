//! The bootstrap keys file: API keys provisioned from a Kubernetes Secret (or any file) rather
//! than made with `tanksim keys create`. JSON lines, one key each:
//!
//! ```json
//! {"tenant": "acme", "name": "ci", "scopes": ["jobs:submit", "jobs:read"], "sha256": "<hex>"}
//! ```
//!
//! `sha256` is the SHA-256 of the key (`printf %s "$KEY" | sha256sum`), so the Secret holds no
//! usable credential; `expires_at_ms` (Unix milliseconds) is optional. Blank lines and lines
//! starting with `#` are skipped. The file is re-read when it changes.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use tanksim_broker::ApiKey;

use crate::api_key::{check_name, check_sha256};
use crate::scope::Scopes;

/// The keys of one version of the file, by hash.
#[derive(Debug, Default)]
pub struct KeysFile {
    by_hash: HashMap<String, ApiKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    tenant: String,
    name: String,
    scopes: Vec<String>,
    sha256: String,
    #[serde(default)]
    expires_at_ms: Option<u64>,
}

impl KeysFile {
    /// Parses the file's text; an error names the line.
    pub fn parse(text: &str) -> Result<KeysFile, String> {
        let mut by_hash = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |e: String| format!("line {}: {e}", n + 1);
            let entry: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
            tanksim_server::tenant::check(&entry.tenant).map_err(at)?;
            check_name(&entry.name).map_err(at)?;
            check_sha256(&entry.sha256).map_err(at)?;
            let scopes = Scopes::parse_strict(&entry.scopes).map_err(at)?;
            if scopes == Scopes::default() {
                return Err(at("a key needs at least one scope".to_owned()));
            }
            let key = ApiKey {
                sha256: entry.sha256.clone(),
                tenant: entry.tenant,
                name: entry.name,
                scopes: entry.scopes,
                created_at_ms: 0,
                expires_at_ms: entry.expires_at_ms,
            };
            if by_hash.insert(entry.sha256, key).is_some() {
                return Err(at("the same key (sha256) is listed twice".to_owned()));
            }
        }
        Ok(KeysFile { by_hash })
    }

    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<KeysFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        KeysFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The key with this hash.
    pub fn get(&self, sha256: &str) -> Option<&ApiKey> {
        self.by_hash.get(sha256)
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::sha256_hex;

    #[test]
    fn lines_parse_with_comments_and_blanks() {
        let h = sha256_hex("tsk_a");
        let text = format!(
            "# bootstrap\n\n{{\"tenant\":\"acme\",\"name\":\"ci\",\"scopes\":[\"jobs:read\"],\"sha256\":\"{h}\"}}\n\
             {{\"tenant\":\"beta\",\"name\":\"x\",\"scopes\":[\"admin\"],\"sha256\":\"{}\",\"expires_at_ms\":5}}\n",
            sha256_hex("tsk_b")
        );
        let file = KeysFile::parse(&text).unwrap();
        assert_eq!(file.len(), 2);
        let a = file.get(&h).unwrap();
        assert_eq!(
            (a.tenant.as_str(), a.name.as_str(), a.scopes.as_slice()),
            ("acme", "ci", &["jobs:read".to_owned()][..])
        );
        assert_eq!(file.get(&sha256_hex("tsk_b")).unwrap().expires_at_ms, Some(5));
    }

    #[test]
    fn every_bad_line_is_refused_with_its_number() {
        let h = sha256_hex("k");
        let good =
            format!("{{\"tenant\":\"acme\",\"name\":\"ci\",\"scopes\":[\"jobs:read\"],\"sha256\":\"{h}\"}}");
        for (bad, says) in [
            ("not json".to_owned(), "expected"),
            (good.replace("acme", "ACME"), "invalid tenant"),
            (good.replace("jobs:read", "jobs:all"), "unknown scope"),
            (good.replace("[\"jobs:read\"]", "[]"), "at least one scope"),
            (good.replace(&h, &h.to_uppercase()), "64 lower-case hex"),
            (good.replace(&h, "abc"), "64 lower-case hex"),
            (good.replace("\"name\":\"ci\"", "\"name\":\"\""), "key name"),
            (good.replace('}', ",\"key\":\"tsk_plain\"}"), "unknown field"),
            (format!("{good}\n{good}"), "listed twice"),
        ] {
            let text = format!("# header\n{bad}");
            let err = KeysFile::parse(&text).unwrap_err();
            assert!(err.starts_with("line 2: ") || err.starts_with("line 3: "), "{err}");
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
