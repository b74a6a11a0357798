#!/usr/bin/env python3
"""Fails when the Helm releases Ansible bootstraps drift from the ones Argo CD adopts.

The sealed_secrets and argocd roles install charts once, before Argo CD runs; Argo CD then
takes them over through the Applications in argocd/. Adoption only works if both sides name
the same chart, version, release, namespace and resource names: otherwise Argo CD installs a
second controller beside the first (two Sealed Secrets controllers fight over every secret) or
downgrades what Ansible installed. This compares the roles' defaults with every Application
in argocd/ that deploys one of those charts. An Application that does not exist yet is not
drift (argocd/ may not manage Argo CD itself); a mismatch is, and so is a Sealed Secrets value
the role sets that Git sets differently.

Usage: check-pins.py REPO_ROOT
"""

import sys
from pathlib import Path

import yaml


def load_defaults(repo: Path, role: str) -> dict:
    return yaml.safe_load((repo / "ansible/roles" / role / "defaults/main.yml").read_text())


def applications(repo: Path):
    for path in sorted((repo / "argocd").rglob("*.y*ml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as err:
            sys.exit(f"check-pins: {path} is not valid YAML: {err}")
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Application":
                yield path.relative_to(repo), doc


def sources(app: dict):
    spec = app.get("spec") or {}
    if spec.get("source"):
        yield spec["source"]
    yield from spec.get("sources") or []


def helm_values(repo: Path, app: dict, source: dict) -> dict:
    """The Helm values an Application gives a chart, in Argo CD's order of precedence:
    valueFiles (those from this repository through a `ref` source), then values, then
    valuesObject."""
    refs = {f"${s['ref']}": repo for s in sources(app) if s.get("ref")}
    helm = source.get("helm") or {}
    values = {}
    for value_file in helm.get("valueFiles") or []:
        ref, _, rest = value_file.partition("/")
        if ref in refs:
            values.update(yaml.safe_load((refs[ref] / rest).read_text()) or {})
    if helm.get("values"):
        values.update(yaml.safe_load(helm["values"]) or {})
    values.update(helm.get("valuesObject") or {})
    return values


def main() -> int:
    repo = Path(sys.argv[1]).resolve()
    sealed = load_defaults(repo, "sealed_secrets")
    argocd = load_defaults(repo, "argocd")
    expected = {
        sealed["sealed_secrets_chart_ref"]: {
            "repoURL": sealed["sealed_secrets_chart_repo_url"],
            "targetRevision": sealed["sealed_secrets_chart_version"],
            "releaseName": sealed["sealed_secrets_release_name"],
            "namespace": sealed["sealed_secrets_namespace"],
        },
        argocd["argocd_chart_ref"]: {
            "repoURL": argocd["argocd_chart_repo_url"],
            "targetRevision": argocd["argocd_chart_version"],
            "releaseName": argocd["argocd_release_name"],
            "namespace": argocd["argocd_namespace"],
        },
    }
    role_values = {sealed["sealed_secrets_chart_ref"]: sealed["sealed_secrets_values"]}
    errors, seen = [], set()
    for path, app in applications(repo):
        name = (app.get("metadata") or {}).get("name", "?")
        for source in sources(app):
            chart = source.get("chart")
            if chart not in expected:
                continue
            seen.add(chart)
            want = expected[chart]
            got = {
                "repoURL": source.get("repoURL"),
                "targetRevision": str(source.get("targetRevision")),
                # Argo CD names the Helm release after the Application unless told otherwise.
                "releaseName": (source.get("helm") or {}).get("releaseName") or name,
                "namespace": ((app.get("spec") or {}).get("destination") or {}).get("namespace"),
            }
            for key, value in want.items():
                if got[key] != value:
                    errors.append(f"{path}: Application {name}, chart {chart}: {key} is {got[key]!r}, "
                                  f"the Ansible bootstrap installs {value!r}")
            # Every value the role sets must be the same in Git, so adopting the release changes
            # nothing (Git may add more, e.g. a ServiceMonitor whose CRD comes later).
            given = helm_values(repo, app, source)
            for key, value in role_values.get(chart, {}).items():
                if given.get(key) != value:
                    errors.append(f"{path}: Application {name}, chart {chart}: value {key} is "
                                  f"{given.get(key)!r}, the Ansible bootstrap sets {value!r}")
    for chart in sorted(set(expected) - seen):
        print(f"check-pins: no Application in argocd/ deploys chart {chart}; nothing to compare")
    if errors:
        print("\n".join(["check-pins: Ansible and Argo CD disagree (Argo CD would not adopt the release):"] + errors))
        return 1
    print(f"check-pins: OK ({', '.join(sorted(seen)) or 'no adopted chart yet'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
