//! An autoscaling test by simulation. No Kubernetes (so no KEDA) runs here; instead this test
//! plays KEDA and the HPA it creates, exactly as they decide (`model`), reading the real task
//! stream with the Redis commands KEDA's redis-streams scaler sends (`scaler`), while a real
//! deployment (Redis and every service as its own process, see `tanksim_e2e::Cluster`) runs
//! real jobs, and makes the worker processes follow the replicas it decides (`pods`), as the
//! Deployment would. Everything it knows about the autoscaling comes from the worker's
//! ScaledObject in the rendered overlay (`manifest`): triggers, min/max, polling, cooldown,
//! HPA behavior; the worker's visibility timeout, claim interval and shutdown grace and the
//! dispatcher's chunk size come from the same manifests.
//!
//! Time: in the cluster's seconds this scenario lasts about four minutes, so real time runs
//! [`FASTER`] times faster: KEDA polls every `pollingInterval / FASTER`, the cooldown, the
//! stabilization windows, the policy periods, the HPA's sync period and the workers'
//! visibility timeout, claim interval and shutdown grace are all divided by the same factor.
//! The formulas and counts are untouched. What cannot be sped up (simulating a chunk,
//! starting a process) is therefore `FASTER` times slower in cluster time: a conservative
//! picture of the real thing.
//!
//! The scenario, on the production overlay (the largest maximum):
//! 1. no job: every poll decides 0;
//! 2. a Monte Carlo job of `BACKLOG x lagCount x maxReplicaCount` chunks: activation on the
//!    first poll, the HPA asks for more than the maximum and gets the maximum, never more;
//!    replicas stay above 0 while anything is queued or pending and fall to 0 once nothing
//!    has been for the cooldown;
//! 3. a one-chunk job whose only worker is killed (SIGKILL) while it holds the chunk: with
//!    nothing queued, the pending-entries trigger alone keeps a replica until another worker
//!    claims the chunk after the visibility timeout; then the job succeeds and replicas fall
//!    to 0 again.
//!
//! The whole timeline (what each trigger read, what the stream really held, the decision,
//! the pods) is printed at the end, and so on failure.

mod controller;
mod manifest;
mod model;
mod pods;
mod scaler;
mod timeline;

use std::time::Duration;

use futures_util::future::join_all;
use tanksim_broker::names::{TASKS_STREAM, WORKERS_GROUP};
use tanksim_e2e::manifests::{self, Rendered};
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::JobState;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::{JOB_LIMIT, mc_tau};
use controller::Controller;
use model::{KedaAction, Measure, Spec, is_active};
use pods::Pods;
use scaler::Scaler;
use timeline::{Decision, Row, Timeline};

/// The overlay whose ScaledObject runs against real jobs: production, the largest maximum.
const OVERLAY: &str = "prod";
/// Every overlay whose ScaledObject is read and checked.
const OVERLAYS: &[&str] = &["dev", "prod"];
/// The ScaledObject under test (its `scaleTargetRef` names the Deployment).
const SCALED_OBJECT: &str = "worker";
/// How many times faster than the cluster's clock the test runs (see the module comment).
const FASTER: u32 = 10;
/// The big job's chunks, in units of `lagCount x maxReplicaCount`: the HPA's first look must
/// still find more than the maximum's worth queued, after the first worker took its share.
const BACKLOG: i64 = 3;
/// The one-chunk job runs this many times the MC-tau horizon, so its chunk takes a few
/// hundred milliseconds: long enough to kill the worker holding it.
const SLOW: f64 = 5.0;
const LIMIT: Duration = Duration::from_secs(150);

/// The ScaledObject of every overlay scales the worker Deployment on the project's stream and
/// group, with a lag trigger that wakes it on the first queued chunk and a pending-entries
/// trigger (what the live test below relies on), within the model's reach.
#[test]
fn every_overlay_scales_the_worker_on_the_task_stream() {
    for overlay in OVERLAYS {
        let rendered = manifests::render(overlay);
        let (spec, target) = manifest::scaled_object(&rendered, SCALED_OBJECT);
        assert_eq!(target, "worker", "{overlay}: the ScaledObject scales {target}");
        rendered.get("Deployment", &target);
        for t in &spec.triggers {
            assert_eq!(
                (t.stream.as_str(), t.group.as_str()),
                (TASKS_STREAM, WORKERS_GROUP),
                "{overlay}: trigger {} watches another stream or group than crates/broker/src/names.rs",
                t.name
            );
        }
        let lag = spec.triggers.iter().find(|t| t.measure == Measure::Lag);
        assert!(
            lag.is_some_and(|t| t.activation == 0),
            "{overlay}: no lag trigger activating on the first queued chunk: {:?}",
            spec.triggers
        );
        // The dispatcher keeps the lag at its backlog: KEDA reaches the maximum only if the
        // backlog asks for more.
        let dispatcher = manifest::container_env(&rendered, "dispatcher");
        let backlog = manifest::number(&dispatcher, "dispatcher", "TANKSIM_QUEUE_BACKLOG");
        let lag_count = lag.map_or(0, |t| t.target);
        assert!(
            i64::try_from(backlog).unwrap_or(i64::MAX) > i64::from(spec.max) * lag_count,
            "{overlay}: TANKSIM_QUEUE_BACKLOG={backlog} does not exceed maxReplicaCount {} x lagCount {lag_count}",
            spec.max
        );
        assert!(
            spec.triggers.iter().any(|t| t.measure == Measure::Pending),
            "{overlay}: no pending-entries trigger to keep a worker for stranded chunks: {:?}",
            spec.triggers
        );
        assert_eq!(spec.min, 0, "{overlay}: the workers should scale to zero");
        assert!(spec.max >= 1, "{overlay}: maxReplicaCount {}", spec.max);
    }
}

/// When things happened, since the ScaledObject's creation (real time).
#[derive(Debug, Default)]
struct Moments {
    submitted: Duration,
    ended: Duration,
    submitted_one: Duration,
    /// A worker was first seen holding the one chunk.
    held: Duration,
    killed: Duration,
    reclaimed: Duration,
    ended_one: Duration,
    /// The worker slot killed.
    holder: usize,
}

/// What the live scenario needs from the manifests.
#[derive(Debug)]
struct Setup {
    /// The ScaledObject on the test's clock.
    spec: Spec,
    options: Options,
    /// How long a stopped worker may take to exit.
    stop_limit: Duration,
}

fn setup(rendered: &Rendered) -> Setup {
    let (spec, target) = manifest::scaled_object(rendered, SCALED_OBJECT);
    let worker = manifest::container_env(rendered, &target);
    let dispatcher = manifest::container_env(rendered, "dispatcher");
    let millis = |key: &str| Duration::from_millis(manifest::number(&worker, &target, key)) / FASTER;
    let options = Options {
        // One slot more than the maximum: a killed pod's name is never used again.
        workers: usize::try_from(spec.max).expect("a positive maximum") + 1,
        chunk_size: manifest::number(&dispatcher, "dispatcher", "TANKSIM_CHUNK_SIZE"),
        visibility_timeout: millis("TANKSIM_VISIBILITY_TIMEOUT_MS"),
        claim_interval: millis("TANKSIM_CLAIM_INTERVAL_MS"),
        shutdown_grace: millis("TANKSIM_SHUTDOWN_GRACE_MS"),
        max_deliveries: manifest::number(&worker, &target, "TANKSIM_MAX_DELIVERIES"),
        service_env: vec![(
            "TANKSIM_QUEUE_BACKLOG".to_owned(),
            manifest::number(&dispatcher, "dispatcher", "TANKSIM_QUEUE_BACKLOG").to_string(),
        )],
        ..Options::default()
    };
    let stop_limit = options.shutdown_grace + Duration::from_secs(5);
    Setup { spec: spec.faster(FASTER), options, stop_limit }
}

/// Prints the timeline when dropped: at the end of the test, or while a failure unwinds.
struct Show<'a> {
    timeline: &'a Timeline,
    names: Vec<String>,
}

impl Drop for Show<'_> {
    fn drop(&mut self) {
        eprintln!(
            "===== autoscaling timeline (x1 = cluster time, {FASTER} x the real time):\n{}",
            self.timeline.render(&self.names)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keda_would_scale_the_workers_from_zero_to_the_max_and_back_during_real_jobs() {
    scenario("keda_would_scale_the_workers_from_zero_to_the_max_and_back_during_real_jobs", LIMIT, async {
        let rendered = manifests::render(OVERLAY);
        let Setup { spec, options, stop_limit } = setup(&rendered);
        let cluster = Cluster::start(binaries!(), options.clone()).await;
        // The harness starts every worker; an idle Deployment under KEDA has none.
        for (i, (status, took)) in join_all((0..options.workers).map(|i| cluster.term_worker(i, stop_limit)))
            .await
            .into_iter()
            .enumerate()
        {
            assert!(status.is_some_and(|s| s.success()), "worker {i} stopping: {status:?} after {took:?}");
        }

        let timeline = Timeline::new(FASTER);
        let _show =
            Show { timeline: &timeline, names: spec.triggers.iter().map(|t| t.name.clone()).collect() };
        let pods = Pods::new(&cluster, options.workers, stop_limit);
        let (wanted, follow) = watch::channel(0);
        let start = Instant::now();
        let scaler = Scaler::connect(&cluster.redis_url()).await;
        let mut controller =
            Controller::new(spec.clone(), scaler, cluster.queue().await, wanted, &pods, &timeline, start);
        let moments = tokio::select! {
            () = controller.run() => unreachable!("the control loops never end"),
            () = pods.run(follow) => unreachable!("the pods never stop following"),
            moments = drive(&cluster, &pods, &timeline, &spec, &options, start) => moments,
        };

        let rows = timeline.rows();
        eprintln!("{}", summary(&rows, &spec, &options, &moments));
        check(&rows, &spec, &options, &moments);
        assert!(pods.problems().is_empty(), "{:?}", pods.problems());
        cluster.assert_no_worker_crashes();
    })
    .await;
}

/// Polls `done` until it holds, for at most `limit`.
async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The scenario: no job, a big job, a one-chunk job whose worker is killed.
async fn drive(
    cluster: &Cluster,
    pods: &Pods<'_>,
    timeline: &Timeline,
    spec: &Spec,
    options: &Options,
    start: Instant,
) -> Moments {
    let mut m = Moments::default();
    let mut client = cluster.gateway_client();
    // Time for KEDA to see the stream empty and come back to 0 (in real time).
    let to_zero = spec.cooldown + 3 * spec.polling + Duration::from_secs(5);

    wait_for("three polls with no job", 3 * spec.polling + Duration::from_secs(5), || {
        timeline.rows().iter().filter(|r| r.is_keda()).count() >= 3
    })
    .await;

    let lag_target = spec.triggers.iter().find(|t| t.measure == Measure::Lag).map_or(1, |t| t.target);
    let chunks = BACKLOG * lag_target * i64::from(spec.max);
    let runs = u64::try_from(chunks).expect("a positive backlog") * options.chunk_size;
    let job = api::submit(&mut client, mc_tau(runs)).await;
    m.submitted = start.elapsed();
    timeline.event(m.submitted, format!("submitted a Monte Carlo job: {runs} runs in {chunks} chunks"));
    let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
    m.ended = start.elapsed();
    timeline.event(m.ended, format!("the job ended: {:?}", job.state()));
    assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
    assert_eq!(job.progress.unwrap_or_default().chunks_done, u32::try_from(chunks).unwrap(), "{job:?}");
    wait_for("back to 0 replicas after the big job", to_zero, || timeline.replicas() == 0).await;

    let mut one = mc_tau(options.chunk_size);
    one.config.as_mut().expect("mc-tau has a config").horizon *= SLOW;
    let job = api::submit(&mut client, one).await;
    m.submitted_one = start.elapsed();
    timeline.event(m.submitted_one, "submitted a one-chunk job");
    // Its one worker takes the chunk; once that pod is ready and holds it, kill it (its
    // consumer name keeps the entry).
    let deadline = Instant::now() + Duration::from_secs(15);
    m.holder = 'found: loop {
        for i in pods.ready() {
            if cluster.pending_of_worker(i).await >= 1 {
                break 'found i;
            }
        }
        assert!(Instant::now() < deadline, "no worker took the one chunk");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    m.held = start.elapsed();
    pods.kill(m.holder);
    m.killed = start.elapsed();
    timeline.event(m.killed, format!("killed worker-{} (SIGKILL) while it held the chunk", m.holder));
    let deadline =
        Instant::now() + options.visibility_timeout + options.claim_interval + Duration::from_secs(15);
    while cluster.pending_of_worker(m.holder).await > 0 {
        assert!(Instant::now() < deadline, "nobody claimed the killed worker's chunk");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    m.reclaimed = start.elapsed();
    timeline.event(m.reclaimed, format!("another worker claimed worker-{}'s chunk", m.holder));
    let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
    m.ended_one = start.elapsed();
    timeline.event(m.ended_one, format!("the one-chunk job ended: {:?}", job.state()));
    assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
    wait_for("back to 0 replicas after the one-chunk job", to_zero, || timeline.replicas() == 0).await;
    timeline.event(start.elapsed(), "back to 0 replicas");
    m
}

/// The assertions on the recorded timeline.
fn check(rows: &[Row], spec: &Spec, options: &Options, m: &Moments) {
    let index = |measure| spec.triggers.iter().position(|t| t.measure == measure).expect("checked above");
    let (lag, pending) = (index(Measure::Lag), index(Measure::Pending));
    let keda = || rows.iter().filter(|r| r.is_keda());
    let active = |r: &Row| matches!(r.decision, Decision::Keda { active: true, .. });

    // 0 before any job.
    let idle: Vec<&Row> = keda().filter(|r| r.at < m.submitted).collect();
    assert!(idle.len() >= 3, "{} polls before the job", idle.len());
    assert!(idle.iter().all(|r| r.replicas == 0 && r.pods == 0 && !active(r)), "replicas before any job");

    // Never above the maximum, and the maximum was needed: the HPA asked for more.
    assert!(
        rows.iter().all(|r| r.replicas <= spec.max && r.pods <= spec.max),
        "above maxReplicaCount {}",
        spec.max
    );
    assert!(
        rows.iter()
            .any(|r| matches!(&r.decision, Decision::Hpa(s) if s.desired.is_some_and(|d| d > spec.max))
                && r.replicas == spec.max),
        "the HPA never asked for more than maxReplicaCount {} (make the job bigger)",
        spec.max
    );

    // Above 0 whenever KEDA's poll found work queued or pending, and at every decision from
    // the first poll after a submission to the job's end.
    for r in keda().filter(|r| r.queued > 0 || r.pending > 0) {
        assert!(r.replicas >= 1, "at {:?}: {} queued, {} pending, but 0 replicas", r.at, r.queued, r.pending);
    }
    for (from, to) in [(m.submitted, m.ended), (m.submitted_one, m.ended_one)] {
        let first = keda().find(|r| r.at > from).expect("a poll after the submission").at;
        assert!(first - from <= 2 * spec.polling, "no poll within the polling interval");
        let zero = rows.iter().find(|r| r.at >= first && r.at <= to && r.replicas == 0);
        assert!(zero.is_none(), "0 replicas while a job ran: {zero:?}");
    }

    // Back to 0 only once nothing had been active for the cooldown, the stream then empty.
    for ended in [m.ended, m.ended_one] {
        let zero = keda()
            .find(|r| {
                r.at >= ended && matches!(r.decision, Decision::Keda { action: KedaAction::ScaledToZero, .. })
            })
            .expect("scaled to zero after the job");
        let last = rows
            .iter()
            .rev()
            .find(|r| r.is_keda() && r.at < zero.at && active(r))
            .expect("active during the job");
        let quiet = zero.at - last.at;
        assert!(
            quiet > spec.cooldown && quiet <= spec.cooldown + 2 * spec.polling,
            "scaled to zero {quiet:?} after the last activity (cooldown {:?})",
            spec.cooldown
        );
        for r in keda().filter(|r| r.at > last.at && r.at <= zero.at) {
            assert!(r.queued == 0 && r.pending == 0 && r.before >= 1, "cooling down: {r:?}");
        }
    }

    // The killed worker's chunk: nothing queued, the pending trigger alone kept a replica
    // until another worker claimed the chunk, which it could only after the visibility
    // timeout.
    let stranded: Vec<&Row> = rows.iter().filter(|r| r.at > m.killed && r.at < m.reclaimed).collect();
    assert!(
        stranded.iter().filter(|r| r.is_keda()).count() >= 2,
        "too few polls while the chunk was stranded"
    );
    for r in &stranded {
        assert!(r.replicas >= 1, "0 replicas while worker-{}'s chunk was stranded: {r:?}", m.holder);
        if r.is_keda() {
            assert!(
                r.value(pending).is_some_and(|p| p >= 1),
                "the pending trigger did not see the chunk: {r:?}"
            );
            assert!(
                !is_active(&spec.triggers[lag], &r.reads[lag].reading),
                "the lag trigger was active: {r:?}"
            );
            assert!(active(r), "KEDA was not active: {r:?}");
        }
    }
    assert!(
        m.reclaimed - m.held + Duration::from_millis(100) >= options.visibility_timeout,
        "claimed {:?} after the worker was seen holding it, before the visibility timeout {:?}",
        m.reclaimed - m.held,
        options.visibility_timeout
    );
}

/// The numbers worth reporting, in cluster time (real time x [`FASTER`]).
fn summary(rows: &[Row], spec: &Spec, options: &Options, m: &Moments) -> String {
    let x = |d: Duration| format!("{:.1} s", (d * FASTER).as_secs_f64());
    let lag = spec.triggers.iter().position(|t| t.measure == Measure::Lag);
    let first =
        |from: Duration, n: i32| rows.iter().find(|r| r.at > from && r.replicas >= n).map(|r| r.at - from);
    let peak = rows.iter().map(|r| r.pods).max().unwrap_or(0);
    let keda_polls = rows.iter().filter(|r| r.is_keda() && r.at > m.submitted && r.at < m.ended).count();
    let null = rows
        .iter()
        .filter(|r| r.at > m.submitted && r.at < m.ended && lag.is_some_and(|i| r.reads[i].null_lag))
        .count();
    let during = rows.iter().filter(|r| r.at > m.submitted && r.at < m.ended).count();
    // Without the pending trigger, KEDA's last activity before the kill would have been the
    // last poll whose lag was above the activation threshold.
    let lag_only = lag.and_then(|i| {
        rows.iter()
            .rev()
            .find(|r| r.is_keda() && r.at < m.killed && is_active(&spec.triggers[i], &r.reads[i].reading))
            .map(|r| r.at + spec.cooldown)
    });
    let mut out = String::from("===== autoscaling summary (cluster time):\n");
    out += &format!(
        "big job: first replica {} after submission, {} replicas after {}, peak {peak} pods, \
         job took {}, {keda_polls} KEDA polls\n",
        first(m.submitted, 1).map_or("never".into(), x),
        spec.max,
        first(m.submitted, spec.max).map_or("never".into(), x),
        x(m.ended - m.submitted),
    );
    out += &format!("lag read as NULL by XINFO GROUPS in {null} of {during} reads during the big job\n");
    let zero = |ended: Duration| {
        rows.iter()
            .find(|r| r.at > ended && r.replicas == 0)
            .map_or("never".to_owned(), |r| format!("{} after the job ended", x(r.at - ended)))
    };
    out +=
        &format!("back to 0 replicas: {} (big job), {} (one-chunk job)\n", zero(m.ended), zero(m.ended_one));
    out += &format!(
        "killed worker: chunk claimed {} after the kill (visibility timeout {}); \
         a lag-only ScaledObject would have scaled to zero {}\n",
        x(m.reclaimed - m.killed),
        x(options.visibility_timeout),
        lag_only.map_or("never".to_owned(), |t| {
            if t < m.reclaimed {
                format!("{} before the claim", x(m.reclaimed - t))
            } else {
                format!("{} after the claim", x(t - m.reclaimed))
            }
        }),
    );
    out
}
