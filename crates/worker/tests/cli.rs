//! The binary's contract with whoever starts it: invalid options exit 64 before anything
//! binds or connects; --help works; the test-only fault hook really kills the process.

mod harness;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tanksim_broker::{RedisQueue, RedisStore, TaskQueue};
use tanksim_test_util::RedisServer;

fn worker(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tanksim-worker"))
        .args(args)
        // Nothing listens here: a worker that got past validation would fail differently.
        .env("TANKSIM_REDIS_URL", "redis://127.0.0.1:1")
        .env_remove("TANKSIM_MAX_DELIVERIES")
        .output()
        .expect("the binary runs")
}

#[test]
fn invalid_options_exit_64_and_say_why() {
    for (args, why) in [
        (&["--max-deliveries", "0"][..], "--max-deliveries"),
        (&["--threads", "0"], "--threads"),
        (&["--visibility-timeout", "soon"], "--visibility-timeout"),
        (&["--no-such-option"], "--no-such-option"),
    ] {
        let out = worker(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
}

#[test]
fn help_lists_the_options_but_not_the_fault_hook() {
    let out = worker(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--visibility-timeout") && help.contains("TANKSIM_MAX_DELIVERIES"), "{help}");
    assert!(!help.contains("--fault") && !help.contains("--hostname"), "{help}");
}

#[tokio::test]
async fn the_fault_hook_aborts_the_process_when_it_starts_its_chunk() {
    let redis = RedisServer::start();
    let queue = RedisQueue::connect(&redis.url()).await.expect("queue");
    let store = RedisStore::connect(&redis.url()).await.expect("store");
    let tasks = harness::create_job(&store, "job", &harness::mc_tau(20, 1), 10).await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&tasks).await.expect("enqueued");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tanksim-worker"))
        .args(["--redis-url", &redis.url(), "--results-url", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"])
        .args(["--name", "doomed", "--fault-abort-on-chunk", "0"])
        // No metrics port: tests run in parallel, and the default port may be taken.
        .args(["--admin-listen", "off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the worker did not abort on chunk 0");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.signal(), Some(6), "SIGABRT: {status:?}");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.length, stats.pending), (2, 1), "chunk 0 left pending on the dead worker");
}
