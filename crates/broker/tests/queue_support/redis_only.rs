//! What only the Redis backend meets: restarts with and without persistence, lost connections,
//! and entries it did not write (malformed, or deleted while pending).

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tanksim_broker::names::{DEAD_LETTER_STREAM, TASKS_STREAM, WORKERS_GROUP};
use tanksim_broker::{RedisQueue, TaskQueue};
use tanksim_test_util::{Persistence, RedisServer};
use tokio::time::sleep;

use crate::backend::{task, traced_task};

const SHORT: Duration = Duration::from_millis(100);

async fn queue(server: &RedisServer) -> RedisQueue {
    RedisQueue::connect(&server.url()).await.expect("connects")
}

/// A plain connection, to write and read as another program would.
async fn raw(server: &RedisServer) -> MultiplexedConnection {
    let client = redis::Client::open(server.url()).expect("url");
    client.get_multiplexed_async_connection().await.expect("connects")
}

async fn xadd(con: &mut MultiplexedConnection, fields: &[&str]) -> String {
    redis::cmd("XADD").arg(TASKS_STREAM).arg("*").arg(fields).query_async(con).await.expect("XADD")
}

/// Reads every new entry for `consumer` as a foreign reader would (no parsing, no cleanup).
async fn foreign_read(con: &mut MultiplexedConnection, consumer: &str) {
    redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(WORKERS_GROUP)
        .arg(consumer)
        .arg("STREAMS")
        .arg(TASKS_STREAM)
        .arg(">")
        .exec_async(con)
        .await
        .expect("XREADGROUP");
}

async fn numbers(queue: &RedisQueue) -> (u64, u64, u64, u64) {
    let stats = queue.stats().await.expect("stats");
    (stats.length, stats.lag, stats.pending, stats.dead_letters)
}

#[tokio::test]
async fn pending_entries_and_the_group_survive_a_restart_with_persistence() {
    let mut server = RedisServer::start_with(Persistence::AppendOnly);
    let before = queue(&server).await;
    before.ensure_group().await.expect("group");
    before.enqueue(&[traced_task("j", 0), task("j", 1), task("j", 2)]).await.expect("enqueue");
    let read = before.read_new("c1", 2, SHORT).await.expect("read");

    server.restart();
    let after = queue(&server).await;
    let again = after.read_own_pending("c1", 10).await.expect("pending");
    assert_eq!(
        again.iter().map(|d| &d.entry_id).collect::<Vec<_>>(),
        read.iter().map(|d| &d.entry_id).collect::<Vec<_>>()
    );
    assert_eq!((again[0].task.clone(), again[0].deliveries), (traced_task("j", 0), 2));
    let rest = after.read_new("c2", 10, SHORT).await.expect("the group kept its position");
    assert_eq!(rest.iter().map(|d| d.task.chunk).collect::<Vec<_>>(), [2]);
    assert_eq!(numbers(&after).await, (3, 0, 3, 0));
    before.ping().await.expect("the old handle reconnected");
}

#[tokio::test]
async fn read_new_recreates_the_group_after_a_restart_without_persistence() {
    let mut server = RedisServer::start();
    let queue = queue(&server).await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&[task("j", 0)]).await.expect("enqueue");
    assert_eq!(queue.read_new("c1", 10, SHORT).await.expect("read").len(), 1);

    server.restart();
    assert!(queue.read_new("c1", 10, SHORT).await.expect("no error surfaces").is_empty());
    queue.enqueue(&[task("j", 1)]).await.expect("enqueue");
    let read = queue.read_new("c1", 10, SHORT).await.expect("read");
    assert_eq!(read.iter().map(|d| d.task.chunk).collect::<Vec<_>>(), [1]);
    assert_eq!(numbers(&queue).await, (1, 0, 1, 0));

    server.restart();
    assert!(queue.read_own_pending("c1", 10).await.expect("no error surfaces").is_empty());
    assert_eq!(numbers(&queue).await, (0, 0, 0, 0));
    server.restart();
    assert!(queue.claim_idle("c1", SHORT, 10).await.expect("no error surfaces").is_empty());
    queue.enqueue(&[task("j", 2)]).await.expect("enqueue");
    assert_eq!(numbers(&queue).await, (1, 1, 0, 0), "the group is back");
}

#[tokio::test]
async fn the_queue_reconnects_when_redis_comes_back() {
    let mut server = RedisServer::start();
    let queue = queue(&server).await;
    queue.ensure_group().await.expect("group");

    server.kill();
    let down = queue.ping().await.expect_err("redis is down");
    assert!(down.is_unavailable(), "{down}");
    assert!(queue.read_new("c1", 10, SHORT).await.expect_err("redis is down").is_unavailable());

    server.restart();
    let mut attempts = 0;
    while queue.ping().await.is_err() {
        attempts += 1;
        assert!(attempts < 50, "no reconnection within 5 s");
        sleep(SHORT).await;
    }
    queue.enqueue(&[task("j", 0)]).await.expect("enqueue");
    assert_eq!(queue.read_new("c1", 10, SHORT).await.expect("read").len(), 1);
}

#[tokio::test]
async fn malformed_entries_are_dead_lettered_and_skipped() {
    let server = RedisServer::start();
    let queue = queue(&server).await;
    queue.ensure_group().await.expect("group");
    let mut con = raw(&server).await;
    xadd(&mut con, &["job", "j1", "chunk", "x", "start", "0", "end", "1"]).await;
    xadd(&mut con, &["job", "j2", "chunk", "1", "start", "0"]).await;
    queue.enqueue(&[traced_task("good", 0)]).await.expect("enqueue");
    xadd(&mut con, &["job", "j3", "chunk", "1", "start", "0", "end", "1", "color", "red"]).await;
    xadd(&mut con, &["job", "j4", "chunk", "1", "chunk", "2", "start", "0", "end", "1"]).await;

    let read = queue.read_new("c1", 10, SHORT).await.expect("bad entries are no error");
    assert_eq!(
        read.iter().map(|d| (d.task.clone(), d.deliveries)).collect::<Vec<_>>(),
        [(traced_task("good", 0), 1)]
    );
    assert_eq!(numbers(&queue).await, (1, 0, 1, 4));
    assert!(queue.read_new("c1", 10, SHORT).await.expect("read").is_empty(), "they do not come back");

    let dead = queue.dead_letters(10).await.expect("dead letters");
    let summary: Vec<_> = dead.iter().map(|d| (d.task.job_id.as_str(), d.deliveries)).collect();
    assert_eq!(summary, [("j1", 1), ("j2", 1), ("j3", 1), ("j4", 1)]);
    let details =
        ["`chunk` is not a decimal", "missing field `end`", "unknown field `color`", "`chunk` appears twice"];
    for (letter, detail) in dead.iter().zip(details) {
        assert!(
            letter.reason.starts_with("malformed entry: ") && letter.reason.contains(detail),
            "{letter:?}"
        );
    }
    let copied: Vec<(String, String)> = redis::cmd("XRANGE")
        .arg(DEAD_LETTER_STREAM)
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1)
        .query_async::<Vec<(String, Vec<String>)>>(&mut con)
        .await
        .expect("XRANGE")
        .into_iter()
        .flat_map(|(_, f)| f.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect::<Vec<_>>())
        .collect();
    assert_eq!(
        copied[..4],
        [
            ("job".into(), "j1".into()),
            ("chunk".into(), "x".into()),
            ("start".into(), "0".into()),
            ("end".into(), "1".into())
        ],
        "moved verbatim"
    );
}

#[tokio::test]
async fn malformed_entries_left_pending_by_others_are_dead_lettered_when_reached() {
    let server = RedisServer::start();
    let queue = queue(&server).await;
    queue.ensure_group().await.expect("group");
    let mut con = raw(&server).await;
    xadd(&mut con, &["job", "claimed", "chunk", "nope", "start", "0", "end", "1"]).await;
    foreign_read(&mut con, "legacy").await;
    xadd(&mut con, &["job", "own", "start", "0", "end", "1"]).await;
    foreign_read(&mut con, "c9").await;

    sleep(2 * SHORT).await;
    assert!(queue.claim_idle("c1", SHORT, 1).await.expect("claim").is_empty());
    assert!(queue.read_own_pending("c9", 10).await.expect("pending").is_empty());
    let dead = queue.dead_letters(10).await.expect("dead letters");
    let summary: Vec<_> = dead.iter().map(|d| (d.task.job_id.as_str(), d.deliveries)).collect();
    assert_eq!(summary, [("claimed", 2), ("own", 2)], "counted like any delivery");
    assert_eq!(numbers(&queue).await, (0, 0, 0, 2));
}

#[tokio::test]
async fn entries_deleted_while_pending_are_skipped_and_acknowledged() {
    let server = RedisServer::start();
    let queue = queue(&server).await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&[task("j", 0), task("j", 1), task("j", 2)]).await.expect("enqueue");
    let read = queue.read_new("c1", 2, SHORT).await.expect("read");
    queue.read_new("c2", 1, SHORT).await.expect("read");
    let mut con = raw(&server).await;
    let deleted: Vec<&str> = vec![&read[0].entry_id];
    redis::cmd("XDEL").arg(TASKS_STREAM).arg(&deleted).exec_async(&mut con).await.expect("XDEL");

    let again = queue.read_own_pending("c1", 10).await.expect("pending");
    assert_eq!(again.iter().map(|d| (d.task.chunk, d.deliveries)).collect::<Vec<_>>(), [(1, 2)]);
    assert_eq!(numbers(&queue).await, (2, 0, 2, 0), "the deleted one left the pending list");
}
