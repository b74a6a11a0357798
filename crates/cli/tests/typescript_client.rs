//! The TypeScript client (clients/typescript) against a running `tanksim serve all`: its MC-tau
//! example submits, watches and reads results; a call without a key (or with a bad one) is
//! refused UNAUTHENTICATED; its committed generated code matches the protos; and its JSDoc
//! types check against that code.
//!
//! Needs `$TANKSIM_NODE` (Node >= 20) and the client's packages installed (scripts/tools.sh's
//! `ensure_typescript_client` does both, and installs buf for the drift check); without
//! `$TANKSIM_NODE` every test prints SKIPPED and passes.

mod served;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use served::{
    Kill, Served, assert_mc_tau_matches_gateway, assert_same_files, create_key, files, generated_files, repo,
    submitted_job_id,
};

const RUNS: u64 = 5000;

/// Calls GetJob through the client without a key, then with a made-up one; prints one line
/// per call: `refused <Code>` or `answered <id>`.
const UNAUTHENTICATED_SCRIPT: &str = r#"
import { Code, ConnectError, connect } from "./src/index.js";
const [target, jobId] = process.argv.slice(1);
for (const token of [undefined, "tsk_not_a_key"]) {
  const client = connect(target, { token });
  try {
    const job = await client.get(jobId);
    console.log(`answered ${job.id}`);
  } catch (e) {
    console.log(e instanceof ConnectError ? `refused ${Code[e.code]}` : `failed ${e}`);
  } finally {
    client.close();
  }
}
"#;

#[tokio::test]
async fn mc_tau_example_submits_watches_and_reads_results() {
    let Some(node) = node() else { return };
    let served = Served::start().await;
    let token = create_key(&served.redis, "typescript", "example", "jobs:submit,jobs:read");
    let mut cmd = Command::new(&node);
    cmd.arg(client_dir().join("examples/mc_tau.js"))
        .args(["--target", &served.addr, "--runs", &RUNS.to_string()])
        .env("TANKSIM_TOKEN", &token);
    let (status, stdout, stderr) = run_blocking(cmd).await;
    let context = served.context(&stdout, &stderr);
    assert!(status.success(), "mc_tau.js exited with {status}\n{context}");

    let job_id = submitted_job_id(&stdout, &context);
    // The watch printed the final event: `succeeded  5000/5000 runs  (n/n chunks)`.
    let done = format!("{RUNS}/{RUNS} runs");
    assert!(
        stdout.lines().any(|l| l.starts_with("succeeded ") && l.contains(&done)),
        "no final progress line\n{context}"
    );
    assert_mc_tau_matches_gateway(&served, &token, &job_id, &stdout, &context, RUNS).await;
}

#[tokio::test]
async fn calls_without_a_valid_key_are_unauthenticated() {
    let Some(node) = node() else { return };
    let served = Served::start().await;

    // The SDK surfaces the refusal as a ConnectError with Code.Unauthenticated.
    let mut cmd = Command::new(&node);
    cmd.current_dir(client_dir())
        .args(["--input-type=module", "-e", UNAUTHENTICATED_SCRIPT, "--", &served.addr, "no-such-job"])
        .env_remove("TANKSIM_TOKEN");
    let (status, stdout, stderr) = run_blocking(cmd).await;
    let context = served.context(&stdout, &stderr);
    assert!(status.success(), "the inline script exited with {status}\n{context}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, ["refused Unauthenticated", "refused Unauthenticated"], "{context}");

    // The example reports it and exits 2.
    let mut cmd = Command::new(&node);
    cmd.arg(client_dir().join("examples/mc_tau.js"))
        .args(["--target", &served.addr, "--runs", "5"])
        .env_remove("TANKSIM_TOKEN");
    let (status, stdout, stderr) = run_blocking(cmd).await;
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(status.code(), Some(2), "mc_tau.js without a key\n{context}");
    assert!(stderr.starts_with("error: UNAUTHENTICATED: "), "{context}");
    assert!(!stdout.contains("submitted job"), "{context}");
}

#[test]
fn committed_generated_code_matches_the_protos() {
    let Some(node) = node() else { return };
    let mut generate = Command::new("bash");
    generate
        .arg(client_dir().join("generate.sh"))
        // protoc-gen-es is a Node script (`#!/usr/bin/env node`): run it with this Node.
        .env("PATH", path_with(&node));
    let generated = generated_files(generate, &[]);
    let committed = files(&client_dir().join("src/gen"), &[]);
    let stale = "clients/typescript/src/gen is stale: run clients/typescript/generate.sh \
                 (with the protoc-gen-es version pinned in clients/typescript/package-lock.json)";
    assert!(!generated.is_empty(), "generate.sh wrote nothing");
    assert_same_files(&committed, &generated, stale);
}

#[tokio::test]
async fn wrapper_and_example_type_check() {
    let Some(node) = node() else { return };
    let mut cmd = Command::new(&node);
    cmd.current_dir(client_dir()).args(["node_modules/typescript/bin/tsc", "-p", "."]);
    let (status, stdout, stderr) = run_blocking(cmd).await;
    assert!(status.success(), "tsc -p clients/typescript ({status}):\n{stdout}{stderr}");
}

/// `$TANKSIM_NODE`, or None after printing SKIPPED. Panics if the client's packages are not
/// installed: with Node given, a missing `npm ci` is a setup error, not a reason to skip.
fn node() -> Option<PathBuf> {
    let node = served::interpreter("TANKSIM_NODE", "scripts/tools.sh's ensure_typescript_client")?;
    let modules = client_dir().join("node_modules");
    assert!(
        modules.join("@connectrpc/connect-node").is_dir(),
        "{} has no packages: run `npm ci` there (ensure_typescript_client in scripts/tools.sh)",
        modules.display()
    );
    Some(node)
}

fn client_dir() -> PathBuf {
    repo().join("clients/typescript")
}

/// `$PATH` with the directory of `node` first.
fn path_with(node: &Path) -> OsString {
    let dir = node.parent().map(Path::to_path_buf).unwrap_or_default();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).expect("a valid PATH")
}

/// Runs `cmd` (Node) for 120 s at most.
async fn run_blocking(cmd: Command) -> (ExitStatus, String, String) {
    served::run_blocking(cmd, Duration::from_secs(120), "node", Kill::Process).await
}
