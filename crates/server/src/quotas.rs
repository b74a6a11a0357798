//! Per-tenant quotas and rate limits, as one set of options for the gateway (which enforces
//! the request rate) and the dispatcher (which enforces the job limits when it creates a job),
//! and `tanksim serve all`. In Kubernetes one `quotas` ConfigMap feeds both.
//!
//! A tenant's limits ([`TenantQuota`]) come in layers: the options (`TANKSIM_QUOTA_*`, with the
//! defaults below), then the quotas file's `default` section, then its entry for the tenant
//! ([`file`]); each layer sets only the fields it names. `0` is unlimited. The file is read
//! while the options are parsed (a bad file is a configuration error) and re-read when it
//! changes ([`QuotaBook::keep_reloaded`]): a broken new version keeps the last good one.
//!
//! The defaults bound what one tenant can take from a shared deployment without getting in the
//! way of normal use: 100 requests per second with bursts of 200 (a client polling a job every
//! 20 ms uses half), 100 jobs not yet ended, a billion queued runs (ten jobs of the largest
//! size the job limits allow), no daily limit (that is a plan's decision, set per tenant), and
//! 100 open WatchJob and ExportRuns streams per gateway replica (one watcher per job).

pub mod file;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tanksim_broker::JobQuota;

pub use file::{QuotaOverride, QuotasFile};

use crate::reload::Reloading;

/// Default of `--quota-requests-per-second`.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 100;
/// Default of `--quota-burst`.
pub const DEFAULT_BURST: u32 = 200;
/// Default of `--quota-concurrent-jobs`.
pub const DEFAULT_CONCURRENT_JOBS: u64 = 100;
/// Default of `--quota-queued-runs`: ten jobs of the default `--max-runs`.
pub const DEFAULT_QUEUED_RUNS: u64 = 1_000_000_000;
/// Default of `--quota-runs-per-day`: unlimited.
pub const DEFAULT_RUNS_PER_DAY: u64 = 0;
/// Default of `--quota-concurrent-streams`: a watcher for each job the default allows.
pub const DEFAULT_CONCURRENT_STREAMS: u32 = 100;
/// Default of `--quotas-reload-seconds`.
pub const DEFAULT_RELOAD_SECONDS: u64 = 10;

/// The metric label of tenants without an entry of their own in the quotas file (see
/// [`Quotas::metric_tenant`]); no tenant name can look like it.
pub use tanksim_telemetry::metrics::names::OTHER_TENANTS;

/// A tenant's request rate, a token bucket: `burst` calls at once, refilled at
/// `requests_per_second`. `requests_per_second == 0`: unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateQuota {
    pub requests_per_second: u32,
    /// At least 1 when limited (0 is read as 1).
    pub burst: u32,
}

impl RateQuota {
    pub fn is_unlimited(&self) -> bool {
        self.requests_per_second == 0
    }
}

/// A tenant's weight when every tenant's weight is the default: tenants with work queued share
/// the workers equally.
pub const DEFAULT_WEIGHT: u32 = 1;
/// The largest weight a quotas file may give (a tenant with weight w gets w turns for every
/// turn of a tenant with weight 1).
pub const MAX_WEIGHT: u32 = 1_000;

/// Everything one tenant may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantQuota {
    pub rate: RateQuota,
    pub jobs: JobQuota,
    /// Open WatchJob and ExportRuns streams at one gateway replica (0: unlimited).
    pub concurrent_streams: u32,
    /// The tenant's share of the workers against other tenants with work queued (the
    /// dispatcher's fair scheduling, `tanksim_dispatcher::fair`), 1 to [`MAX_WEIGHT`].
    pub weight: u32,
}

impl TenantQuota {
    /// The built-in defaults (the options' defaults).
    pub const DEFAULT: TenantQuota = TenantQuota {
        rate: RateQuota { requests_per_second: DEFAULT_REQUESTS_PER_SECOND, burst: DEFAULT_BURST },
        jobs: JobQuota {
            concurrent_jobs: DEFAULT_CONCURRENT_JOBS,
            queued_runs: DEFAULT_QUEUED_RUNS,
            runs_per_day: DEFAULT_RUNS_PER_DAY,
        },
        concurrent_streams: DEFAULT_CONCURRENT_STREAMS,
        weight: DEFAULT_WEIGHT,
    };

    /// No limit at all.
    pub const UNLIMITED: TenantQuota = TenantQuota {
        rate: RateQuota { requests_per_second: 0, burst: 0 },
        jobs: JobQuota::UNLIMITED,
        concurrent_streams: 0,
        weight: DEFAULT_WEIGHT,
    };
}

/// The quota options (`TANKSIM_QUOTA_*`, `TANKSIM_QUOTAS_FILE`); `docs/security.md`, "Quotas",
/// lists them.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct QuotasArgs {
    /// Requests per second each tenant may make, per gateway replica (0: unlimited).
    #[arg(long = "quota-requests-per-second", env = "TANKSIM_QUOTA_REQUESTS_PER_SECOND",
          value_name = "N", default_value_t = DEFAULT_REQUESTS_PER_SECOND)]
    pub requests_per_second: u32,
    /// Requests a tenant may make at once before the per-second rate applies.
    #[arg(long = "quota-burst", env = "TANKSIM_QUOTA_BURST", value_name = "N",
          default_value_t = DEFAULT_BURST)]
    pub burst: u32,
    /// Jobs each tenant may have queued or running at once (0: unlimited).
    #[arg(long = "quota-concurrent-jobs", env = "TANKSIM_QUOTA_CONCURRENT_JOBS", value_name = "N",
          default_value_t = DEFAULT_CONCURRENT_JOBS)]
    pub concurrent_jobs: u64,
    /// Runs each tenant's queued and running jobs may hold together (0: unlimited).
    #[arg(long = "quota-queued-runs", env = "TANKSIM_QUOTA_QUEUED_RUNS", value_name = "N",
          default_value_t = DEFAULT_QUEUED_RUNS)]
    pub queued_runs: u64,
    /// Runs each tenant may submit per UTC day (0: unlimited).
    #[arg(long = "quota-runs-per-day", env = "TANKSIM_QUOTA_RUNS_PER_DAY", value_name = "N",
          default_value_t = DEFAULT_RUNS_PER_DAY)]
    pub runs_per_day: u64,
    /// WatchJob and ExportRuns streams each tenant may hold open at once, per gateway replica
    /// (0: unlimited).
    #[arg(long = "quota-concurrent-streams", env = "TANKSIM_QUOTA_CONCURRENT_STREAMS", value_name = "N",
          default_value_t = DEFAULT_CONCURRENT_STREAMS)]
    pub concurrent_streams: u32,
    /// A JSON or YAML file of quotas over these options: `{"default": {...}, "tenants":
    /// {"acme": {...}}}` with fields requests_per_second, burst, concurrent_jobs, queued_runs,
    /// runs_per_day, concurrent_streams, weight. Re-read when it changes.
    #[arg(long = "quotas-file", env = "TANKSIM_QUOTAS_FILE", value_name = "PATH",
          value_parser = QuotasFile::parse_arg)]
    pub file: Option<QuotasFile>,
    /// How often the quotas file is checked for changes, in seconds.
    #[arg(long = "quotas-reload-seconds", env = "TANKSIM_QUOTAS_RELOAD_SECONDS", value_name = "SECONDS",
          default_value_t = DEFAULT_RELOAD_SECONDS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub reload_seconds: u64,
}

impl Default for QuotasArgs {
    fn default() -> Self {
        let d = TenantQuota::DEFAULT;
        QuotasArgs {
            requests_per_second: d.rate.requests_per_second,
            burst: d.rate.burst,
            concurrent_jobs: d.jobs.concurrent_jobs,
            queued_runs: d.jobs.queued_runs,
            runs_per_day: d.jobs.runs_per_day,
            concurrent_streams: d.concurrent_streams,
            file: None,
            reload_seconds: DEFAULT_RELOAD_SECONDS,
        }
    }
}

impl QuotasArgs {
    /// Every tenant's limits as the options alone set them.
    pub fn base(&self) -> TenantQuota {
        TenantQuota {
            rate: RateQuota { requests_per_second: self.requests_per_second, burst: self.burst },
            jobs: JobQuota {
                concurrent_jobs: self.concurrent_jobs,
                queued_runs: self.queued_runs,
                runs_per_day: self.runs_per_day,
            },
            concurrent_streams: self.concurrent_streams,
            weight: DEFAULT_WEIGHT,
        }
    }

    /// The quotas these options and the file give, to be kept current with
    /// [`QuotaBook::keep_reloaded`].
    pub fn book(&self) -> QuotaBook {
        let base = self.base();
        let quotas = Quotas::new(base, self.file.as_ref());
        let source = self.file.as_ref().map(|f| {
            Arc::new(Source {
                base,
                path: f.path.clone(),
                interval: Duration::from_secs(self.reload_seconds),
                watching: std::sync::Once::new(),
            })
        });
        QuotaBook { current: Reloading::new(quotas), source }
    }
}

/// Every tenant's limits at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    default: TenantQuota,
    tenants: BTreeMap<String, TenantQuota>,
}

impl Quotas {
    /// `base` under `file`'s defaults and per-tenant entries.
    pub fn new(base: TenantQuota, file: Option<&QuotasFile>) -> Quotas {
        let Some(file) = file else { return Quotas::uniform(base) };
        let default = file.default.apply(base);
        let tenants = file.tenants.iter().map(|(t, o)| (t.clone(), o.apply(default))).collect();
        Quotas { default, tenants }
    }

    /// The same limits for every tenant.
    pub fn uniform(quota: TenantQuota) -> Quotas {
        Quotas { default: quota, tenants: BTreeMap::new() }
    }

    /// `tenant`'s limits.
    pub fn for_tenant(&self, tenant: &str) -> TenantQuota {
        self.tenants.get(tenant).copied().unwrap_or(self.default)
    }

    /// The `tenant` label of a refusal counted for `tenant`: the tenant itself when the quotas
    /// file names it, else [`OTHER_TENANTS`]. Tenants come from API keys and JWT claims, an
    /// open set; the ones an operator gave quotas of their own are few and worth a series each.
    pub fn metric_tenant(&self, tenant: &str) -> String {
        if self.tenants.contains_key(tenant) { tenant.to_owned() } else { OTHER_TENANTS.to_owned() }
    }

    /// The tenants with limits of their own.
    pub fn listed_tenants(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }
}

/// The current quotas, shared by every call (cheap to clone), swapped whole when the quotas
/// file changes.
#[derive(Debug, Clone)]
pub struct QuotaBook {
    current: Arc<Reloading<Quotas>>,
    source: Option<Arc<Source>>,
}

/// Where a book's quotas are re-read from.
#[derive(Debug)]
struct Source {
    base: TenantQuota,
    path: std::path::PathBuf,
    interval: Duration,
    watching: std::sync::Once,
}

impl QuotaBook {
    /// Fixed quotas (tests, the embedded mode).
    pub fn fixed(quotas: Quotas) -> QuotaBook {
        QuotaBook { current: Reloading::new(quotas), source: None }
    }

    /// Fixed quotas as the text of a quotas file in YAML gives them, over no limits at all
    /// (tests, tools); the error says what is wrong in `yaml`.
    pub fn from_yaml(yaml: &str) -> Result<QuotaBook, String> {
        let file = QuotasFile::parse(Path::new("quotas.yaml"), yaml, false)?;
        Ok(QuotaBook::fixed(Quotas::new(TenantQuota::UNLIMITED, Some(&file))))
    }

    /// The quotas now.
    pub fn get(&self) -> Arc<Quotas> {
        self.current.get()
    }

    /// `tenant`'s limits now.
    pub fn for_tenant(&self, tenant: &str) -> TenantQuota {
        self.get().for_tenant(tenant)
    }

    /// Re-reads the quotas file every `--quotas-reload-seconds` while it changes, until the
    /// last clone of the book is dropped; a version that fails to read is logged and the
    /// previous quotas kept. Once per book (clones included); nothing without a file. Needs a
    /// tokio runtime.
    pub fn keep_reloaded(&self) {
        let Some(source) = &self.source else { return };
        source.watching.call_once(|| {
            let base = source.base;
            self.current.poll_file(
                "quotas file",
                source.interval,
                source.path.clone(),
                move |path: &Path| {
                    let file = QuotasFile::read(path)?;
                    Ok(Quotas::new(base, Some(&file)))
                },
            );
        });
    }
}

impl Default for QuotaBook {
    /// The built-in defaults for every tenant.
    fn default() -> Self {
        QuotaBook::fixed(Quotas::uniform(TenantQuota::DEFAULT))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        quotas: QuotasArgs,
    }

    #[test]
    fn the_defaults_are_the_shared_constants() {
        let parsed = Cli::try_parse_from(["t"]).expect("defaults parse").quotas;
        assert_eq!(parsed, QuotasArgs::default());
        assert_eq!(parsed.base(), TenantQuota::DEFAULT);
        assert_eq!(parsed.book().for_tenant("anyone"), TenantQuota::DEFAULT);
        assert_eq!(QuotaBook::default().for_tenant("acme"), TenantQuota::DEFAULT);
    }

    #[test]
    fn options_then_the_files_default_then_its_tenant_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quotas.json");
        std::fs::write(
            &path,
            r#"{"default": {"concurrent_jobs": 3, "burst": 50},
                "tenants": {"acme": {"concurrent_jobs": 0, "requests_per_second": 7, "concurrent_streams": 2}}}"#,
        )
        .unwrap();
        let file = path.display().to_string();
        let args = [
            "t",
            "--quota-requests-per-second=20",
            "--quota-runs-per-day=1000",
            "--quota-concurrent-streams=9",
            "--quotas-file",
            &file,
        ];
        let quotas = Cli::try_parse_from(args).expect("parses").quotas.book().get();
        let other = quotas.for_tenant("beta");
        assert_eq!(other.rate, RateQuota { requests_per_second: 20, burst: 50 });
        assert_eq!(
            other.jobs,
            JobQuota { concurrent_jobs: 3, queued_runs: DEFAULT_QUEUED_RUNS, runs_per_day: 1000 }
        );
        let acme = quotas.for_tenant("acme");
        assert_eq!(acme.rate, RateQuota { requests_per_second: 7, burst: 50 });
        assert_eq!(acme.jobs, JobQuota { concurrent_jobs: 0, ..other.jobs }, "0: unlimited, per tenant");
        assert_eq!((other.concurrent_streams, acme.concurrent_streams), (9, 2));
        assert_eq!(
            (quotas.metric_tenant("acme"), quotas.metric_tenant("beta")),
            ("acme".into(), "_other".into())
        );
        assert_eq!(quotas.listed_tenants().collect::<Vec<_>>(), ["acme"]);
    }

    #[test]
    fn a_bad_file_or_option_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quotas.yaml");
        std::fs::write(&path, "tenants: {acme: {concurrent_job: 1}}").unwrap();
        let file = path.display().to_string();
        let error = Cli::try_parse_from(["t", "--quotas-file", &file]).unwrap_err().to_string();
        assert!(error.contains("concurrent_job") && error.contains("quotas.yaml"), "{error}");
        assert!(Cli::try_parse_from(["t", "--quotas-file", "/nonexistent/q.yaml"]).is_err());
        assert!(Cli::try_parse_from(["t", "--quota-burst=-1"]).is_err());
        assert!(Cli::try_parse_from(["t", "--quotas-reload-seconds=0"]).is_err());
    }

    #[tokio::test]
    async fn a_changed_file_is_read_again_and_a_broken_one_keeps_the_last_good_quotas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quotas.yaml");
        std::fs::write(&path, "tenants: {acme: {concurrent_jobs: 1}}").unwrap();
        let file = path.display().to_string();
        let args = Cli::try_parse_from(["t", "--quotas-file", &file, "--quotas-reload-seconds=1"]).unwrap();
        let book = args.quotas.book();
        book.keep_reloaded();
        book.clone().keep_reloaded(); // once per book: a second call starts nothing
        assert_eq!(book.for_tenant("acme").jobs.concurrent_jobs, 1);

        let eventually = |want: u64| {
            let book = book.clone();
            async move {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                while book.for_tenant("acme").jobs.concurrent_jobs != want {
                    assert!(tokio::time::Instant::now() < deadline, "not reloaded to {want}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        // A new file (a new inode, as a Kubernetes volume swaps it) with a different length.
        let next = dir.path().join("next.yaml");
        std::fs::write(&next, "tenants: {acme: {concurrent_jobs: 12}}").unwrap();
        std::fs::rename(&next, &path).unwrap();
        eventually(12).await;
        std::fs::write(&next, "tenants: {acme: {concurrent_jobs: oops}}").unwrap();
        std::fs::rename(&next, &path).unwrap();
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(book.for_tenant("acme").jobs.concurrent_jobs, 12, "the last good version stays");
        std::fs::write(&next, "tenants: {acme: {concurrent_jobs: 5}}").unwrap();
        std::fs::rename(&next, &path).unwrap();
        eventually(5).await;
    }
}
