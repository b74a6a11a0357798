//! The [`TaskQueue`] contract, checked on both backends: every test below runs once on a
//! `MemoryQueue` and once on a `RedisQueue` against a private `redis-server`. What only Redis
//! can do (survive restarts, meet entries written by someone else) is in
//! `queue_support/redis_only.rs`.

#[path = "queue_support/backend.rs"]
mod backend;
#[path = "queue_support/redis_only.rs"]
mod redis_only;

use std::collections::HashSet;
use std::time::Duration;

use tanksim_broker::queue::DeadLetter;
use tanksim_broker::{Delivery, QueueStats, Task, TaskQueue};
use tokio::time::{Instant, sleep};

use backend::{Backend, task, traced_task};

const SHORT: Duration = Duration::from_millis(100);

/// Runs each generic test on both backends.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(&crate::backend::Memory::default()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(&crate::backend::Redis::start()).await;
                }
            )*
        }
    };
}

conformance!(
    tasks_are_read_in_order_with_every_field,
    two_consumers_split_the_entries_without_duplicates,
    ack_removes_the_entry,
    unacknowledged_entries_are_read_again_after_a_restart,
    claim_idle_takes_only_entries_idle_long_enough,
    dead_letter_moves_the_task_with_reason_and_deliveries,
    hand_back_makes_the_task_readable_by_another_consumer,
    a_stale_delivery_cannot_settle_an_entry_claimed_since,
    a_group_created_after_enqueueing_delivers_every_task,
    read_new_blocks_up_to_block_then_returns_empty,
    read_new_wakes_when_a_task_is_enqueued,
    zero_block_and_zero_max_return_at_once,
    a_blocked_read_holds_up_neither_other_calls_nor_other_reads,
    ten_thousand_tasks_read_back_in_batches,
    stats_follow_enqueue_read_ack_and_dead_letter,
);

fn chunks(deliveries: &[Delivery]) -> Vec<u32> {
    deliveries.iter().map(|d| d.task.chunk).collect()
}

fn counts(deliveries: &[Delivery]) -> Vec<u64> {
    deliveries.iter().map(|d| d.deliveries).collect()
}

fn ids(deliveries: &[Delivery]) -> Vec<String> {
    deliveries.iter().map(|d| d.entry_id.clone()).collect()
}

/// `stats()` without consumers and age (checked separately: the age depends on the clock).
async fn numbers(queue: &impl TaskQueue) -> (u64, u64, u64, u64) {
    let QueueStats { length, lag, pending, dead_letters, .. } = queue.stats().await.expect("stats");
    (length, lag, pending, dead_letters)
}

async fn tasks_are_read_in_order_with_every_field<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.ensure_group().await.expect("ensure_group is idempotent");
    assert_eq!(queue.stats().await.expect("stats"), QueueStats::default());

    let tasks = vec![traced_task("job-a", 0), task("job-a", 1), traced_task("job-b", 0)];
    queue.enqueue(&tasks).await.expect("enqueue");
    queue.enqueue(&[]).await.expect("an empty batch is fine");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(stats, QueueStats { length: 3, lag: 3, ..QueueStats::default() });

    let read = queue.read_new("c1", 10, SHORT).await.expect("read");
    assert_eq!(read.iter().map(|d| d.task.clone()).collect::<Vec<_>>(), tasks);
    assert_eq!(counts(&read), [1, 1, 1]);
    assert_eq!(ids(&read).into_iter().collect::<HashSet<_>>().len(), 3, "entry ids are distinct");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(
        (stats.length, stats.lag, stats.pending, stats.consumers, stats.dead_letters),
        (3, 0, 3, 1, 0)
    );
    assert!(stats.oldest_pending_age < Duration::from_secs(1), "{stats:?}");
}

async fn two_consumers_split_the_entries_without_duplicates<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    let other = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&(0..20).map(|c| task("j", c)).collect::<Vec<_>>()).await.expect("enqueue");

    let first = queue.read_new("c1", 7, SHORT).await.expect("read");
    let second = other.read_new("c2", 100, SHORT).await.expect("read");
    assert_eq!(chunks(&first), (0..7).collect::<Vec<_>>());
    assert_eq!(chunks(&second), (7..20).collect::<Vec<_>>());
    assert!(queue.read_new("c1", 100, SHORT).await.expect("read").is_empty());
    assert!(other.read_new("c2", 100, SHORT).await.expect("read").is_empty());
    assert_eq!(numbers(&queue).await, (20, 0, 20, 0));
}

async fn ack_removes_the_entry<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&(0..4).map(|c| task("j", c)).collect::<Vec<_>>()).await.expect("enqueue");
    let read = queue.read_new("c1", 3, SHORT).await.expect("read");
    // The newest delivered one first: Redis then no longer knows the group's lag (nil).
    queue.ack(&ids(&read[2..])).await.expect("ack");
    assert_eq!(numbers(&queue).await, (3, 1, 2, 0));
    let done = ids(&read[..1]);
    queue.ack(&done).await.expect("ack");
    assert_eq!(numbers(&queue).await, (2, 1, 1, 0));

    let pending = queue.read_own_pending("c1", 10).await.expect("pending");
    assert_eq!(chunks(&pending), [1], "acknowledged entries are not re-read");
    let last = queue.read_new("c1", 10, SHORT).await.expect("read");
    assert_eq!(chunks(&last), [3]);
    assert!(queue.read_new("c1", 10, SHORT).await.expect("read").is_empty());

    let mut unknown = [done, ids(&read[2..])].concat();
    unknown.extend(["not-an-id".to_owned(), "99999999-0".to_owned()]);
    queue.ack(&unknown).await.expect("unknown ids are ignored");
    queue.ack(&[]).await.expect("nothing to ack");
    assert_eq!(numbers(&queue).await, (2, 0, 2, 0));
    queue.ack(&[ids(&pending), ids(&last)].concat()).await.expect("ack");
    assert_eq!(queue.stats().await.expect("stats"), QueueStats { consumers: 1, ..QueueStats::default() });
}

async fn unacknowledged_entries_are_read_again_after_a_restart<B: Backend>(backend: &B) {
    let before = backend.open().await;
    before.ensure_group().await.expect("group");
    before.enqueue(&[traced_task("j", 0), task("j", 1), task("j", 2)]).await.expect("enqueue");
    let read = before.read_new("c1", 10, SHORT).await.expect("read");
    drop(before);

    let after = backend.open().await;
    let again = after.read_own_pending("c1", 2).await.expect("pending");
    assert_eq!(ids(&again), ids(&read[..2]), "the first `max`, in order");
    assert_eq!(again[0].task, read[0].task, "fields round trip on re-reads too");
    assert_eq!(counts(&again), [2, 2], "a re-read is a delivery");
    let all = after.read_own_pending("c1", 10).await.expect("pending");
    assert_eq!((chunks(&all), counts(&all)), (vec![0, 1, 2], vec![3, 3, 2]));
    assert!(after.read_own_pending("c2", 10).await.expect("pending").is_empty(), "only c1's own");
    assert!(after.read_new("c1", 10, SHORT).await.expect("read").is_empty(), "pending ones are not new");
    assert!(after.read_own_pending("c1", 0).await.expect("pending").is_empty());
    assert_eq!(numbers(&after).await, (3, 0, 3, 0));
}

async fn claim_idle_takes_only_entries_idle_long_enough<B: Backend>(backend: &B) {
    let min_idle = Duration::from_millis(400);
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&[task("j", 0), task("j", 1), task("j", 2)]).await.expect("enqueue");
    queue.read_new("c1", 10, SHORT).await.expect("read");
    assert!(queue.claim_idle("c2", min_idle, 10).await.expect("claim").is_empty(), "not idle yet");

    sleep(min_idle + SHORT).await;
    let age = queue.stats().await.expect("stats").oldest_pending_age;
    assert!(age >= min_idle && age < Duration::from_secs(5), "oldest pending age {age:?}");
    let claimed = queue.claim_idle("c2", min_idle, 2).await.expect("claim");
    assert_eq!((chunks(&claimed), counts(&claimed)), (vec![0, 1], vec![2, 2]), "up to `max`, counted");
    let rest = queue.claim_idle("c2", min_idle, 10).await.expect("claim");
    assert_eq!((chunks(&rest), counts(&rest)), (vec![2], vec![2]), "claimed ones are no longer idle");
    let stats = queue.stats().await.expect("stats");
    assert!(stats.oldest_pending_age >= min_idle, "a claim does not make an entry younger: {stats:?}");
    assert_eq!(stats.consumers, 2, "c1 and c2");
    assert!(queue.claim_idle("c3", min_idle, 10).await.expect("claim").is_empty());
    assert!(queue.claim_idle("c3", Duration::ZERO, 0).await.expect("claim").is_empty());

    assert!(queue.read_own_pending("c1", 10).await.expect("pending").is_empty(), "c1 lost them");
    let owned = queue.read_own_pending("c2", 10).await.expect("pending");
    assert_eq!((chunks(&owned), counts(&owned)), (vec![0, 1, 2], vec![3, 3, 3]));
    assert_eq!(numbers(&queue).await, (3, 0, 3, 0));
}

async fn dead_letter_moves_the_task_with_reason_and_deliveries<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&[traced_task("j", 0), task("j", 1)]).await.expect("enqueue");
    let read = queue.read_new("c1", 10, SHORT).await.expect("read");
    queue.dead_letter(&read[0], "exploded").await.expect("dead letter");
    assert_eq!(numbers(&queue).await, (1, 0, 1, 1));
    let first = DeadLetter { task: traced_task("j", 0), deliveries: 1, reason: "exploded".to_owned() };
    assert_eq!(queue.dead_letters(10).await.expect("dead letters"), std::slice::from_ref(&first));
    queue.dead_letter(&read[0], "exploded").await.expect("repeating is a no-op");
    assert_eq!(numbers(&queue).await, (1, 0, 1, 1));
    assert!(queue.read_new("c2", 10, SHORT).await.expect("read").is_empty());

    let again = queue.read_own_pending("c1", 10).await.expect("pending");
    assert_eq!((chunks(&again), counts(&again)), (vec![1], vec![2]));
    queue.dead_letter(&again[0], "still failing").await.expect("dead letter");
    let second = DeadLetter { task: task("j", 1), deliveries: 2, reason: "still failing".to_owned() };
    assert_eq!(queue.dead_letters(10).await.expect("dead letters"), [first.clone(), second]);
    assert_eq!(queue.dead_letters(1).await.expect("dead letters"), [first], "oldest first, up to max");
    assert!(queue.dead_letters(0).await.expect("dead letters").is_empty());
    assert_eq!(numbers(&queue).await, (0, 0, 0, 2));
}

async fn hand_back_makes_the_task_readable_by_another_consumer<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&[traced_task("j", 0)]).await.expect("enqueue");
    let mine = queue.read_new("c1", 10, SHORT).await.expect("read");
    assert_eq!(numbers(&queue).await, (1, 0, 1, 0));

    queue.hand_back(&mine[0]).await.expect("hand back");
    assert_eq!(numbers(&queue).await, (1, 1, 0, 0), "same length, undelivered again");
    let started = Instant::now();
    let theirs = queue.read_new("c2", 10, Duration::from_secs(5)).await.expect("read");
    assert!(started.elapsed() < Duration::from_secs(1), "readable at once");
    assert_eq!(theirs.len(), 1);
    assert_eq!((&theirs[0].task, theirs[0].deliveries), (&traced_task("j", 0), 1));
    assert_ne!(theirs[0].entry_id, mine[0].entry_id, "a new entry");

    queue.hand_back(&mine[0]).await.expect("a stale hand-back is a no-op");
    queue.ack(&ids(&mine)).await.expect("acking the old id is harmless");
    assert_eq!(numbers(&queue).await, (1, 0, 1, 0));
    assert!(queue.read_own_pending("c1", 10).await.expect("pending").is_empty());
}

async fn a_stale_delivery_cannot_settle_an_entry_claimed_since<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&[task("j", 0)]).await.expect("enqueue");
    let stale = queue.read_new("c1", 10, SHORT).await.expect("read");
    sleep(2 * SHORT).await;
    let claimed = queue.claim_idle("c2", SHORT, 10).await.expect("claim");
    assert_eq!(counts(&claimed), [2]);

    queue.dead_letter(&stale[0], "c1 gave up").await.expect("no-op");
    queue.hand_back(&stale[0]).await.expect("no-op");
    assert_eq!(numbers(&queue).await, (1, 0, 1, 0), "c2 still owns it");
    queue.dead_letter(&claimed[0], "c2 gave up").await.expect("dead letter");
    let dead = queue.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead, [DeadLetter { task: task("j", 0), deliveries: 2, reason: "c2 gave up".to_owned() }]);
}

async fn a_group_created_after_enqueueing_delivers_every_task<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.enqueue(&[task("j", 0), task("j", 1)]).await.expect("enqueue before any group");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.length, stats.lag, stats.pending), (2, 0, 0), "no group yet: zeros");
    let read = queue.read_new("c1", 10, SHORT).await.expect("read creates the group");
    assert_eq!(chunks(&read), [0, 1]);
    queue.ensure_group().await.expect("idempotent");
    assert_eq!(numbers(&queue).await, (2, 0, 2, 0));
}

async fn read_new_blocks_up_to_block_then_returns_empty<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    let block = Duration::from_secs(1);
    let started = Instant::now();
    assert!(queue.read_new("c1", 10, block).await.expect("read").is_empty());
    let waited = started.elapsed();
    assert!(waited >= block - SHORT && waited <= block + Duration::from_secs(1), "waited {waited:?}");
}

async fn read_new_wakes_when_a_task_is_enqueued<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    let producer = backend.open().await;
    let started = Instant::now();
    let enqueue = tokio::spawn(async move {
        sleep(3 * SHORT).await;
        producer.enqueue(&[task("j", 0)]).await.expect("enqueue");
    });
    let read = queue.read_new("c1", 10, Duration::from_secs(10)).await.expect("read");
    let waited = started.elapsed();
    assert_eq!(chunks(&read), [0]);
    assert!(waited >= 2 * SHORT && waited < Duration::from_secs(2), "waited {waited:?}");
    enqueue.await.expect("producer");
}

async fn zero_block_and_zero_max_return_at_once<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    let started = Instant::now();
    assert!(
        queue.read_new("c1", 10, Duration::ZERO).await.expect("read").is_empty(),
        "BLOCK 0 is not forever"
    );
    queue.enqueue(&[task("j", 0)]).await.expect("enqueue");
    assert!(
        queue.read_new("c1", 0, Duration::from_secs(5)).await.expect("read").is_empty(),
        "COUNT 0 is not all"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(chunks(&queue.read_new("c1", 10, Duration::ZERO).await.expect("read")), [0]);
}

async fn a_blocked_read_holds_up_neither_other_calls_nor_other_reads<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    let block = Duration::from_millis(1500);
    let started = Instant::now();
    let readers: Vec<_> = ["c1", "c2"]
        .into_iter()
        .map(|consumer| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.read_new(consumer, 10, block).await.expect("read") })
        })
        .collect();
    sleep(2 * SHORT).await;
    let calls = Instant::now();
    queue.ping().await.expect("ping");
    queue.stats().await.expect("stats");
    assert!(calls.elapsed() < Duration::from_millis(500), "other calls waited {:?}", calls.elapsed());
    for reader in readers {
        assert!(reader.await.expect("reader").is_empty());
    }
    let waited = started.elapsed();
    assert!(
        waited < 2 * block - Duration::from_millis(300),
        "the two reads ran one after the other: {waited:?}"
    );
}

async fn ten_thousand_tasks_read_back_in_batches<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    queue.ensure_group().await.expect("group");
    let tasks: Vec<Task> = (0..10_000).map(|c| task("big", c)).collect();
    queue.enqueue(&tasks).await.expect("enqueue");
    assert_eq!(numbers(&queue).await, (10_000, 10_000, 0, 0));

    let mut seen = HashSet::new();
    let mut per_consumer: [Vec<u32>; 2] = Default::default();
    for round in 0.. {
        let consumer = round % 2;
        let batch = queue.read_new(["c1", "c2"][consumer], 100, Duration::ZERO).await.expect("read");
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 100);
        for delivery in &batch {
            assert!(seen.insert(delivery.task.chunk), "chunk {} delivered twice", delivery.task.chunk);
        }
        per_consumer[consumer].extend(chunks(&batch));
        queue.ack(&ids(&batch)).await.expect("ack");
    }
    assert_eq!(seen.len(), 10_000);
    for chunks in &per_consumer {
        assert!(chunks.windows(2).all(|w| w[0] < w[1]), "in order per consumer");
        assert_eq!(chunks.len(), 5_000);
    }
    assert_eq!(queue.stats().await.expect("stats"), QueueStats { consumers: 2, ..QueueStats::default() });
}

async fn stats_follow_enqueue_read_ack_and_dead_letter<B: Backend>(backend: &B) {
    let queue = backend.open().await;
    assert_eq!(queue.stats().await.expect("stats"), QueueStats::default(), "no stream: zeros");
    queue.enqueue(&[task("j", 0), task("j", 1), task("j", 2), task("j", 3)]).await.expect("enqueue");
    assert_eq!(
        queue.stats().await.expect("stats"),
        QueueStats { length: 4, ..QueueStats::default() },
        "no group"
    );
    queue.ensure_group().await.expect("group");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(stats, QueueStats { length: 4, lag: 4, ..QueueStats::default() }, "nothing read yet");

    // The age counts from when the entry was added, not from its delivery.
    let wait = Duration::from_millis(300);
    sleep(wait).await;
    let read = queue.read_new("c1", 3, SHORT).await.expect("read");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(
        (stats.length, stats.lag, stats.pending, stats.consumers, stats.dead_letters),
        (4, 1, 3, 1, 0),
        "{stats:?}"
    );
    assert!(
        stats.oldest_pending_age >= wait && stats.oldest_pending_age < Duration::from_secs(5),
        "{stats:?}"
    );

    queue.ack(&ids(&read[..1])).await.expect("ack");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.length, stats.lag, stats.pending, stats.consumers), (3, 1, 2, 1), "{stats:?}");
    queue.dead_letter(&read[1], "exploded").await.expect("dead letter");
    queue.hand_back(&read[2]).await.expect("hand back");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(
        stats,
        QueueStats { length: 2, lag: 2, consumers: 1, dead_letters: 1, ..QueueStats::default() },
        "nothing pending: no age"
    );

    let rest = queue.read_new("c2", 10, SHORT).await.expect("read");
    assert_eq!(chunks(&rest), [3, 2], "the handed-back task went to the end");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(
        (stats.length, stats.lag, stats.pending, stats.consumers, stats.dead_letters),
        (2, 0, 2, 2, 1)
    );
    assert!(stats.oldest_pending_age >= wait, "chunk 3 was added before the wait: {stats:?}");
    queue.ack(&ids(&rest)).await.expect("ack");
    let stats = queue.stats().await.expect("stats");
    assert_eq!(stats, QueueStats { consumers: 2, dead_letters: 1, ..QueueStats::default() });
}
