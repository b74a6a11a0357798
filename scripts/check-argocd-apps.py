#!/usr/bin/env python3
"""Checks argocd/ the way Argo CD would use it, without a cluster: fails on drift.

scripts/check-argocd.sh runs it (after yamllint) with the tools it installs. For each root
Application (argocd/root-<env>.yaml) it renders the directory the root syncs with
`kubectl kustomize` and checks every Application and AppProject in it:

* Strictly against the Argo CD CRD schemas in ../shared/crd-schemas (JSON Schema Draft 7,
  `additionalProperties: false`): a misspelled field fails instead of being pruned silently
  by the API server. `metadata` is open in those schemas, so its keys, finalizers and
  argocd.argoproj.io/* annotations are checked here; so are syncOptions (free strings there).
* Every repository path a source points at exists; paths under argocd/ render with kustomize
  (deploy/overlays/* are checked for existence only, they belong to the application's own
  checks), and each path source tracks the cluster's branch and environment.
* Every Helm chart is pinned to one exact version (no ranges, `*`, `latest` or `HEAD`).
* Every `$ref/...` values file exists in this repository, and every file in argocd/values/ is
  used by some Application.
* Every Application's project exists and permits its source repositories and destination;
  every project is actually restricted (no `*` repositories, namespaces or kinds); the root
  project permits what the root deploys.
* Sync waves: projects first, then the operators whose CRDs tanksim uses (KEDA, Argo Rollouts,
  prometheus-operator, Sealed Secrets, cert-manager), tanksim last. When tanksim's overlay renders, every
  custom-resource group it uses must come from such an operator, and every kind and namespace
  in it must be permitted by the tanksim project.
* tanksim must not fight KEDA or Argo Rollouts over replicas: the worker and gateway
  Deployments (and any Deployment a ScaledObject or a Rollout's workloadRef points at) have
  /spec/replicas in ignoreDifferences, with RespectIgnoreDifferences=true.

Usage: check-argocd-apps.py   (run from anywhere; exits 1 listing every problem found)
Environment: TANKSIM_CRD_SCHEMAS (schema directory), KUBECTL (kubectl binary).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crd_schemas  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
REPO_URL = "https://github.com/tanksim/tanksim.git"
IN_CLUSTER = "https://kubernetes.default.svc"
ARGOCD_NAMESPACE = "argocd"

# One cluster per environment (shared decision): the branch each root tracks.
ENV_BRANCH = {"dev": "dev", "prod": "main"}

# The operators whose CRDs the application uses, by chart, and the CRD groups they provide.
# tanksim's Application must sync in a later wave than each of them.
OPERATOR_CHART_FOR_GROUP = {
    "keda.sh": "keda",
    "argoproj.io": "argo-rollouts",
    "monitoring.coreos.com": "kube-prometheus-stack",
    "bitnami.com": "sealed-secrets",
    "cert-manager.io": "cert-manager",
}
# Custom-resource groups the cluster provides without an Application: K3s ships Traefik and its
# Helm controller.
CLUSTER_PROVIDED_GROUPS = {"traefik.io", "traefik.containo.us", "helm.cattle.io"}
CORE_GROUPS = {
    "",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "apiregistration.k8s.io",
}
# Charts whose CRDs exceed client-side apply's 256 KiB last-applied annotation.
SERVER_SIDE_APPLY_CHARTS = {"kube-prometheus-stack", "keda", "argo-rollouts"}
# Deployments whose replica count another controller owns: worker (KEDA), gateway (Argo
# Rollouts, through the Rollout's workloadRef).
CONTROLLER_SCALED_DEPLOYMENTS = {"worker", "gateway"}

CLUSTER_SCOPED_KINDS = {
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("storage.k8s.io", "StorageClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("apiregistration.k8s.io", "APIService"),
    ("node.k8s.io", "RuntimeClass"),
    ("keda.sh", "ClusterTriggerAuthentication"),
    ("argoproj.io", "ClusterAnalysisTemplate"),
}

# Argo CD's sync options (https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/):
# each option and the values it accepts. They are plain strings in the CRD, so a typo there
# would be ignored by Argo CD without a word.
SYNC_OPTIONS = {
    "Validate": {"true", "false"},
    "SkipDryRunOnMissingResource": {"true"},
    "Prune": {"false", "confirm"},
    "Delete": {"false", "confirm"},
    "PruneLast": {"true"},
    "Replace": {"true"},
    "Force": {"true"},
    "ServerSideApply": {"true", "false"},
    "ClientSideApplyMigration": {"true", "false"},
    "ApplyOutOfSyncOnly": {"true"},
    "CreateNamespace": {"true"},
    "PrunePropagationPolicy": {"foreground", "background", "orphan"},
    "RespectIgnoreDifferences": {"true"},
    "FailOnSharedResource": {"true"},
}
FINALIZERS = {
    "resources-finalizer.argocd.argoproj.io",
    "resources-finalizer.argocd.argoproj.io/foreground",
    "resources-finalizer.argocd.argoproj.io/background",
    "post-delete-finalizer.argocd.argoproj.io",
}
ARGOCD_ANNOTATIONS = {
    "argocd.argoproj.io/sync-wave",
    "argocd.argoproj.io/sync-options",
    "argocd.argoproj.io/compare-options",
    "argocd.argoproj.io/refresh",
    "argocd.argoproj.io/manifest-generate-paths",
    "argocd.argoproj.io/skip-reconcile",
}
METADATA_KEYS = {"name", "namespace", "labels", "annotations", "finalizers"}
# An exact chart version: semver, optionally v-prefixed, optionally a pre-release; no ranges.
PINNED_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")


def schema_dir(report: Report) -> Path | None:
    """The schema catalog (scripts/crd_schemas.py), or an error in the report."""
    found = crd_schemas.locate("argoproj.io")
    if found is not None:
        return found
    candidates = crd_schemas.candidates()
    report.error(
        "crd-schemas",
        "no Argo CD CRD schemas found (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "); set TANKSIM_CRD_SCHEMAS to the directory holding argoproj.io/*.json",
    )
    return None


def load_yaml_stream(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def kustomize(path: Path) -> tuple[list[dict] | None, str]:
    kubectl = os.environ.get("KUBECTL", "kubectl")
    result = subprocess.run([kubectl, "kustomize", str(path)], check=False, capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return load_yaml_stream(result.stdout), ""


def group_of(doc: dict) -> str:
    api_version = doc.get("apiVersion", "")
    return api_version.split("/")[0] if "/" in api_version else ""


def ident(doc: dict) -> str:
    return f"{doc.get('kind')} {doc.get('metadata', {}).get('name')}"


def glob_allows(patterns: list[str], value: str) -> bool:
    """Argo CD's project globs: any pattern matches and no `!pattern` excludes."""
    allowed = any(fnmatch.fnmatchcase(value, p) for p in patterns if not p.startswith("!"))
    denied = any(fnmatch.fnmatchcase(value, p[1:]) for p in patterns if p.startswith("!"))
    return allowed and not denied


class SchemaValidator:
    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[Path, jsonschema.Draft7Validator] = {}

    def validate(self, doc: dict, where: str, report: Report) -> None:
        api_version = doc.get("apiVersion", "")
        group, _, version = api_version.rpartition("/")
        path = self.root / group / f"{str(doc.get('kind', '')).lower()}_{version}.json"
        if not path.is_file():
            report.error(where, f"no CRD schema for {api_version} {doc.get('kind')} ({path})")
            return
        if path not in self.cache:
            schema = json.loads(path.read_text())
            self.cache[path] = jsonschema.Draft7Validator(schema)
        for err in sorted(self.cache[path].iter_errors(doc), key=lambda e: list(e.absolute_path)):
            location = ".".join(str(p) for p in err.absolute_path) or "(document)"
            report.error(where, f"schema: {location}: {err.message}")


def check_metadata(doc: dict, where: str, report: Report) -> None:
    metadata = doc.get("metadata") or {}
    for key in metadata:
        if key not in METADATA_KEYS:
            report.error(where, f"metadata.{key}: not a field to set in git ({sorted(METADATA_KEYS)})")
    if metadata.get("namespace") != ARGOCD_NAMESPACE:
        report.error(where, f"metadata.namespace must be {ARGOCD_NAMESPACE!r}")
    for finalizer in metadata.get("finalizers") or []:
        if finalizer not in FINALIZERS:
            report.error(where, f"metadata.finalizers: unknown finalizer {finalizer!r}")
    for key in metadata.get("annotations") or {}:
        if key.startswith("argocd.argoproj.io/") and key not in ARGOCD_ANNOTATIONS:
            report.error(where, f"metadata.annotations: unknown Argo CD annotation {key!r}")


def sync_wave(doc: dict, where: str, report: Report) -> int | None:
    raw = (doc.get("metadata", {}).get("annotations") or {}).get("argocd.argoproj.io/sync-wave")
    if raw is None:
        report.error(where, "no argocd.argoproj.io/sync-wave annotation (every child states its wave)")
        return None
    try:
        return int(raw)
    except ValueError:
        report.error(where, f"sync-wave {raw!r} is not an integer")
        return None


def sources_of(app: dict) -> list[dict]:
    spec = app.get("spec", {})
    return list(spec.get("sources") or ([spec["source"]] if spec.get("source") else []))


def chart_of(app: dict) -> str | None:
    for source in sources_of(app):
        if source.get("chart"):
            return source["chart"]
    return None


def check_sync_policy(app: dict, where: str, report: Report) -> set[str]:
    policy = app.get("spec", {}).get("syncPolicy") or {}
    automated = policy.get("automated") or {}
    if automated.get("enabled") is False or not automated:
        report.error(where, "syncPolicy.automated missing or disabled")
    if automated.get("prune") is not True:
        report.error(where, "syncPolicy.automated.prune must be true")
    if automated.get("selfHeal") is not True:
        report.error(where, "syncPolicy.automated.selfHeal must be true")
    retry = policy.get("retry") or {}
    if not retry.get("limit") or not (retry.get("backoff") or {}).get("duration"):
        report.error(where, "syncPolicy.retry needs a limit and a backoff")
    options: set[str] = set()
    for option in policy.get("syncOptions") or []:
        name, sep, value = option.partition("=")
        if not sep or name not in SYNC_OPTIONS:
            report.error(where, f"syncOptions: unknown option {option!r}")
        elif value not in SYNC_OPTIONS[name]:
            report.error(where, f"syncOptions: {name} takes {sorted(SYNC_OPTIONS[name])}, not {value!r}")
        else:
            options.add(option)
    return options


def check_project_restricted(project: dict, where: str, report: Report) -> None:
    spec = project.get("spec", {})
    for repo in spec.get("sourceRepos") or []:
        if "*" in repo:
            report.error(where, f"sourceRepos: {repo!r} is not restricted")
    for dest in spec.get("destinations") or []:
        if "*" in str(dest.get("namespace", "*")) or "*" in str(dest.get("server", dest.get("name", "*"))):
            report.error(where, f"destinations: {dest} is not restricted")
    for item in spec.get("clusterResourceWhitelist") or []:
        if "*" in (item.get("group", "") + item.get("kind", "")):
            report.error(where, f"clusterResourceWhitelist: {item} is not restricted")


def project_permits_kind(project: dict | None, group: str, kind: str, name: str, namespaced: bool) -> bool:
    if project is None:  # Argo CD's built-in default project: everything.
        return True
    spec = project.get("spec", {})
    if namespaced:
        whitelist = spec.get("namespaceResourceWhitelist")
        blacklist = spec.get("namespaceResourceBlacklist") or []
        if any(glob_allows([b["group"]], group) and glob_allows([b["kind"]], kind) for b in blacklist):
            return False
        if whitelist is None:  # unset: every namespaced kind
            return True
        return any(glob_allows([w["group"]], group) and glob_allows([w["kind"]], kind) for w in whitelist)
    whitelist = spec.get("clusterResourceWhitelist") or []
    return any(
        glob_allows([w["group"]], group)
        and glob_allows([w["kind"]], kind)
        and ("name" not in w or fnmatch.fnmatchcase(name, w["name"]))
        for w in whitelist
    )


def project_permits_destination(project: dict | None, server: str, namespace: str) -> bool:
    if project is None:
        return True
    for dest in project.get("spec", {}).get("destinations") or []:
        if glob_allows([dest.get("server", "")], server) and glob_allows([dest.get("namespace", "")], namespace):
            return True
    return False


class ClusterCheck:
    """One root Application and everything it renders."""

    def __init__(self, env: str, root_file: Path, validator: SchemaValidator, report: Report):
        self.env = env
        self.branch = ENV_BRANCH.get(env)
        self.root_file = root_file
        self.validator = validator
        self.report = report
        self.where = str(root_file.relative_to(REPO))
        self.values_used: set[str] = set()
        self.rendered_files: set[tuple[str, str]] = set()
        # Per Application name, from its rendered overlay: custom-resource groups it uses, and
        # Deployments whose replicas a ScaledObject or a Rollout's workloadRef owns.
        self.crd_groups: dict[str, set[str]] = {}
        self.scaled: dict[str, set[str]] = {}

    def run(self) -> None:
        report = self.report
        if self.branch is None:
            report.error(self.where, f"unknown environment {self.env!r} (known: {sorted(ENV_BRANCH)})")
            return
        docs = load_yaml_stream(self.root_file.read_text())
        roots = [d for d in docs if d.get("kind") == "Application"]
        if len(roots) != 1 or len(docs) != 1:
            report.error(self.where, "must hold exactly one document, the root Application")
            return
        root = roots[0]
        self.validator.validate(root, self.where, report)
        check_metadata(root, self.where, report)
        check_sync_policy(root, self.where, report)
        sources = sources_of(root)
        if len(sources) != 1 or not sources[0].get("path"):
            report.error(self.where, "the root syncs exactly one repository path")
            return
        source = sources[0]
        self.check_repo_source(source, self.where)
        path = source["path"]
        if not path.startswith("argocd/clusters/"):
            report.error(self.where, f"source.path {path!r} should be argocd/clusters/<env>")
        children, error = kustomize(REPO / path)
        if children is None:
            report.error(self.where, f"{path} does not render: {error}")
            return
        render_where = f"{path} (rendered)"
        projects = {d["metadata"]["name"]: d for d in children if d.get("kind") == "AppProject"}
        apps = [d for d in children if d.get("kind") == "Application"]
        keys = [ident(d) for d in children]
        for duplicate in sorted({k for k in keys if keys.count(k) > 1}):
            report.error(render_where, f"{duplicate} defined more than once")

        # The root's own project must permit what the root deploys.
        root_project_name = root["spec"]["project"]
        root_project = projects.get(root_project_name)
        if root_project is None and root_project_name != "default":
            report.error(self.where, f"project {root_project_name!r} is not defined in {path}")
        root_dest = root["spec"].get("destination", {})
        for child in children:
            self.rendered_files.add((child.get("kind"), child.get("metadata", {}).get("name")))
            if not project_permits_kind(root_project, group_of(child), child.get("kind"), "", True):
                report.error(render_where, f"{ident(child)}: kind not permitted by project {root_project_name!r}")
            namespace = child.get("metadata", {}).get("namespace", root_dest.get("namespace"))
            if not project_permits_destination(root_project, root_dest.get("server", ""), namespace):
                report.error(
                    render_where, f"{ident(child)}: namespace {namespace!r} not permitted by the root's project"
                )
        if not project_permits_destination(root_project, root_dest.get("server", ""), root_dest.get("namespace", "")):
            report.error(self.where, "destination not permitted by its project")

        for child in children:
            where = f"{render_where}: {ident(child)}"
            if child.get("kind") not in ("Application", "AppProject"):
                report.error(where, "only Applications and AppProjects belong under argocd/clusters")
                continue
            self.validator.validate(child, where, report)
            check_metadata(child, where, report)
        for name, project in projects.items():
            check_project_restricted(project, f"{render_where}: AppProject {name}", report)

        waves = {}
        for app in apps:
            where = f"{render_where}: {ident(app)}"
            waves[app["metadata"]["name"]] = sync_wave(app, where, report)
            self.check_application(app, projects, where)
        project_waves = [sync_wave(p, f"{render_where}: {ident(p)}", report) for p in projects.values()]
        self.check_waves(apps, waves, project_waves, render_where)

    # -- one Application -------------------------------------------------------------------

    def check_application(self, app: dict, projects: dict[str, dict], where: str) -> None:
        report = self.report
        spec = app.get("spec", {})
        if spec.get("source") and spec.get("sources"):
            report.error(where, "both source and sources: Argo CD ignores `source` then")
        finalizers = app["metadata"].get("finalizers") or []
        if not any(f.startswith("resources-finalizer.argocd.argoproj.io") for f in finalizers):
            report.error(where, "no resources finalizer: deleting the Application would orphan what it deployed")
        options = check_sync_policy(app, where, report)

        project_name = spec.get("project")
        project = projects.get(project_name)
        if project is None:
            report.error(where, f"project {project_name!r} is not defined in this cluster's render")
        destination = spec.get("destination", {})
        server, namespace = destination.get("server", ""), destination.get("namespace", "")
        if server != IN_CLUSTER:
            report.error(where, f"destination.server must be the in-cluster API ({IN_CLUSTER})")
        if project is not None and not project_permits_destination(project, server, namespace):
            report.error(where, f"project {project_name!r} does not permit namespace {namespace!r}")

        sources = sources_of(app)
        refs = {s["ref"]: s for s in sources if s.get("ref")}
        for index, source in enumerate(sources):
            swhere = f"{where}: source[{index}]"
            repo_url = source.get("repoURL", "")
            if project is not None and not glob_allows(project["spec"].get("sourceRepos") or [], repo_url):
                report.error(swhere, f"project {project_name!r} does not permit repository {repo_url}")
            if source.get("chart"):
                version = str(source.get("targetRevision", ""))
                if not PINNED_VERSION.match(version):
                    report.error(swhere, f"chart {source['chart']} is not pinned to an exact version: {version!r}")
                for value_file in (source.get("helm") or {}).get("valueFiles") or []:
                    self.check_value_file(value_file, refs, swhere)
            elif source.get("path") is not None:
                self.check_repo_source(source, swhere)
                self.check_path(app, source, projects.get(project_name), swhere)
            elif source.get("ref"):
                if repo_url != REPO_URL:
                    report.error(swhere, f"values ref should come from {REPO_URL}")
                self.check_branch(source, swhere)
            else:
                report.error(swhere, "neither chart, path nor ref")

        chart = chart_of(app)
        if chart in SERVER_SIDE_APPLY_CHARTS and "ServerSideApply=true" not in options:
            report.error(where, f"{chart}'s CRDs need ServerSideApply=true (too large for client-side apply)")
        if (spec.get("ignoreDifferences")) and "RespectIgnoreDifferences=true" not in options:
            report.error(
                where, "ignoreDifferences without RespectIgnoreDifferences=true: a sync still resets those fields"
            )

    def check_branch(self, source: dict, where: str) -> None:
        if source.get("targetRevision") != self.branch:
            self.report.error(
                where,
                f"targetRevision {source.get('targetRevision')!r}: the {self.env} cluster tracks {self.branch!r}",
            )

    def check_repo_source(self, source: dict, where: str) -> None:
        if source.get("repoURL") != REPO_URL:
            self.report.error(where, f"repoURL must be this repository ({REPO_URL})")
        self.check_branch(source, where)
        path = source.get("path", "")
        if not path or path.startswith("/") or ".." in Path(path).parts:
            self.report.error(where, f"path {path!r} must be relative to the repository root")
        elif not (REPO / path).is_dir():
            self.report.error(where, f"path {path} does not exist in the repository")

    def check_value_file(self, value_file: str, refs: dict[str, dict], where: str) -> None:
        if not value_file.startswith("$"):
            self.report.error(where, f"values file {value_file!r}: keep values in this repository ($values/...)")
            return
        ref, _, rel = value_file[1:].partition("/")
        if ref not in refs:
            self.report.error(where, f"values file {value_file}: no source with ref {ref!r}")
            return
        if refs[ref].get("repoURL") != REPO_URL:
            self.report.error(where, f"values ref {ref!r} is not this repository")
            return
        if not (REPO / rel).is_file():
            self.report.error(where, f"values file {rel} does not exist")
        self.values_used.add(rel)

    def check_path(self, app: dict, source: dict, project: dict | None, where: str) -> None:
        path = source.get("path", "")
        if not (REPO / path).is_dir():
            return  # reported by check_repo_source
        if path.startswith("deploy/overlays/"):
            overlay_env = Path(path).parts[2] if len(Path(path).parts) > 2 else ""
            if overlay_env != self.env:
                self.report.error(where, f"the {self.env} cluster deploys {path}, not deploy/overlays/{self.env}")
        has_kustomization = any(
            (REPO / path / n).is_file() for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
        )
        if not has_kustomization:
            return
        rendered, error = kustomize(REPO / path)
        if rendered is None:
            if path.startswith("argocd/"):
                self.report.error(where, f"{path} does not render: {error}")
            else:
                self.report.notes.append(f"{where}: {path} does not render yet; checked for existence only")
            return
        if path.startswith("deploy/"):
            self.check_app_manifests(app, rendered, project, where)

    def check_app_manifests(self, app: dict, rendered: list[dict], project: dict | None, where: str) -> None:
        """What Argo CD would refuse, or fight over, in the application's rendered overlay."""
        report = self.report
        destination = app["spec"].get("destination", {})
        used_groups: set[str] = set()
        scaled: set[str] = set()
        for doc in rendered:
            group, kind = group_of(doc), doc.get("kind", "")
            name = doc.get("metadata", {}).get("name", "")
            namespaced = (group, kind) not in CLUSTER_SCOPED_KINDS
            if group not in CORE_GROUPS:
                used_groups.add(group)
            if not project_permits_kind(project, group, kind, name, namespaced):
                report.error(
                    where, f"{kind}.{group or 'core'} {name}: not permitted by project {app['spec']['project']!r}"
                )
            if namespaced:
                namespace = doc.get("metadata", {}).get("namespace", destination.get("namespace", ""))
                if not project_permits_destination(project, destination.get("server", ""), namespace):
                    report.error(where, f"{kind} {name}: namespace {namespace!r} not permitted by the project")
            spec = doc.get("spec") or {}
            if kind == "ScaledObject" and (spec.get("scaleTargetRef") or {}).get("kind", "Deployment") == "Deployment":
                scaled.add(spec["scaleTargetRef"].get("name", ""))
            if kind == "Rollout" and (spec.get("workloadRef") or {}).get("kind") == "Deployment":
                scaled.add(spec["workloadRef"].get("name", ""))
        self.crd_groups[app["metadata"]["name"]] = used_groups
        self.scaled[app["metadata"]["name"]] = scaled

    # -- ordering ---------------------------------------------------------------------------

    def check_waves(self, apps: list[dict], waves: dict, project_waves: list, where: str) -> None:
        report = self.report
        valid_waves = [w for w in waves.values() if w is not None]
        for pw in project_waves:
            if pw is not None and valid_waves and pw >= min(valid_waves):
                report.error(where, f"AppProjects (wave {pw}) must sync before every Application")
        by_chart = {chart_of(a): a["metadata"]["name"] for a in apps if chart_of(a)}
        workloads = [a for a in apps if any(str(s.get("path", "")).startswith("deploy/") for s in sources_of(a))]
        if not workloads:
            report.error(where, "no Application deploys tanksim (a path under deploy/)")
        for app in workloads:
            name = app["metadata"]["name"]
            wave = waves.get(name)
            needed = set(OPERATOR_CHART_FOR_GROUP.values())
            for group in sorted(self.crd_groups.get(name, set())):
                if group in CLUSTER_PROVIDED_GROUPS:
                    continue
                if group not in OPERATOR_CHART_FOR_GROUP:
                    report.error(where, f"Application {name}: no operator Application known for CRD group {group}")
                    continue
                needed.add(OPERATOR_CHART_FOR_GROUP[group])
            for chart in sorted(needed):
                operator = by_chart.get(chart)
                if operator is None:
                    report.error(where, f"Application {name} needs the {chart} operator, which no Application installs")
                elif wave is not None and waves.get(operator) is not None and waves[operator] >= wave:
                    report.error(
                        where,
                        f"Application {name} (wave {wave}) must sync after {operator} (wave {waves[operator]}), "
                        "whose CRDs it uses",
                    )
            self.check_replicas_ignored(app, where)

    def check_replicas_ignored(self, app: dict, where: str) -> None:
        ignored = {
            d.get("name")
            for d in app["spec"].get("ignoreDifferences") or []
            if d.get("group") == "apps"
            and d.get("kind") == "Deployment"
            and "/spec/replicas" in (d.get("jsonPointers") or [])
        }
        for deployment in sorted(CONTROLLER_SCALED_DEPLOYMENTS | self.scaled.get(app["metadata"]["name"], set())):
            if deployment not in ignored:
                self.report.error(
                    where,
                    f"Application {app['metadata']['name']}: Deployment {deployment}'s /spec/replicas is owned by "
                    "KEDA or Argo Rollouts; add it to ignoreDifferences (with RespectIgnoreDifferences=true)",
                )


def check_every_file_is_used(checks: list[ClusterCheck], report: Report) -> None:
    """A manifest or values file that no cluster picks up is dead configuration."""
    rendered = set().union(*(c.rendered_files for c in checks)) if checks else set()
    for directory in ("projects", "platform", "apps"):
        for path in sorted((REPO / "argocd" / directory).glob("*.yaml")):
            if path.name == "kustomization.yaml":
                continue
            for doc in load_yaml_stream(path.read_text()):
                key = (doc.get("kind"), doc.get("metadata", {}).get("name"))
                if key not in rendered:
                    report.error(
                        str(path.relative_to(REPO)),
                        f"{key[0]} {key[1]} is in no cluster's render (kustomization.yaml?)",
                    )
    used = set().union(*(c.values_used for c in checks)) if checks else set()
    for path in sorted((REPO / "argocd" / "values").glob("*.yaml")):
        rel = str(path.relative_to(REPO))
        if rel not in used:
            report.error(rel, "no Application uses this values file")


def main() -> int:
    report = Report()
    if shutil.which(os.environ.get("KUBECTL", "kubectl")) is None:
        print("check-argocd: kubectl not found; it renders the kustomizations (kubectl kustomize).", file=sys.stderr)
        return 1
    schemas = schema_dir(report)
    roots = sorted((REPO / "argocd").glob("root-*.yaml"))
    if not roots:
        report.error("argocd", "no root Applications (argocd/root-<env>.yaml)")
    checks: list[ClusterCheck] = []
    if schemas is not None:
        validator = SchemaValidator(schemas)
        print(f"check-argocd: CRD schemas from {schemas}")
        for root_file in roots:
            env = root_file.stem.removeprefix("root-")
            check = ClusterCheck(env, root_file, validator, report)
            check.run()
            checks.append(check)
        check_every_file_is_used(checks, report)
    for note in report.notes:
        print(f"note: {note}")
    if report.errors:
        for error in report.errors:
            print(f"ERROR {error}", file=sys.stderr)
        print(f"check-argocd: {len(report.errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-argocd: {len(checks)} clusters ({', '.join(c.env for c in checks)}) consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
