//! The dispatcher over real sockets: jobs are recorded and answered at once, chunks reach the
//! stream with the right run ranges, cancel stops them, a restarted dispatcher resumes, bad
//! jobs are refused with the field named, a cancel is counted in the job metrics.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed setup step should just fail the test

#[path = "support/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{mc_tau_spec, settings, start, wait_for};
use tanksim_broker::{JobState, JobStore, MemoryQueue, MemoryStore, NewJob, TaskQueue};
use tanksim_dispatcher::DispatcherSettings;
use tanksim_proto::internal::v1::{CancelJobRequest, DispatchJobRequest};
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_test_util::telemetry::sample;

#[tokio::test]
async fn a_job_is_recorded_at_once_and_its_chunks_cover_every_run() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let d = start(queue.clone(), store.clone(), settings(10_000, 2)).await;
    let job =
        d.client.clone().dispatch_job(DispatchJobRequest { spec: Some(mc_tau_spec(25_001)) }).await.unwrap();
    let job = job.into_inner().job.unwrap();
    assert_eq!(job.name, "mc-tau");
    assert_eq!(job.progress.unwrap().chunks_total, 3);
    assert_eq!(job.progress.unwrap().runs_total, 25_001);
    let id = job.id.clone();
    wait_for(|| {
        let store = store.clone();
        let id = id.clone();
        async move { store.job(&id).await.unwrap().unwrap().chunks_enqueued == 3 }
    })
    .await;
    let tasks = queue.read_new("t", 10, Duration::from_millis(10)).await.unwrap();
    let ranges: Vec<_> = tasks.iter().map(|d| (d.task.chunk, d.task.run_start, d.task.run_end)).collect();
    assert_eq!(ranges, vec![(0, 0, 10_000), (1, 10_000, 20_000), (2, 20_000, 25_001)]);
    assert!(tasks.iter().all(|d| d.task.job_id == id));
    d.stop().await;
}

#[tokio::test]
async fn an_adaptive_job_is_placed_a_wave_at_a_time_and_leaves_when_stopped() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let d = start(queue.clone(), store.clone(), settings(300, 4)).await;
    let mut spec = mc_tau_spec(100_000);
    let Some(tanksim_proto::v1::submit_job_request::Job::MonteCarlo(mc)) = &mut spec.job else {
        unreachable!()
    };
    mc.stop = Some(tanksim_proto::v1::MonteCarloStop {
        metric: tanksim_proto::v1::Metric::Iae as i32,
        target: Some(tanksim_proto::v1::monte_carlo_stop::Target::HalfWidth(0.01)),
        confidence_level: 0.95,
        batch_runs: 1_000,
        quantile: 0.0,
    });
    let job = d.client.clone().dispatch_job(DispatchJobRequest { spec: Some(spec) }).await.unwrap();
    let job = job.into_inner().job.unwrap();
    // Chunks of 250 (the largest divisor of the batch within 300): the first wave is 4 of 400.
    let p = job.progress.unwrap();
    assert_eq!((p.chunks_total, p.runs_total, p.runs_released), (400, 100_000, 1_000));
    let id = job.id.clone();
    let enqueued = || {
        let (store, id) = (store.clone(), id.clone());
        move |n: u32| {
            let (store, id) = (store.clone(), id.clone());
            async move { store.job(&id).await.unwrap().unwrap().chunks_enqueued == n }
        }
    };
    wait_for(|| enqueued()(4)).await;
    let first = queue.read_new("t", 100, Duration::from_millis(10)).await.unwrap();
    let ranges: Vec<_> = first.iter().map(|d| (d.task.chunk, d.task.run_start, d.task.run_end)).collect();
    assert_eq!(ranges, [(0, 0, 250), (1, 250, 500), (2, 500, 750), (3, 750, 1_000)]);
    // Nothing more until the next wave is released, however long it waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.job(&id).await.unwrap().unwrap().chunks_enqueued, 4);
    assert!(queue.read_new("t", 100, Duration::from_millis(10)).await.unwrap().is_empty());

    store.release(&id, 12).await.unwrap();
    wait_for(|| enqueued()(12)).await;
    let second = queue.read_new("t", 100, Duration::from_millis(10)).await.unwrap();
    let chunks: Vec<u32> = second.iter().map(|d| d.task.chunk).collect();
    assert_eq!(chunks, (4..12).collect::<Vec<_>>());

    // Stopped at the end of the second wave: the job is done with, nothing more is placed.
    for chunk in 0..12 {
        store.record_chunk(&id, chunk, 250, b"s", 1).await.unwrap();
    }
    let stopped = store.stop_early(&id, 12, 3_000, 2).await.unwrap().unwrap();
    assert!(stopped.stopped && stopped.status.state == JobState::Succeeded, "{stopped:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(queue.read_new("t", 100, Duration::from_millis(10)).await.unwrap().is_empty());
    d.stop().await;
}

#[tokio::test]
async fn cancel_marks_the_job_and_unknown_ids_are_not_found() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let d = start(queue, store.clone(), DispatcherSettings::default()).await;
    let mut client = d.client.clone();
    let job =
        client.dispatch_job(DispatchJobRequest { spec: Some(mc_tau_spec(100)) }).await.unwrap().into_inner();
    let id = job.job.unwrap().id;
    let cancelled =
        client.cancel_job(CancelJobRequest { id: id.clone() }).await.unwrap().into_inner().job.unwrap();
    assert_eq!(cancelled.state(), tanksim_proto::v1::JobState::Cancelled);
    assert_eq!(store.job(&id).await.unwrap().unwrap().state, JobState::Cancelled);
    let missing = client.cancel_job(CancelJobRequest { id: "nope".into() }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let empty = client.cancel_job(CancelJobRequest { id: String::new() }).await.unwrap_err();
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
    d.stop().await;
}

// The recorder is thread-local: the test's single-threaded runtime runs the dispatcher on it.
#[tokio::test]
async fn a_cancel_that_ends_a_job_is_counted_once_with_its_duration() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let d = start(MemoryQueue::new(), MemoryStore::new(), DispatcherSettings::default()).await;
    let mut client = d.client.clone();
    let cancelled = || {
        sample(
            &handle.render(),
            "simulation_jobs_finished_total",
            &[("kind", "monte_carlo"), ("state", "cancelled")],
        )
    };
    let durations = || {
        sample(
            &handle.render(),
            "simulation_job_duration_seconds_count",
            &[("kind", "monte_carlo"), ("state", "cancelled")],
        )
    };

    let job = client.dispatch_job(DispatchJobRequest { spec: Some(mc_tau_spec(100)) }).await.unwrap();
    assert_eq!(cancelled(), Some(0.0), "present at zero from the start");
    assert_eq!(
        sample(
            &handle.render(),
            "simulation_jobs_finished_total",
            &[("kind", "sweep"), ("state", "cancelled")]
        ),
        Some(0.0)
    );
    let id = job.into_inner().job.unwrap().id;
    client.cancel_job(CancelJobRequest { id: id.clone() }).await.unwrap();
    assert_eq!(cancelled(), Some(1.0));
    assert_eq!(durations(), Some(1.0));
    client.cancel_job(CancelJobRequest { id }).await.unwrap();
    assert_eq!(cancelled(), Some(1.0), "cancelling a cancelled job ends nothing");
    assert_eq!(durations(), Some(1.0));
    d.stop().await;
}

#[tokio::test]
async fn invalid_jobs_are_refused_naming_the_field() {
    let d = start(MemoryQueue::new(), MemoryStore::new(), DispatcherSettings::default()).await;
    let mut spec = mc_tau_spec(100);
    if let Some(c) = spec.config.as_mut() {
        c.dt = -1.0;
    }
    let err = d.client.clone().dispatch_job(DispatchJobRequest { spec: Some(spec) }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("config.dt"), "{}", err.message());
    let err = d.client.clone().dispatch_job(DispatchJobRequest { spec: None }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    d.stop().await;
}

#[tokio::test]
async fn a_restarted_dispatcher_resumes_unfinished_jobs() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    // A job a previous dispatcher recorded and enqueued one of four chunks of, then died.
    let spec = prost::Message::encode_to_vec(&mc_tau_spec(40));
    let job = NewJob {
        id: "j1".into(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: "left over".into(),
        kind: tanksim_broker::JobKind::MonteCarlo,
        spec,
        runs_total: 40,
        chunk_size: 10,
        chunks_total: 4,
        chunks_released: 4,
        submitted_at_ms: 1,
        trace_context: Vec::new(),
    };
    store.create_job(&job).await.unwrap();
    store.mark_enqueued("j1", 1).await.unwrap();
    let d = start(queue.clone(), store.clone(), settings(10, 1)).await;
    wait_for(|| {
        let store = store.clone();
        async move { store.job("j1").await.unwrap().unwrap().chunks_enqueued == 4 }
    })
    .await;
    let chunks: Vec<u32> = queue
        .read_new("t", 10, Duration::from_millis(10))
        .await
        .unwrap()
        .iter()
        .map(|d| d.task.chunk)
        .collect();
    assert_eq!(chunks, vec![1, 2, 3]);
    d.stop().await;
}

#[test]
fn jobs_with_rows_get_chunks_that_keep_reports_small() {
    use tanksim_dispatcher::service::chunk_size_for;
    use tanksim_sim_core::config::Recording;
    use tanksim_sim_core::job::JobSpec;
    let mc = mc_tau_job(1_000_000, 1);
    assert_eq!(chunk_size_for(&mc, 10_000), 10_000);
    let JobSpec::MonteCarlo(mut inner) = mc else { unreachable!() };
    inner.base.record = Recording::Every(50);
    let dataset = JobSpec::Dataset(inner.clone());
    let size = chunk_size_for(&dataset, 10_000);
    // 121 samples x 4 series x 8 bytes ~ 3.9 KB a run: about 2,000 runs in 8 MiB.
    assert!((1_900..=2_200).contains(&size), "{size}");
    inner.base.record = Recording::None;
    // Without trajectories a row is ~130 bytes: the configured size already fits.
    assert_eq!(chunk_size_for(&JobSpec::Dataset(inner.clone()), 10_000), 10_000);
    assert_eq!(chunk_size_for(&JobSpec::Dataset(inner), 1_000_000), (8 << 20) / (16 + 8 * 14));
}

#[test]
fn an_optimisation_gets_chunks_that_divide_its_generation() {
    use tanksim_dispatcher::service::chunk_size_for;
    use tanksim_sim_core::job::{Goal, JobSpec, Objective};
    use tanksim_sim_core::optimize::{Bound, Optimize, Robust, Statistic};
    use tanksim_sim_core::sampling::Sampling;
    use tanksim_sim_core::{Metric, Param, SimConfig};
    let robust = Robust { params: vec![], runs: 200, statistic: Statistic::Mean, sampling: Sampling::Random };
    let mut opt = Optimize {
        base: SimConfig::mc_tau(10.0),
        params: vec![Bound { param: Param::Kp, lo: 0.1, hi: 10.0, start: 2.0 }],
        objective: Objective { metric: Metric::Ise, goal: Goal::Minimize },
        population: 6,
        generations: 10,
        seed: 1,
        x_tolerance: 1e-3,
        initial_step: 0.3,
        robust: Some(robust),
    };
    // 6 candidates x 200 runs: chunks of 600 within 1,000, of 1,200 within 10,000.
    assert_eq!(chunk_size_for(&JobSpec::Optimize(opt.clone()), 1_000), 600);
    assert_eq!(chunk_size_for(&JobSpec::Optimize(opt.clone()), 10_000), 1_200);
    opt.robust = None;
    assert_eq!(chunk_size_for(&JobSpec::Optimize(opt.clone()), 1_000), 6);
    let job = JobSpec::Optimize(opt);
    assert_eq!((job.first_wave(), job.runs()), (6, 60));
}

#[tokio::test]
async fn the_limits_are_the_configured_ones_not_the_defaults() {
    // 1,500,000 steps: over the default step limit.
    let mut spec = mc_tau_spec(1);
    spec.config.as_mut().unwrap().horizon = 15_000.0;
    let request = || DispatchJobRequest { spec: Some(spec.clone()) };

    let d = start(MemoryQueue::new(), MemoryStore::new(), DispatcherSettings::default()).await;
    let err = d.client.clone().dispatch_job(request()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("config.horizon"), "{}", err.message());
    d.stop().await;

    // Raised as the gateway's are (the same options): accepted.
    let limits = tanksim_server::LimitsArgs { max_steps: 2_000_000, ..Default::default() };
    let d =
        start(MemoryQueue::new(), MemoryStore::new(), DispatcherSettings { limits, ..Default::default() })
            .await;
    let job = d.client.clone().dispatch_job(request()).await.unwrap().into_inner().job.unwrap();
    assert_eq!(job.progress.unwrap().runs_total, 1);
    d.stop().await;
}

#[tokio::test]
async fn requests_up_to_the_edge_limit_are_accepted() {
    // ~10 MB: over tonic's default 4 MiB, under the 16 MiB the gateway accepts.
    let mut spec = mc_tau_spec(1);
    let values: Vec<f64> = (0..1_300_000).map(|i| 5.0 + f64::from(i % 1000) * 0.01).collect();
    spec.job = Some(tanksim_proto::v1::submit_job_request::Job::MonteCarlo(tanksim_proto::v1::MonteCarlo {
        runs: 1,
        seed: 1,
        params: vec![tanksim_proto::v1::ParamDistribution {
            param: "plant.tau".into(),
            distribution: Some(tanksim_proto::v1::param_distribution::Distribution::Choice(
                tanksim_proto::v1::Choice { values, weights: Vec::new() },
            )),
        }],
        ..Default::default()
    }));
    assert!(prost::Message::encoded_len(&spec) > 10_000_000);
    let d = start(MemoryQueue::new(), MemoryStore::new(), DispatcherSettings::default()).await;
    let job = d.client.clone().dispatch_job(DispatchJobRequest { spec: Some(spec) }).await;
    assert!(job.is_ok(), "{job:?}");
    d.stop().await;
}

#[tokio::test]
async fn ids_that_no_job_could_have_are_refused_before_the_store() {
    let d = start(MemoryQueue::new(), MemoryStore::new(), DispatcherSettings::default()).await;
    for id in ["*", "a?", "[x]", "../etc", "a/b", &"x".repeat(65)] {
        let err = d.client.clone().cancel_job(CancelJobRequest { id: id.into() }).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{id}");
        assert!(err.message().contains("id:"), "{id}: {}", err.message());
    }
    d.stop().await;
}
