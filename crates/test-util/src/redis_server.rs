//! A private `redis-server` process for one test.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the server keeps its data across a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Nothing on disk: a restart starts empty.
    None,
    /// Append-only file with `fsync` on every write: a restart (even after SIGKILL) keeps every
    /// acknowledged write.
    AppendOnly,
}

/// A `redis-server` child process on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    persistence: Persistence,
    /// More `redis-server` arguments (an ACL file, TLS).
    args: Vec<OsString>,
    dir: tempfile::TempDir,
}

/// The server binary: `$TANKSIM_REDIS_SERVER`, else `redis-server` on the PATH (the test
/// command installs it when missing).
fn binary() -> PathBuf {
    std::env::var_os("TANKSIM_REDIS_SERVER").map_or_else(|| PathBuf::from("redis-server"), PathBuf::from)
}

impl RedisServer {
    /// Starts a server without persistence.
    pub fn start() -> Self {
        Self::start_with(Persistence::None)
    }

    /// Starts a server, retrying on another port if the chosen one was taken meanwhile.
    pub fn start_with(persistence: Persistence) -> Self {
        Self::start_configured(persistence, Vec::new())
    }

    /// Starts a server without persistence, with more `redis-server` arguments (e.g.
    /// `--aclfile PATH`, `--tls-port N` and certificates). Readiness is checked on the plain
    /// port, where a server whose default user is off answers PING with `-NOAUTH`.
    pub fn start_with_args<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self::start_configured(Persistence::None, args.into_iter().map(Into::into).collect())
    }

    fn start_configured(persistence: Persistence, args: Vec<OsString>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for redis");
        let mut server = RedisServer { child: None, port: 0, persistence, args, dir };
        let mut last_error = String::new();
        for _ in 0..5 {
            server.port = crate::free_port();
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (its append-only file lives here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server with SIGKILL (no chance to save) and starts it again on the same port
    /// and directory. With [`Persistence::AppendOnly`] every acknowledged write survives.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().expect("redis-server restarts on its port");
    }

    /// Kills the server (SIGKILL); [`RedisServer::restart`] brings it back.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new(binary());
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--protected-mode", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match self.persistence {
            Persistence::None => cmd.args(["--appendonly", "no"]),
            Persistence::AppendOnly => cmd.args(["--appendonly", "yes", "--appendfsync", "always"]),
        };
        cmd.args(&self.args);
        let child = cmd.spawn().map_err(|e| format!("spawning {}: {e}", binary().display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("redis-server exited at start ({status}) on port {}", self.port));
            }
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err(format!("redis-server did not answer PING on port {} within 10 s", self.port))
    }
}

/// Whether a Redis server on `port` answers PING (raw RESP: no client library needed), with
/// PONG or, when connections must authenticate first, NOAUTH.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && (&buf == b"+PONG\r\n" || &buf == b"-NOAUTH")
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_restarts_on_the_same_port() {
        let mut server = RedisServer::start();
        assert!(ping(server.port()));
        server.kill();
        assert!(!ping(server.port()));
        server.restart();
        assert!(ping(server.port()));
    }
}
