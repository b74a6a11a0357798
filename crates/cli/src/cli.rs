//! The command line's shape (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tanksim: water-tank simulations at scale.
#[derive(Debug, Parser)]
#[command(name = "tanksim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log filter (`RUST_LOG` syntax); logs go to stderr, default `warn`.
    #[arg(long, global = true, env = "RUST_LOG")]
    pub log_filter: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a job in this process (gateway, dispatcher, workers and results over loopback,
    /// in-memory queue and store): nothing to install.
    Run(RunArgs),
    /// Check a job spec without running it (`--json`: print it as proto3 JSON, the form
    /// `grpcurl -d @` sends).
    Validate {
        spec: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Submit a job to a deployed gateway.
    Submit(SubmitArgs),
    /// Follow a job's progress until it ends.
    Watch(IdArgs),
    /// A job's state and progress.
    Status(IdArgs),
    /// A job's results: per-metric summaries (and a sweep's best point).
    Results(ResultsArgs),
    /// Write a dataset or sweep job's per-run rows to CSV or Parquet.
    Export(ExportArgs),
    /// Cancel a job.
    Cancel(IdArgs),
    /// Jobs, newest first.
    List(ListArgs),
    /// Run services against Redis (`serve all`: every service in this process).
    Serve(Box<ServeArgs>),
    /// API keys in Redis: create (the key is shown once), list, revoke.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// Where the deployed gateway is.
#[derive(Debug, Clone, Args)]
pub struct GatewayArg {
    /// The gateway's gRPC address.
    #[arg(long, env = "TANKSIM_GATEWAY", default_value = "http://127.0.0.1:50051")]
    pub gateway: String,
    /// The bearer token calls carry: an API key (`tsk_...`) or a JWT. Prefer the environment
    /// variable: a command line is visible to other users of the machine.
    #[arg(long, env = "TANKSIM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM CA certificate(s) to trust for an `https://` gateway (default: the system's roots).
    #[arg(long, env = "TANKSIM_TLS_CA", value_name = "PEM")]
    pub tls_ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job spec: proto3 JSON or YAML of `tanksim.v1.SubmitJobRequest`.
    pub spec: PathBuf,
    /// Worker tasks (each simulates one chunk at a time on its own thread).
    #[arg(long, default_value_t = default_workers())]
    pub workers: usize,
    /// Runs per chunk.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: u64,
    /// Directory for plots and exports (default `tanksim-out/<job name or id>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the SVG plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Also write the per-run rows (dataset, sweep and sensitivity jobs).
    #[arg(long, value_enum)]
    pub export: Vec<ExportFormat>,
    /// Data directory of the embedded results service (default: a temporary directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    pub spec: PathBuf,
    #[command(flatten)]
    pub gateway: GatewayArg,
    /// Follow progress until the job ends, then print its results.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The job id.
    pub id: String,
    #[command(flatten)]
    pub gateway: GatewayArg,
}

#[derive(Debug, Args)]
pub struct ResultsArgs {
    pub id: String,
    #[command(flatten)]
    pub gateway: GatewayArg,
    /// Print the response as proto3 JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write SVG plots into this directory.
    #[arg(long)]
    pub plots: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub id: String,
    #[command(flatten)]
    pub gateway: GatewayArg,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub gateway: GatewayArg,
    /// Jobs per page.
    #[arg(long, default_value_t = 20)]
    pub page_size: u32,
}

/// A per-run rows file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Parquet,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// What to serve: `all` (gateway, dispatcher, results and workers in this process).
    #[arg(value_parser = ["all"])]
    pub what: String,
    #[arg(long, env = "TANKSIM_REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_env_values = true)]
    pub redis_url: String,
    /// The public API's address.
    #[arg(long, env = "TANKSIM_GATEWAY_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: std::net::SocketAddr,
    /// Data directory for dataset rows.
    #[arg(long, env = "TANKSIM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Worker tasks.
    #[arg(long, default_value_t = default_workers())]
    pub workers: usize,
    /// What jobs and messages may be (the same options as the services').
    #[command(flatten)]
    pub limits: tanksim_server::LimitsArgs,
    /// What each tenant may use: request rate, jobs, runs (the gateway's and the dispatcher's
    /// options).
    #[command(flatten)]
    pub quotas: tanksim_server::QuotasArgs,
    /// Who may call. Unset `--auth`: required when a keys file or an OIDC issuer is given
    /// (keys made with `tanksim keys create` in the same Redis work too), otherwise off.
    #[command(flatten)]
    pub auth: tanksim_auth::AuthArgs,
    /// Logs (JSON on stdout by default), traces and the metrics port, as the services take
    /// them.
    #[command(flatten)]
    pub telemetry: tanksim_telemetry::TelemetryArgs,
}

/// `tanksim keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (once: only its SHA-256 is stored).
    Create(KeysCreateArgs),
    /// The stored keys (never the keys themselves).
    List {
        /// Only this tenant's keys.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        redis: KeysRedisArg,
    },
    /// Delete a key by its id (as `list` shows it): calls with it fail from then on.
    Revoke {
        id: String,
        #[command(flatten)]
        redis: KeysRedisArg,
    },
}

/// Where keys are stored.
#[derive(Debug, Clone, Args)]
pub struct KeysRedisArg {
    #[arg(long, env = "TANKSIM_REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_env_values = true)]
    pub redis_url: String,
}

#[derive(Debug, Args)]
pub struct KeysCreateArgs {
    /// The tenant the key acts for (a DNS label: a-z, 0-9, '-').
    #[arg(long)]
    pub tenant: String,
    /// What the key is for (shown by `list`).
    #[arg(long)]
    pub name: String,
    /// Comma-separated: jobs:submit, jobs:read, jobs:cancel, simulate, admin (all of them).
    #[arg(long, value_delimiter = ',', required = true)]
    pub scopes: Vec<String>,
    /// Days until the key expires (default: never).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u64).range(1..=36_500))]
    pub expires_in_days: Option<u64>,
    /// Store nothing: print the key and its line for a bootstrap keys file
    /// (`--api-keys-file`, e.g. a Kubernetes Secret) instead.
    #[arg(long)]
    pub file_line: bool,
    #[command(flatten)]
    pub redis: KeysRedisArg,
}
