#!/usr/bin/env python3
"""Reads the JSON log of site.yml's check-mode run (scripts/check-ansible.sh) and decides.

A check-mode run can pass by skipping everything, so passing is not enough: the tasks that
render K3s's files, plan its download, read the installed version, rewrite the kubeconfig and
vet the sealing key and the sealed secrets must have run on the host that exercises them, with
the status check mode gives them, and the Helm and Kubernetes API steps must not have run at
all. The argocd role must also have collected exactly the sealed secrets the host should get:
every argocd/sealed/*-<env>.yaml in the checkout, plus the fixture's repository credentials on
the prod host. Prints one line per task and host either way.

Every file, template, copy and get_url task must also aim inside --root (the temporary
directory): a path that forgot the k3s_root_dir prefix is caught here, in check mode, before
scripts/check-ansible.sh does a real run inside that directory.

Usage: check-results.py [--root DIR] LOG.json RC                    the check-mode run
       check-results.py [--root DIR] --expect-failure TASK LOG RC   TASK, and only TASK, fails
       check-results.py [--root DIR] --expect-unchanged LOG RC      a re-run changes nothing
       check-results.py [--root DIR] --expect-success LOG RC        it just has to succeed
"""

import argparse
import json
import sys
from pathlib import Path

FRESH, INSTALLED = "check-fresh-dev", "check-installed-prod"
DOWNLOAD = "Download the pinned K3s binary, verified against its SHA-256"
KUBECONFIG = "Write the cluster's kubeconfig on the controller, pointed at the node"
ROOT_CHECK = "Check the root Application follows this repository at the environment's branch"
COLLECT_SEALED = "Collect the environment's sealed secrets"
LIST_SEALED = "List the sealed secrets and the namespaces they go to"
REPO = Path(__file__).resolve().parents[2]
ENVS = {FRESH: "dev", INSTALLED: "prod"}

EXPECTED = {
    FRESH: {
        "Read the installed K3s version": "skipped",
        DOWNLOAD: "changed",
        "Create the K3s configuration directory": "changed",
        "Write the K3s server configuration": "changed",
        "Write the environment of the K3s service": "changed",
        "Install the K3s systemd unit": "changed",
        "Restart K3s": "skipped",
        "Wait for the node to report Ready": "skipped",
        "Read the admin kubeconfig K3s wrote": "skipped",
        KUBECONFIG: "skipped",
        "Say what happens without a sealing key": "ok",
        ROOT_CHECK: "ok",
        COLLECT_SEALED: "ok",
        "Check each sealed file holds SealedSecrets with a namespace and a name": "ok",
        LIST_SEALED: "ok",
        "Check the required sealed secrets are there, each sealed once": "ok",
        "Check they are SealedSecrets Argo CD will read as repository credentials": "skipped",
        "Say the repository is read without credentials": "ok",
    },
    INSTALLED: {
        "Read the installed K3s version": "ok",
        DOWNLOAD: "skipped",
        "Write the K3s server configuration": "changed",
        "Install the K3s systemd unit": "changed",
        "Wait for the node to report Ready": "ok",
        "Read the admin kubeconfig K3s wrote": "ok",
        "Create the kubeconfig directory on the controller": "changed",
        KUBECONFIG: "changed",
        "Inspect the sealing key": "ok",
        "Check the key is the private half of the committed certificate": "ok",
        "Check they are SealedSecrets Argo CD will read as repository credentials": "ok",
        ROOT_CHECK: "ok",
        COLLECT_SEALED: "ok",
        "Check each sealed file holds SealedSecrets with a namespace and a name": "ok",
        LIST_SEALED: "ok",
        "Check the required sealed secrets are there, each sealed once": "ok",
        "Say the repository is read without credentials": "skipped",
    },
}

# Tagged `service` or `cluster`: there is no systemd, Helm or Kubernetes API here.
MUST_NOT_RUN = {
    "Enable K3s at boot and make sure it runs",
    "Check the controller's Helm client",
    "Check systemd manages the node",
    "Check the cluster's API answers with the fetched kubeconfig",
    "Restore the environment's sealing key",
    "Install the Sealed Secrets chart at the pinned version",
    "Install the Argo CD chart at the pinned version",
    "Check the SealedSecret CRD is served",
    "Create the namespaces the sealed secrets go to",
    "Apply the sealed secrets and wait for them to be unsealed",
    "Apply the root Application",
}


def status(result: dict) -> str:
    if result.get("failed") or result.get("unreachable"):
        return "failed"
    if result.get("skipped"):
        return "skipped"
    return "changed" if result.get("changed") else "ok"


def message(result: dict) -> str:
    failed = [r for r in result.get("results", []) if r.get("failed")] or [result]
    return "; ".join(str(r.get("msg", r.get("stderr", "")))[:400] for r in failed)


WRITING_ACTIONS = {"ansible.builtin.file", "ansible.builtin.template", "ansible.builtin.copy",
                   "ansible.builtin.get_url"}


def written_paths(result: dict):
    """The paths a file-writing task aims at (no_log hides a task's arguments: not checked)."""
    for item in result.get("results") or [result]:
        if item.get("action") in WRITING_ACTIONS:
            args = (item.get("invocation") or {}).get("module_args") or {}
            for key in ("dest", "path"):
                if args.get(key):
                    yield args[key]


def check_sealed(facts: dict[str, dict], root: str | None) -> list[str]:
    """The argocd role applies exactly the committed sealed secrets of the host's environment
    (and the prod host's fixture credentials), in namespaces it creates first."""
    errors = []
    for host, env in ENVS.items():
        want = sorted(str(p) for p in (REPO / "argocd" / "sealed").glob(f"*-{env}.yaml"))
        if host == INSTALLED and root:
            want = sorted(want + [str(Path(root) / "repo-credentials-prod.yaml")])
        got = facts.get(host, {})
        files = got.get("argocd_sealed_files")
        # As a set: the role's order follows its search paths, not the paths' sort order.
        if files is None or sorted(files) != want:
            errors.append(f"{host}: the argocd role collected the sealed files {files}, expected {want}")
        names = got.get("argocd_sealed_names") or []
        if "monitoring/grafana-admin" not in names:
            errors.append(f"{host}: no sealed monitoring/grafana-admin among {names}")
        namespaces = got.get("argocd_sealed_namespaces")
        if namespaces != sorted({n.partition("/")[0] for n in names}):
            errors.append(f"{host}: namespaces to create {namespaces} do not match the secrets {names}")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--expect-failure", metavar="TASK")
    mode.add_argument("--expect-unchanged", action="store_true")
    mode.add_argument("--expect-success", action="store_true")
    parser.add_argument("log")
    parser.add_argument("rc", type=int)
    args = parser.parse_args()
    expect_failure, log_path, rc = args.expect_failure, args.log, args.rc
    with open(log_path) as f:
        text = f.read()
    try:
        log = json.loads(text[text.index("{"):])
    except ValueError:
        print(text)
        print("check-results: the playbook did not produce a JSON log")
        return 1

    seen: dict[tuple[str, str], str] = {}
    facts: dict[str, dict] = {}
    errors = []
    for play in log["plays"]:
        for task in play["tasks"]:
            # Role tasks are logged as "role : name".
            name = task["task"]["name"].partition(" : ")[2] or task["task"]["name"]
            for host, result in task["hosts"].items():
                state = status(result)
                seen[(host, name)] = state
                if name in (COLLECT_SEALED, LIST_SEALED):
                    facts.setdefault(host, {}).update(result.get("ansible_facts") or {})
                print(f"  {state:8} {host:22} {name}")
                if args.root:
                    for path in written_paths(result):
                        if not str(path).startswith(args.root.rstrip("/") + "/"):
                            errors.append(f"{host}: {name!r} writes {path}, outside {args.root}")
                if args.expect_unchanged and state == "changed":
                    errors.append(f"{host}: {name!r} changed on a re-run: not idempotent")
                if state == "failed":
                    failure = f"{host}: {name}: {message(result)}"
                    if name == expect_failure:
                        print(f"  (expected) {failure}")
                    else:
                        errors.append(f"failed: {failure}")

    if args.expect_unchanged or args.expect_success:
        if rc != 0:
            errors.append(f"ansible-playbook exited with {rc}")
    elif expect_failure is not None:
        if rc == 0 or not any(n == expect_failure and s == "failed" for (_, n), s in seen.items()):
            errors.append(f"expected the task {expect_failure!r} to fail, it did not (rc {rc})")
    else:
        if rc != 0:
            errors.append(f"ansible-playbook exited with {rc}")
        for host, tasks in EXPECTED.items():
            for name, want in tasks.items():
                got = seen.get((host, name), "not run")
                if got != want:
                    errors.append(f"{host}: {name!r} was {got}, expected {want}")
        for host, name in seen:
            if name in MUST_NOT_RUN:
                errors.append(f"{host}: {name!r} ran, but its tag is skipped here")
        errors += check_sealed(facts, args.root)

    for host, stats in log.get("stats", {}).items():
        print(f"  {host}: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.items())))
    if errors:
        print("check-results: FAILED\n  " + "\n  ".join(errors))
        return 1
    print("check-results: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
