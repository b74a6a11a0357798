//! tanksim's Redis users (deploy/base/redis-users.acl) against the broker's real operations on a
//! private `redis-server` loaded as the redis pod loads them:
//!
//! - too narrow: every role runs its operations as its own user, and they all succeed;
//! - too wide: every permission a user is given is needed (take any one away and that role's
//!   operations fail), and what a role must never do (another role's keys, administration,
//!   scripts reaching past the user's keys) is refused;
//! - nobody gets in without a user and its password.

#![allow(clippy::unwrap_used)]

#[path = "acl_support/roles.rs"]
mod roles;
#[path = "acl_support/users.rs"]
mod users;

use redis::RedisError;
use users::{ROLES, Users};

#[test]
fn the_rules_define_exactly_the_roles_and_a_disabled_default_user() {
    let rules = users::committed_rules();
    let lines = users::user_lines(&rules);
    let names: Vec<&str> = lines.iter().map(|(name, _)| name.as_str()).collect();
    let mut want = vec!["default"];
    want.extend(ROLES);
    assert_eq!(names, want, "one user per role (each role below has its operations in this test)");
    assert_eq!(lines[0].1, ["reset"], "the default user: no password, no keys, no commands, off");
    for (name, words) in &lines[1..] {
        assert_eq!(&words[..2], ["reset", "on"], "{name}: starts from nothing");
        let broad = ["allkeys", "~*", "allchannels", "&*", "allcommands", "+@all", "nopass", "-@all"];
        assert!(!words.iter().any(|w| broad.contains(&w.as_str())), "{name}: {words:?}");
        assert!(
            !words.iter().any(|w| w.starts_with('>') || w.starts_with('#')),
            "{name}: no password in git"
        );
        assert!(
            words.iter().all(|w| !w.starts_with('~') || w.starts_with("~tanksim:")),
            "{name}: tanksim's keys only"
        );
    }
}

#[tokio::test]
async fn every_role_runs_its_operations_as_its_own_user() {
    let users = Users::start(&users::committed_rules());
    if let Err(failed) = roles::run_all(&users).await {
        panic!("{}'s operations fail as its Redis user: {}", failed.role, failed.error);
    }
}

/// Each permission of each user, taken away alone, breaks that role's operations: no user
/// holds a command, key pattern or channel its role does not use.
#[tokio::test]
async fn every_permission_is_needed_by_its_role() {
    let rules = users::committed_rules();
    let mut checked = 0;
    for (name, words) in users::user_lines(&rules) {
        let role = ROLES.iter().find(|r| **r == name);
        let Some(role) = role else { continue };
        for (i, word) in words.iter().enumerate() {
            if !word.starts_with(['+', '~', '%', '&']) {
                continue;
            }
            let mut fewer = words.clone();
            fewer.remove(i);
            let line = format!("user {name} {}", words.join(" "));
            let narrowed = rules.replace(&line, &format!("user {name} {}", fewer.join(" ")));
            assert_ne!(narrowed, rules, "{name}: its line is one line of the file");
            let users = Users::start(&narrowed);
            match roles::run_all(&users).await {
                Ok(()) => panic!("{name} does not need `{word}`: nothing it does failed without it"),
                Err(failed) => assert_eq!(
                    failed.role, *role,
                    "without {name}'s `{word}`, {} failed first ({}): {name}'s own operations should",
                    failed.role, failed.error
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} permissions checked");
}

/// What each role must never do, refused with NOPERM.
const REFUSED: &[(&str, &[&str])] = &[
    // Administration and whole-keyspace commands, for everyone.
    ("dispatcher", &["FLUSHALL"]),
    ("results", &["CONFIG", "GET", "*"]),
    ("worker", &["FLUSHALL"]),
    ("worker", &["CONFIG", "SET", "appendonly", "no"]),
    ("worker", &["KEYS", "*"]),
    ("worker", &["ACL", "LIST"]),
    ("keys-admin", &["SCAN", "0"]),
    ("gateway", &["CLIENT", "LIST"]),
    ("keda", &["FLUSHDB"]),
    ("keda", &["SLOWLOG", "GET"]),
    ("probe", &["SHUTDOWN"]),
    ("dispatcher", &["EVAL", "return 1", "0"]),
    ("results", &["SCRIPT", "FLUSH"]),
    // API keys: only the gateway reads them, only `tanksim keys` writes them.
    ("worker", &["HGETALL", "tanksim:apikey:0000"]),
    ("dispatcher", &["HGETALL", "tanksim:apikey:0000"]),
    ("results", &["HGETALL", "tanksim:apikeys"]),
    ("keda", &["HGETALL", "tanksim:apikey:0000"]),
    ("gateway", &["HGETALL", "tanksim:apikeys"]),
    ("gateway", &["HSET", "tanksim:apikey:0000", "scopes", "admin"]),
    ("gateway", &["DEL", "tanksim:apikey:0000"]),
    // The gateway and KEDA write nothing; the probe reads nothing.
    ("gateway", &["XADD", "tanksim:tasks", "*", "chunk", "0"]),
    ("gateway", &["HGETALL", "tanksim:job:j1"]),
    ("keda", &["XADD", "tanksim:tasks", "*", "chunk", "0"]),
    ("keda", &["XGROUP", "CREATE", "tanksim:tasks", "other", "$"]),
    ("keda", &["XLEN", "tanksim:tasks:dead"]),
    ("probe", &["GET", "tanksim:job:j1:spec"]),
    // Roles keep to their part of the pipeline.
    ("worker", &["HSET", "tanksim:job:j1", "state", "succeeded"]),
    ("worker", &["DEL", "tanksim:tasks"]),
    ("worker", &["PUBLISH", "tanksim:events:j1", ""]),
    ("dispatcher", &["XADD", "tanksim:tasks:dead", "*", "chunk", "0"]),
    ("dispatcher", &["XREADGROUP", "GROUP", "tanksim-workers", "d", "STREAMS", "tanksim:tasks", ">"]),
    ("dispatcher", &["DEL", "tanksim:job:j1"]),
    ("results", &["XADD", "tanksim:tasks", "*", "chunk", "0"]),
    ("results", &["SADD", "tanksim:jobs:dispatching", "forged"]),
    ("results", &["DEL", "tanksim:tasks"]),
    ("results", &["SUBSCRIBE", "__keyspace@0__:tanksim:job:j1"]),
    ("keys-admin", &["HGETALL", "tanksim:job:j1"]),
    ("keys-admin", &["PUBLISH", "tanksim:events:j1", ""]),
    // Keys outside tanksim's.
    ("dispatcher", &["SET", "other:key", "x"]),
];

#[tokio::test]
async fn what_a_role_must_never_do_is_refused() {
    let users = Users::start(&users::committed_rules());
    for (role, command) in REFUSED {
        let mut con = users.connection(role).await;
        let result: Result<redis::Value, RedisError> =
            redis::cmd(command[0]).arg(&command[1..]).query_async(&mut con).await;
        let error = result.err().unwrap_or_else(|| panic!("{role} may run {command:?}"));
        assert_eq!(error.code(), Some("NOPERM"), "{role}: {command:?}: {error}");
    }
}

/// Scripts run with their caller's permissions: a role that may load and run scripts reaches
/// no key and no command beyond its own through one.
#[tokio::test]
async fn scripts_cannot_reach_past_their_callers_permissions() {
    let users = Users::start(&users::committed_rules());
    let mut con = users.connection("dispatcher").await;
    let cases: &[(&str, &[&str])] = &[
        // A declared key outside the user's patterns: refused before the script runs.
        ("return redis.call('HGETALL', KEYS[1])", &["1", "tanksim:apikey:0000"]),
        // An undeclared one: refused when the script calls it.
        ("return redis.call('HGETALL', 'tanksim:apikey:0000')", &["0"]),
        // A command the user may not run.
        ("return redis.call('FLUSHALL')", &["0"]),
        // A write to a key the user may only read.
        ("return redis.call('XADD', KEYS[1], '*', 'chunk', '0')", &["1", "tanksim:tasks:dead"]),
        ("return redis.call('XADD', 'tanksim:tasks:dead', '*', 'chunk', '0')", &["0"]),
    ];
    for (body, args) in cases {
        let sha: String = redis::cmd("SCRIPT").arg("LOAD").arg(*body).query_async(&mut con).await.unwrap();
        let result: Result<redis::Value, RedisError> =
            redis::cmd("EVALSHA").arg(&sha).arg(*args).query_async(&mut con).await;
        let error = result.err().unwrap_or_else(|| panic!("the dispatcher ran {body:?}"));
        assert!(is_refusal(&error), "{body}: {error}");
    }
}

/// Whether `error` is Redis refusing a command or a key to the user: NOPERM, or from inside a
/// script (Redis 7.0) an error saying the user executing the script can't run or access it.
fn is_refusal(error: &RedisError) -> bool {
    error.code() == Some("NOPERM")
        || error.to_string().contains("NOPERM")
        || error.to_string().contains("The user executing the script can't")
}

#[tokio::test]
async fn nobody_gets_in_without_a_user_and_its_password() {
    let users = Users::start(&users::committed_rules());
    let mut anonymous =
        redis::Client::open(users.anonymous_url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let ping: Result<String, RedisError> = redis::cmd("PING").query_async(&mut anonymous).await;
    assert_eq!(ping.unwrap_err().code(), Some("NOAUTH"), "a connection without a user runs nothing");
    let port = users.anonymous_url().rsplit(':').next().unwrap().to_owned();
    for (user, password) in [("default", "anything"), ("worker", "wrong"), ("nobody", "x")] {
        let url = format!("redis://{user}:{password}@127.0.0.1:{port}");
        let connected = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await;
        let error = connected.err().unwrap_or_else(|| panic!("{user}:{password:?} connected"));
        assert_eq!(error.kind(), redis::ErrorKind::AuthenticationFailed, "{user}: {error}");
    }
    // The right password of one role is not another's.
    let swapped = format!("redis://gateway:{}@127.0.0.1:{port}", users::password("keys-admin"));
    assert!(redis::Client::open(swapped).unwrap().get_multiplexed_async_connection().await.is_err());
}
