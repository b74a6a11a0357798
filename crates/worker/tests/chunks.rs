//! A worker processing chunks (memory backends, a fake results service, real sockets): the
//! reported summary is exactly the batch kernel's, whatever the thread count; the entry is
//! acknowledged only after results confirmed; rows for sweeps and datasets; cancelled jobs'
//! chunks acknowledged without work; chunks delivered too often dead-lettered with a reason.

mod harness;

use std::sync::atomic::Ordering;
use std::time::Duration;

use harness::{
    FakeResults, Worker, create_job, eventually, expected_summary, mc_tau, reported_summary, settings,
    summary_bits,
};
use tanksim_broker::{JobStore, MemoryQueue, MemoryStore, TaskQueue};
use tanksim_sim_core::SimConfig;
use tanksim_sim_core::job::{Goal, JobSpec, MonteCarlo, Objective, Sweep};
use tanksim_sim_core::metric::Metric;
use tanksim_sim_core::param::Param;
use tanksim_sim_core::sweep::{Axis, AxisValues};
use tanksim_worker::WorkerSettings;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_is_reported_with_the_batch_kernels_summary_and_acked_only_after_results_confirmed() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let spec = mc_tau(5_000, 42);
    let tasks = create_job(&store, "job-a", &spec, 2_000).await;
    // Results refuses until told otherwise.
    results.refuse.store(u32::MAX, Ordering::SeqCst);
    queue.enqueue(&tasks[1..2]).await.expect("enqueued");
    let worker = Worker::start(settings("w1"), queue.clone(), store.clone(), &url).await;

    eventually(WAIT, "two refused report attempts", || async {
        results.attempts.load(Ordering::SeqCst) >= 2
    })
    .await;
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.length, stats.pending), (1, 1), "not acknowledged while results refuses");
    assert!(results.reports().is_empty());

    results.refuse.store(0, Ordering::SeqCst);
    eventually(WAIT, "the chunk acknowledged", || async { queue.stats().await.expect("stats").length == 0 })
        .await;
    let reports = results.reports();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(
        (report.job_id.as_str(), report.chunk, report.run_start, report.run_end),
        ("job-a", 1, 2_000, 4_000)
    );
    assert_eq!(report.worker, "w1");
    assert!(report.rows.is_empty(), "Monte Carlo reports carry no rows");
    let summary = reported_summary(report);
    assert_eq!(summary.runs(), 2_000);
    assert_eq!(summary_bits(&summary), summary_bits(&expected_summary(&spec, &tasks[1])));
    assert_eq!(queue.stats().await.expect("stats").pending, 0);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_is_identical_for_any_thread_count() {
    let spec = mc_tau(3_001, 7);
    let mut seen = Vec::new();
    for threads in [1, 2, 3] {
        let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
        let url = results.start().await;
        let tasks = create_job(&store, "job-t", &spec, 3_001).await;
        queue.enqueue(&tasks).await.expect("enqueued");
        let worker = Worker::start(WorkerSettings { threads, ..settings("w") }, queue, store, &url).await;
        eventually(WAIT, "the report", || async { !results.reports().is_empty() }).await;
        worker.stop().await;
        seen.push(summary_bits(&reported_summary(&results.reports()[0])));
        if threads == 1 {
            assert_eq!(seen[0], summary_bits(&expected_summary(&spec, &tasks[0])));
        }
    }
    assert_eq!(seen[0], seen[1], "1 vs 2 threads");
    assert_eq!(seen[0], seen[2], "1 vs 3 threads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeps_report_values_and_datasets_report_trajectories_in_run_order() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let sweep = JobSpec::Sweep(Sweep {
        base: SimConfig::mc_tau(10.0),
        axes: vec![
            Axis { param: Param::Kp, values: AxisValues::Linspace { start: 1.0, stop: 3.0, num: 5 } },
            Axis { param: Param::Tau, values: AxisValues::List(vec![5.0, 10.0, 20.0]) },
        ],
        objective: Objective { metric: Metric::Ise, goal: Goal::Minimize },
        seed: 1,
    });
    let mut dataset_base = SimConfig::mc_tau(10.0);
    dataset_base.record = tanksim_sim_core::config::Recording::Every(100);
    let dataset = JobSpec::Dataset(MonteCarlo {
        base: dataset_base,
        ..match mc_tau(20, 3) {
            JobSpec::MonteCarlo(mc) => mc,
            _ => unreachable!(),
        }
    });
    let mut tasks = create_job(&store, "sweep", &sweep, 10).await;
    tasks.extend(create_job(&store, "data", &dataset, 20).await);
    queue.enqueue(&tasks[1..]).await.expect("enqueued");
    let worker = Worker::start(settings("w"), queue, store, &url).await;
    eventually(WAIT, "two reports", || async { results.reports().len() == 2 }).await;
    worker.stop().await;

    let reports = results.reports();
    let sweep_report = reports.iter().find(|r| r.job_id == "sweep").expect("sweep reported");
    assert_eq!(sweep_report.rows.iter().map(|r| r.run).collect::<Vec<_>>(), (10..15).collect::<Vec<_>>());
    // Run 10 of a 5 x 3 grid, first axis slowest: kp = linspace(1, 3, 5)[3] = 2.5, tau = 10.
    let params = &sweep_report.rows[0].params;
    assert!(params.len() == 2 && (params[0] - 2.5).abs() < 1e-12 && params[1] == 10.0, "{params:?}");
    assert!(sweep_report.rows.iter().all(|r| r.metrics.len() == 13 && r.trajectory.is_none()));
    let summary = reported_summary(sweep_report);
    let ise: Vec<f64> = sweep_report.rows.iter().map(|r| r.metrics[Metric::Ise.index()]).collect();
    assert_eq!(summary.metric(Metric::Ise).min(), ise.iter().copied().reduce(f64::min));

    let data_report = reports.iter().find(|r| r.job_id == "data").expect("dataset reported");
    assert_eq!(data_report.rows.len(), 20);
    let trajectory = data_report.rows[0].trajectory.as_ref().expect("recorded");
    // 6,000 steps kept every 100th sample, and the last: 61 samples.
    assert_eq!((trajectory.t.len(), trajectory.h.len()), (61, 61));
    assert_eq!(
        summary_bits(&reported_summary(data_report)),
        summary_bits(&expected_summary(&dataset, &tasks[2]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_jobs_chunks_are_acknowledged_without_a_report() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let cancelled = create_job(&store, "cancelled", &mc_tau(1_000, 1), 500).await;
    store.cancel("cancelled", "cancelled by the user", 2).await.expect("cancel").expect("known");
    let live = create_job(&store, "live", &mc_tau(100, 1), 100).await;
    queue.enqueue(&cancelled).await.expect("enqueued");
    queue.enqueue(&live).await.expect("enqueued");
    let worker = Worker::start(settings("w"), queue.clone(), store, &url).await;
    eventually(WAIT, "every entry acknowledged", || async {
        queue.stats().await.expect("stats").length == 0
    })
    .await;
    worker.stop().await;
    let reports = results.reports();
    assert_eq!(reports.iter().map(|r| r.job_id.as_str()).collect::<Vec<_>>(), ["live"]);
    assert!(results.failures().is_empty());
    assert!(queue.dead_letters(10).await.expect("dead letters").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_delivered_too_often_is_dead_lettered_and_its_failure_reported() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let tasks = create_job(&store, "poison", &mc_tau(100, 1), 50).await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&tasks[1..]).await.expect("enqueued");
    // Three workers took it and died: delivered 3 times, still pending.
    assert_eq!(queue.read_new("ghost", 1, Duration::ZERO).await.expect("read").len(), 1);
    for _ in 0..2 {
        assert_eq!(queue.claim_idle("ghost", Duration::ZERO, 1).await.expect("claim").len(), 1);
    }
    let quick = WorkerSettings {
        visibility_timeout: Duration::from_millis(200),
        claim_interval: Duration::from_millis(50),
        ..settings("w")
    };
    let worker = Worker::start(quick, queue.clone(), store, &url).await;
    eventually(WAIT, "the failure reported", || async { !results.failures().is_empty() }).await;
    eventually(WAIT, "the dead letter", || async { !queue.dead_letters(10).await.expect("dead").is_empty() })
        .await;
    worker.stop().await;

    let failure = &results.failures()[0];
    assert_eq!((failure.job_id.as_str(), failure.chunk, failure.deliveries), ("poison", 1, 4));
    assert!(
        failure.reason.contains("chunk 1 of job poison was delivered 4 times")
            && failure.reason.contains("max 3"),
        "{}",
        failure.reason
    );
    let dead = queue.dead_letters(10).await.expect("dead letters");
    assert_eq!((dead.len(), dead[0].task.chunk, dead[0].reason.as_str()), (1, 1, failure.reason.as_str()));
    assert!(results.reports().is_empty(), "never simulated");
    assert_eq!(queue.stats().await.expect("stats").length, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_that_no_longer_converts_fails_the_chunk_with_the_reason() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let job = tanksim_broker::NewJob {
        id: "bad".into(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: "bad".into(),
        kind: tanksim_broker::JobKind::MonteCarlo,
        spec: vec![0xff, 0xff, 0xff],
        runs_total: 10,
        chunk_size: 10,
        chunks_total: 1,
        chunks_released: 1,
        submitted_at_ms: 1,
        trace_context: Vec::new(),
    };
    store.create_job(&job).await.expect("created");
    let task = tanksim_broker::Task {
        job_id: "bad".into(),
        chunk: 0,
        run_start: 0,
        run_end: 10,
        trace_context: vec![],
    };
    queue.enqueue(&[task]).await.expect("enqueued");
    let worker = Worker::start(settings("w"), queue.clone(), store, &url).await;
    eventually(WAIT, "the dead letter", || async { !queue.dead_letters(10).await.expect("dead").is_empty() })
        .await;
    worker.stop().await;
    let failures = results.failures();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].reason.contains("chunk 0 of job bad: the stored job spec does not decode"),
        "{}",
        failures[0].reason
    );
}
