//! tanksim's Redis users on a private `redis-server`, made as the redis pod makes them:
//! deploy/base/redis-users.sh writes the ACL file from the rules (deploy/base/redis-users.acl)
//! and each user's password from `REDIS_PASSWORD_<NAME>`, and the server loads it with
//! `--aclfile`.

use std::path::PathBuf;
use std::process::Command;

use redis::aio::MultiplexedConnection;
use tanksim_test_util::RedisServer;

/// Every user the rules define besides `default`, each one a role of tanksim.
pub(crate) const ROLES: &[&str] =
    &["dispatcher", "results", "worker", "gateway", "keda", "keys-admin", "probe"];

/// A file of the repository.
pub(crate) fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The rules as committed.
pub(crate) fn committed_rules() -> String {
    std::fs::read_to_string(repo_file("deploy/base/redis-users.acl")).expect("deploy/base/redis-users.acl")
}

/// Each `user` line of `rules`: the name and the rest of its words.
pub(crate) fn user_lines(rules: &str) -> Vec<(String, Vec<String>)> {
    rules
        .lines()
        .filter_map(|line| line.strip_prefix("user "))
        .map(|rest| {
            let mut words = rest.split_whitespace().map(str::to_owned);
            let name = words.next().expect("a user name");
            (name, words.collect())
        })
        .collect()
}

/// The password a role's user gets here (in a cluster: the Secret `redis-user-ROLE`).
pub(crate) fn password(role: &str) -> String {
    format!("{role}-0f9e8d7c6b5a")
}

/// A redis-server loaded with users from a set of rules.
#[derive(Debug)]
pub(crate) struct Users {
    server: RedisServer,
    _dir: tempfile::TempDir,
}

impl Users {
    /// Loads `rules` through deploy/base/redis-users.sh, with every role's password.
    pub(crate) fn start(rules: &str) -> Users {
        Self::start_with_args(rules, Vec::new())
    }

    /// [`Users::start`], with more `redis-server` arguments (TLS).
    pub(crate) fn start_with_args(rules: &str, args: Vec<std::ffi::OsString>) -> Users {
        let dir = tempfile::tempdir().expect("temp dir");
        let (rules_path, acl_path) = (dir.path().join("rules.acl"), dir.path().join("users.acl"));
        std::fs::write(&rules_path, rules).expect("rules written");
        let mut script = Command::new("sh");
        script.arg(repo_file("deploy/base/redis-users.sh")).arg(&rules_path).arg(&acl_path);
        for role in ROLES {
            script.env(format!("REDIS_PASSWORD_{}", role.to_uppercase().replace('-', "_")), password(role));
        }
        let out = script.output().expect("sh runs deploy/base/redis-users.sh");
        assert!(out.status.success(), "redis-users.sh: {}", String::from_utf8_lossy(&out.stderr));
        let acl = std::fs::read_to_string(&acl_path).expect("the ACL file");
        for role in ROLES {
            assert!(!acl.contains(&password(role)), "the ACL file holds hashes, never a password");
        }
        let mut args = args;
        args.extend([std::ffi::OsString::from("--aclfile"), acl_path.into()]);
        let server = RedisServer::start_with_args(args);
        Users { server, _dir: dir }
    }

    /// `redis://ROLE:PASSWORD@127.0.0.1:PORT`, what the role's pods are given.
    pub(crate) fn url(&self, role: &str) -> String {
        format!("redis://{role}:{}@127.0.0.1:{}", password(role), self.server.port())
    }

    /// A URL without a user.
    pub(crate) fn anonymous_url(&self) -> String {
        self.server.url()
    }

    /// A plain connection as `role` (for the commands no broker operation sends).
    pub(crate) async fn connection(&self, role: &str) -> MultiplexedConnection {
        redis::Client::open(self.url(role))
            .expect("a valid URL")
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("{role} connects: {e}"))
    }
}
