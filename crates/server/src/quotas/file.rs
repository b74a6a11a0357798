//! The quotas file (`--quotas-file` / `TANKSIM_QUOTAS_FILE`): defaults and per-tenant
//! overrides, JSON or YAML, each field optional (a missing field inherits), unknown fields and
//! invalid tenant names refused so that a typo never silently leaves a tenant unlimited.
//!
//! ```yaml
//! default: {requests_per_second: 50, burst: 100, concurrent_jobs: 20}
//! tenants:
//!   acme: {concurrent_jobs: 100, runs_per_day: 0, concurrent_streams: 20, weight: 2}   # 0: unlimited
//! ```
//!
//! `weight` is not a limit: it is the tenant's share of the workers against other tenants
//! with work queued (1 to [`MAX_WEIGHT`], default 1).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tanksim_broker::JobQuota;

use super::{MAX_WEIGHT, RateQuota, TenantQuota};

/// Largest quotas file read (a few hundred tenants fit in a few KB).
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Some of a tenant's limits; `None` inherits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaOverride {
    pub requests_per_second: Option<u32>,
    pub burst: Option<u32>,
    pub concurrent_jobs: Option<u64>,
    pub queued_runs: Option<u64>,
    pub runs_per_day: Option<u64>,
    pub concurrent_streams: Option<u32>,
    pub weight: Option<u32>,
}

impl QuotaOverride {
    /// `base` with the fields this override sets replaced.
    pub fn apply(&self, base: TenantQuota) -> TenantQuota {
        TenantQuota {
            rate: RateQuota {
                requests_per_second: self.requests_per_second.unwrap_or(base.rate.requests_per_second),
                burst: self.burst.unwrap_or(base.rate.burst),
            },
            jobs: JobQuota {
                concurrent_jobs: self.concurrent_jobs.unwrap_or(base.jobs.concurrent_jobs),
                queued_runs: self.queued_runs.unwrap_or(base.jobs.queued_runs),
                runs_per_day: self.runs_per_day.unwrap_or(base.jobs.runs_per_day),
            },
            concurrent_streams: self.concurrent_streams.unwrap_or(base.concurrent_streams),
            weight: self.weight.unwrap_or(base.weight),
        }
    }
}

/// A parsed quotas file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotasFile {
    /// Where it was read from (re-read from there when it changes).
    pub path: PathBuf,
    /// Over the options' values, for every tenant.
    pub default: QuotaOverride,
    /// Over `default`, for one tenant each.
    pub tenants: BTreeMap<String, QuotaOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    default: QuotaOverride,
    #[serde(default)]
    tenants: BTreeMap<String, QuotaOverride>,
}

impl QuotasFile {
    /// Reads and checks the file at `path`: JSON when its name ends in `.json`, else YAML.
    pub fn read(path: &Path) -> Result<QuotasFile, String> {
        let at = path.display();
        let size = std::fs::metadata(path).map_err(|e| format!("quotas file {at}: {e}"))?.len();
        if size > MAX_FILE_BYTES {
            return Err(format!("quotas file {at}: {size} bytes, more than the {MAX_FILE_BYTES} allowed"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("quotas file {at}: {e}"))?;
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(path, &text, json).map_err(|e| format!("quotas file {at}: {e}"))
    }

    /// Parses `text` (JSON if `json`, else YAML) read from `path`.
    pub fn parse(path: &Path, text: &str, json: bool) -> Result<QuotasFile, String> {
        // An empty file is refused, not read as "no overrides": a file caught half-written
        // must not reset every tenant to the defaults (the last good version stays).
        if text.trim().is_empty() {
            return Err("empty (write `{}` for no overrides)".to_owned());
        }
        let doc: Document = if json {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            serde_norway::from_str(text).map_err(|e| e.to_string())?
        };
        for tenant in doc.tenants.keys() {
            crate::tenant::check(tenant).map_err(|e| format!("tenants: {e}"))?;
        }
        let overrides = std::iter::once(("default".to_owned(), &doc.default))
            .chain(doc.tenants.iter().map(|(name, o)| (format!("tenants.{name}"), o)));
        for (at, o) in overrides {
            if let Some(weight) = o.weight.filter(|w| !(1..=MAX_WEIGHT).contains(w)) {
                return Err(format!("{at}.weight: {weight} is not between 1 and {MAX_WEIGHT}"));
            }
        }
        Ok(QuotasFile { path: path.to_owned(), default: doc.default, tenants: doc.tenants })
    }

    /// The value parser of `--quotas-file`: the file is read and checked while the options
    /// are parsed, so a bad file stops the service before it binds a port (exit 64).
    pub fn parse_arg(path: &str) -> Result<QuotasFile, String> {
        QuotasFile::read(Path::new(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, json: bool) -> Result<QuotasFile, String> {
        QuotasFile::parse(Path::new("quotas"), text, json)
    }

    #[test]
    fn json_and_yaml_say_the_same() {
        let json = r#"{"default": {"requests_per_second": 5, "concurrent_jobs": 3},
                       "tenants": {"acme": {"concurrent_jobs": 10, "runs_per_day": 0}, "beta": {}}}"#;
        let yaml = "default:\n  requests_per_second: 5\n  concurrent_jobs: 3\ntenants:\n  acme: {concurrent_jobs: 10, runs_per_day: 0}\n  beta: {}\n";
        let from_json = parse(json, true).unwrap();
        assert_eq!(from_json, parse(yaml, false).unwrap());
        assert_eq!(from_json, parse(json, false).unwrap(), "YAML reads JSON too");
        assert_eq!(from_json.default.requests_per_second, Some(5));
        assert_eq!(from_json.default.burst, None);
        assert_eq!(from_json.tenants["acme"].runs_per_day, Some(0));
        assert_eq!(from_json.tenants["beta"], QuotaOverride::default());
        assert_eq!(parse("{}", true).unwrap().tenants.len(), 0);
        assert_eq!(parse("tenants: {acme: {burst: 7}}", false).unwrap().default, QuotaOverride::default());
    }

    #[test]
    fn weights_are_between_one_and_the_maximum() {
        let file = parse("default: {weight: 3}\ntenants: {acme: {weight: 1000}}", false).unwrap();
        assert_eq!((file.default.weight, file.tenants["acme"].weight), (Some(3), Some(1000)));
        assert_eq!(file.tenants["acme"].apply(TenantQuota::DEFAULT).weight, 1000);
        assert_eq!(QuotaOverride::default().apply(TenantQuota::DEFAULT).weight, 1);
        assert_eq!(
            parse("tenants: {acme: {weight: 0}}", false).unwrap_err(),
            "tenants.acme.weight: 0 is not between 1 and 1000"
        );
        assert_eq!(
            parse(r#"{"default": {"weight": 1001}}"#, true).unwrap_err(),
            "default.weight: 1001 is not between 1 and 1000"
        );
    }

    #[test]
    fn typos_bad_tenants_bad_numbers_and_empty_files_are_refused() {
        for (text, json, needle) in [
            (r#"{"default": {"concurent_jobs": 3}}"#, true, "concurent_jobs"),
            (r#"{"tenant": {}}"#, true, "tenant"),
            ("tenants: {Acme: {}}", false, "invalid tenant \"Acme\""),
            ("tenants: {acme: {burst: -1}}", false, "burst"),
            (r#"{"default": {"queued_runs": "many"}}"#, true, "expected u64 at line 1"),
            ("  \n", false, "empty"),
            ("{", true, "EOF"),
        ] {
            let error = parse(text, json).unwrap_err();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn files_are_read_by_extension_and_missing_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("quotas.json");
        std::fs::write(&json, r#"{"tenants": {"acme": {"burst": 9}}}"#).unwrap();
        assert_eq!(QuotasFile::read(&json).unwrap().tenants["acme"].burst, Some(9));
        let yaml = dir.path().join("quotas.yaml");
        std::fs::write(&yaml, "tenants:\n  acme:\n    burst: 9\n").unwrap();
        assert_eq!(QuotasFile::read(&yaml).unwrap().tenants, QuotasFile::read(&json).unwrap().tenants);
        let missing = dir.path().join("nope.yaml");
        assert!(QuotasFile::read(&missing).unwrap_err().contains("nope.yaml"));
    }
}
