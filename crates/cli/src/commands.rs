//! What each subcommand does.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tanksim_proto::v1::{GetJobResultsResponse, JobState, ListJobsRequest};
use tanksim_sim_core::validate::Limits;

use crate::cli::{Cli, Command, ExportFormat, RunArgs};
use crate::client::{self, Client, describe_status, state_name};
use crate::{embedded, export, plot, report, spec};

/// `service.name` and the `service` label of `tanksim serve all` (all services in one).
pub const SERVICE_NAME: &str = "tanksim";

/// Starts telemetry for the command line `cli`: `serve` runs services and starts it as they
/// do (JSON logs on stdout, traces, the metrics port); the other commands log to stderr, as
/// their stdout is their output.
pub fn telemetry(cli: &Cli) -> Result<tanksim_telemetry::Guard, tanksim_telemetry::Error> {
    match &cli.command {
        Command::Serve(a) => {
            let mut config = a.telemetry.config(SERVICE_NAME, env!("CARGO_PKG_VERSION"));
            // `tanksim --log-filter F serve all`: the global option, given before `serve`.
            config.filter = config.filter.or_else(|| cli.log_filter.clone());
            tanksim_telemetry::init(&config)
        }
        _ => Ok(tanksim_telemetry::init_stderr(SERVICE_NAME, cli.log_filter.as_deref())),
    }
}

/// Runs one subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(args) => run_embedded(args).await,
        Command::Validate { spec, json } => validate(&spec, json),
        Command::Submit(args) => {
            let spec = spec::load(&args.spec)?;
            let mut c = client::connect_to(&args.gateway).await?;
            let job = client::submit(&mut c, spec).await?;
            println!("{}", job.id);
            if args.watch {
                finish(&mut c, &job.id, None).await?;
            }
            Ok(())
        }
        Command::Watch(a) => {
            let mut c = client::connect_to(&a.gateway).await?;
            let job = client::watch(&mut c, &a.id, true).await?;
            println!("{}", report::job_line(&job));
            Ok(())
        }
        Command::Status(a) => {
            let mut c = client::connect_to(&a.gateway).await?;
            println!("{}", report::job_line(&client::status(&mut c, &a.id).await?));
            Ok(())
        }
        Command::Results(a) => {
            let mut c = client::connect_to(&a.gateway).await?;
            let results = client::results(&mut c, &a.id, 20).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            } else {
                print!("{}", report::results_table(&results));
            }
            if let Some(dir) = a.plots {
                write_plots(&dir, &results)?;
            }
            Ok(())
        }
        Command::Export(a) => {
            let mut c = client::connect_to(&a.gateway).await?;
            let files = export_rows(&mut c, &a.id, a.format, &a.out).await?;
            for f in files {
                eprintln!("wrote {}", f.display());
            }
            Ok(())
        }
        Command::Cancel(a) => {
            let mut c = client::connect_to(&a.gateway).await?;
            let r = c
                .cancel_job(tanksim_proto::v1::CancelJobRequest { id: a.id })
                .await
                .map_err(describe_status)?;
            if let Some(job) = r.into_inner().job {
                println!("{}", report::job_line(&job));
            }
            Ok(())
        }
        Command::List(a) => {
            let mut c = client::connect_to(&a.gateway).await?;
            let r = c
                .list_jobs(ListJobsRequest { page_size: a.page_size, page_token: String::new() })
                .await
                .map_err(describe_status)?
                .into_inner();
            for job in &r.jobs {
                println!("{}", report::job_line(job));
            }
            Ok(())
        }
        Command::Serve(a) => embedded::serve_all(*a).await,
        Command::Keys(k) => crate::keys::run(k).await,
    }
}

/// `tanksim validate`: the same checks the gateway makes, offline.
fn validate(path: &Path, json: bool) -> anyhow::Result<()> {
    let spec = spec::load(path)?;
    match tanksim_proto::convert::job_spec_from_request(&spec, &Limits::default()) {
        Ok(job) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&spec)?);
            } else {
                println!("valid: {} job, {} runs", job.spec().kind_name(), job.spec().runs());
            }
            Ok(())
        }
        Err(violations) => {
            for v in &violations {
                eprintln!("  {}: {}", v.field, v.reason);
            }
            bail!("{} invalid field(s) in {}", violations.len(), path.display())
        }
    }
}

/// `tanksim run`: the whole pipeline in this process.
async fn run_embedded(args: RunArgs) -> anyhow::Result<()> {
    let spec = spec::load(&args.spec)?;
    let name = if spec.name.is_empty() { None } else { Some(spec.name.clone()) };
    let system = embedded::start(embedded::Options {
        workers: args.workers.max(1),
        chunk_size: args.chunk_size,
        data_dir: args.data_dir.clone(),
    })
    .await?;
    let outcome = async {
        let mut c = client::connect(&system.gateway_url, None).await?;
        let job = client::submit(&mut c, spec).await?;
        let p = job.progress.unwrap_or_default();
        let at_most = if p.runs_released < p.runs_total { "at most " } else { "" };
        eprintln!("job {} accepted: {at_most}{} runs", job.id, p.runs_total);
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("tanksim-out").join(name.as_deref().unwrap_or(&job.id)));
        let results = finish(&mut c, &job.id, Some(&out)).await?;
        if !args.no_plots {
            write_plots(&out, &results)?;
        }
        for format in &args.export {
            let ext = match format {
                ExportFormat::Csv => "csv",
                ExportFormat::Parquet => "parquet",
            };
            let path = out.join(format!("runs.{ext}"));
            for f in export_rows(&mut c, &job.id, *format, &path).await? {
                eprintln!("wrote {}", f.display());
            }
        }
        anyhow::Ok(())
    }
    .await;
    system.shutdown().await;
    outcome
}

/// Watches a job to its end and prints its results; errors if it did not succeed.
async fn finish(c: &mut Client, id: &str, out: Option<&Path>) -> anyhow::Result<GetJobResultsResponse> {
    let job = client::watch(c, id, true).await?;
    let results = client::results(c, id, 20).await?;
    print!("{}", report::results_table(&results));
    if let Some(out) = out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let path = out.join("results.json");
        std::fs::write(&path, serde_json::to_string_pretty(&results)?)?;
        eprintln!("wrote {}", path.display());
    }
    if job.state() != JobState::Succeeded {
        bail!("job {} {}: {}", job.id, state_name(job.state()), job.error);
    }
    Ok(results)
}

fn write_plots(dir: &Path, results: &GetJobResultsResponse) -> anyhow::Result<()> {
    let files = plot::histograms(dir, report::plottable(&results.metrics))?;
    eprintln!("wrote {} histograms into {}", files.len(), dir.display());
    if let Some(svg) = results.sweep.as_ref().and_then(plot::heatmap_svg) {
        let path = dir.join("sweep-heatmap.svg");
        std::fs::write(&path, svg)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(sensitivity) = &results.sensitivity {
        let files = plot::sensitivity_charts(dir, sensitivity)?;
        eprintln!("wrote {} Sobol' index charts into {}", files.len(), dir.display());
    }
    if let Some(svg) = results.optimize.as_ref().and_then(plot::path_svg) {
        let path = dir.join("optimize-path.svg");
        std::fs::write(&path, svg)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

async fn export_rows(
    c: &mut Client,
    id: &str,
    format: ExportFormat,
    path: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut writer = export::writer(format, path)?;
    let rows = client::export(c, id, |batch| writer.write(batch)).await?;
    eprintln!("exported {rows} rows");
    writer.finish()
}
