//! Whose chunk goes on the stream next: weighted round robin across tenants, round robin
//! across each tenant's jobs, one chunk per turn.
//!
//! Tenants take turns by smooth weighted round robin (the algorithm of nginx's upstreams):
//! at each turn every tenant's credit grows by its weight, the tenant with the most credit
//! (the earliest added on a tie) gets the turn and pays back the sum of all weights. Over any
//! run of turns each tenant's share is its weight's share, spread evenly rather than in
//! bursts. The tenant whose turn it is gives it to its job at the front, which then goes to
//! the back. A job leaves when its last chunk has been taken; a tenant, with its last job.
//!
//! Shares are counted in chunks: jobs whose chunks cost more get more of the workers' time
//! per turn. Pure: the scheduler ([`crate::scheduler`]) owns one and says when to take.

use std::collections::VecDeque;
use std::sync::Arc;

/// The jobs with chunks not yet on the stream, in turn order.
#[derive(Debug, Default)]
pub struct FairQueue {
    tenants: Vec<Tenant>,
    /// Chunks not yet taken, of every job here.
    waiting: u64,
}

#[derive(Debug)]
struct Tenant {
    name: String,
    weight: u32,
    credit: i64,
    jobs: VecDeque<Cursor>,
}

/// A job's next chunk to take, and one past its last.
#[derive(Debug)]
struct Cursor {
    id: Arc<str>,
    next: u32,
    end: u32,
}

/// One chunk given a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub job_id: Arc<str>,
    pub chunk: u32,
}

impl FairQueue {
    /// Adds job `id` of `tenant`, whose chunks `next..end` are still to take, at the back of
    /// its tenant's jobs; a job already here only moves its cursor to `next`. `weight` (at
    /// least 1) becomes the tenant's weight.
    pub fn insert(&mut self, tenant: &str, weight: u32, id: &str, next: u32, end: u32) {
        if self.rewind(id, next) {
            return;
        }
        if next >= end {
            return;
        }
        self.waiting += u64::from(end - next);
        let cursor = Cursor { id: Arc::from(id), next, end };
        let weight = weight.max(1);
        match self.tenants.iter_mut().find(|t| t.name == tenant) {
            Some(t) => {
                t.weight = weight;
                t.jobs.push_back(cursor);
            }
            None => self.tenants.push(Tenant {
                name: tenant.to_owned(),
                weight,
                credit: 0,
                jobs: VecDeque::from([cursor]),
            }),
        }
    }

    /// Moves job `id`'s cursor back (or on) to `next` (chunks taken but not appended after
    /// all); false if the job is not here.
    pub fn rewind(&mut self, id: &str, next: u32) -> bool {
        for tenant in &mut self.tenants {
            if let Some(cursor) = tenant.jobs.iter_mut().find(|c| &*c.id == id) {
                let next = next.min(cursor.end);
                self.waiting = self.waiting + u64::from(cursor.next) - u64::from(next);
                cursor.next = next;
                return true;
            }
        }
        false
    }

    /// Sets `tenant`'s weight (at least 1), if it has jobs here.
    pub fn set_weight(&mut self, tenant: &str, weight: u32) {
        if let Some(t) = self.tenants.iter_mut().find(|t| t.name == tenant) {
            t.weight = weight.max(1);
        }
    }

    /// Removes job `id` (cancelled, failed); whether it was here.
    pub fn remove(&mut self, id: &str) -> bool {
        let mut removed = false;
        for tenant in &mut self.tenants {
            if let Some(at) = tenant.jobs.iter().position(|c| &*c.id == id) {
                let cursor = tenant.jobs.remove(at).expect("found");
                self.waiting -= u64::from(cursor.end - cursor.next);
                removed = true;
            }
        }
        self.tenants.retain(|t| !t.jobs.is_empty());
        removed
    }

    /// Whether no job has chunks to take.
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// Chunks not yet taken, of every job here: what waits for the stream.
    pub fn waiting(&self) -> u64 {
        self.waiting
    }

    /// The jobs here.
    #[cfg(test)]
    fn jobs(&self) -> impl Iterator<Item = &str> {
        self.tenants.iter().flat_map(|t| t.jobs.iter().map(|c| &*c.id))
    }

    /// Up to `n` chunks, in turn order (the order they go on the stream).
    pub fn take(&mut self, n: usize) -> Vec<Slot> {
        let mut slots = Vec::with_capacity(n.min(4_096));
        while slots.len() < n && !self.tenants.is_empty() {
            let turn = self.next_tenant();
            let tenant = &mut self.tenants[turn];
            let Some(mut cursor) = tenant.jobs.pop_front() else { break };
            slots.push(Slot { job_id: Arc::clone(&cursor.id), chunk: cursor.next });
            cursor.next += 1;
            self.waiting -= 1;
            if cursor.next < cursor.end {
                tenant.jobs.push_back(cursor);
            } else if tenant.jobs.is_empty() {
                self.tenants.remove(turn);
            }
        }
        slots
    }

    /// The index of the tenant whose turn it is (smooth weighted round robin).
    fn next_tenant(&mut self) -> usize {
        let total: i64 = self.tenants.iter().map(|t| i64::from(t.weight)).sum();
        let mut best = 0;
        for i in 0..self.tenants.len() {
            self.tenants[i].credit += i64::from(self.tenants[i].weight);
            if self.tenants[i].credit > self.tenants[best].credit {
                best = i;
            }
        }
        self.tenants[best].credit -= total;
        best
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn turns(queue: &mut FairQueue, n: usize) -> Vec<String> {
        queue.take(n).into_iter().map(|s| format!("{}:{}", s.job_id, s.chunk)).collect()
    }

    #[test]
    fn a_small_job_gets_the_next_turn_behind_a_giant_one() {
        let mut queue = FairQueue::default();
        queue.insert("acme", 1, "giant", 0, 100_000_000);
        assert_eq!(turns(&mut queue, 3), ["giant:0", "giant:1", "giant:2"]);
        queue.insert("acme", 1, "small", 0, 2);
        assert_eq!(turns(&mut queue, 5), ["giant:3", "small:0", "giant:4", "small:1", "giant:5"]);
        assert_eq!(queue.jobs().collect::<Vec<_>>(), ["giant"], "the small job left with its last chunk");
    }

    #[test]
    fn tenants_share_by_weight_whatever_their_number_of_jobs() {
        let mut queue = FairQueue::default();
        for job in ["a1", "a2", "a3", "a4"] {
            queue.insert("a", 1, job, 0, 1_000_000);
        }
        queue.insert("b", 1, "b1", 0, 1_000_000);
        queue.insert("c", 2, "c1", 0, 1_000_000);
        let mut by_tenant: HashMap<char, usize> = HashMap::new();
        for slot in queue.take(4_000) {
            *by_tenant.entry(slot.job_id.chars().next().unwrap()).or_default() += 1;
        }
        assert_eq!(by_tenant[&'a'], 1_000);
        assert_eq!(by_tenant[&'b'], 1_000);
        assert_eq!(by_tenant[&'c'], 2_000);
        // Spread evenly: weight 2 never takes more than two turns in a row.
        let order: String = queue.take(12).iter().map(|s| s.job_id.chars().next().unwrap()).collect();
        assert_eq!(order, "cabccabccabc");
    }

    #[test]
    fn chunks_are_taken_in_order_and_each_once() {
        let mut queue = FairQueue::default();
        queue.insert("a", 1, "j", 5, 9);
        queue.insert("a", 1, "k", 0, 2);
        let slots = queue.take(100);
        assert_eq!(
            slots.iter().map(|s| format!("{}:{}", s.job_id, s.chunk)).collect::<Vec<_>>(),
            ["j:5", "k:0", "j:6", "k:1", "j:7", "j:8"]
        );
        assert!(queue.is_empty());
        assert!(queue.take(10).is_empty());
    }

    #[test]
    fn rewinding_gives_back_chunks_and_removing_drops_a_job() {
        let mut queue = FairQueue::default();
        queue.insert("a", 1, "j", 0, 10);
        queue.insert("b", 1, "k", 0, 10);
        assert_eq!(turns(&mut queue, 4), ["j:0", "k:0", "j:1", "k:1"]);
        assert_eq!(queue.waiting(), 16);
        assert!(queue.rewind("j", 1), "the append of j:1 failed");
        assert!(!queue.rewind("nope", 0));
        assert_eq!(queue.waiting(), 17);
        assert!(queue.remove("k"));
        assert!(!queue.remove("k"));
        assert_eq!(queue.waiting(), 9, "k's 8 chunks left with it");
        assert_eq!(turns(&mut queue, 2), ["j:1", "j:2"]);
        // Inserting a job that is here moves its cursor only.
        queue.insert("a", 1, "j", 9, 10);
        assert_eq!(queue.waiting(), 1);
        assert_eq!(turns(&mut queue, 5), ["j:9"]);
        assert_eq!(queue.waiting(), 0);
        // Nothing left to take: not added.
        queue.insert("a", 1, "done", 10, 10);
        assert!(queue.is_empty());
    }
}
