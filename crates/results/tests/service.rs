//! The results service driven in-process over real sockets on 127.0.0.1:0: in-memory store
//! for the logic, a private redis-server where sharing between replicas matters.

#[path = "service/harness.rs"]
mod harness;

#[path = "service/dataset.rs"]
mod dataset;
#[path = "service/errors.rs"]
mod errors;
#[path = "service/list.rs"]
mod list;
#[path = "service/monte_carlo.rs"]
mod monte_carlo;
#[path = "service/redis.rs"]
mod redis;
#[path = "service/restart.rs"]
mod restart;
#[path = "service/sensitivity.rs"]
mod sensitivity;
#[path = "service/sweep.rs"]
mod sweep;
#[path = "service/watch.rs"]
mod watch;
