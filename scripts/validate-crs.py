#!/usr/bin/env python3
"""Validates custom resources strictly against their CRDs' JSON schemas (unknown fields rejected).

A CRD's API server prunes unknown fields silently, so `maxReplicasCount` in a ScaledObject or
`syncPolicyy` in an Application would apply fine and do nothing; kubernetes-validate only warns
about custom resources. This reads a YAML stream (stdin or files), and checks every object whose
apiVersion is not a core Kubernetes group against `{group}/{kind}_{version}.json` (kubeconform's
layout, lower-case kind) with JSON Schema Draft 7. A custom resource without a schema is an error.

Where the schemas are (data, not part of the project): $TANKSIM_CRD_SCHEMAS, else
`shared/crd-schemas` beside the repository, else beside the repository it was cloned from
(a fresh clone in /tmp has its origin beside `shared/`). In GitHub Actions the ci workflow checks
out the same catalog (datreeio/CRDs-catalog) and sets TANKSIM_CRD_SCHEMAS.

Usage: kubectl kustomize deploy/overlays/prod | scripts/validate-crs.py [--list]
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

# Groups served by the API server itself: kubernetes-validate checks them.
CORE_GROUPS = {
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "apiextensions.k8s.io",
    "admissionregistration.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io",
}

REPO = Path(__file__).resolve().parent.parent


def schema_dir() -> Path:
    candidates = []
    if os.environ.get("TANKSIM_CRD_SCHEMAS"):
        candidates.append(Path(os.environ["TANKSIM_CRD_SCHEMAS"]))
    candidates.append(REPO.parent / "shared" / "crd-schemas")
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPO), "remote", "get-url", "origin"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        if origin and "://" not in origin and Path(origin).is_dir():
            candidates.append(Path(origin).resolve().parent / "shared" / "crd-schemas")
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass
    for c in candidates:
        if (c / "keda.sh").is_dir():
            return c
    sys.exit(
        "validate-crs: no CRD schema catalog found (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "); set TANKSIM_CRD_SCHEMAS to a directory in kubeconform's {group}/{kind}_{version}.json layout"
    )


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    list_only = "--list" in sys.argv
    streams = [open(a, encoding="utf-8") for a in args] or [sys.stdin]
    root = schema_dir()
    validators = {}
    errors = 0
    checked = 0
    for stream in streams:
        for doc in yaml.safe_load_all(stream):
            if not isinstance(doc, dict) or "apiVersion" not in doc:
                continue
            api, kind = doc["apiVersion"], doc.get("kind", "?")
            group, _, version = api.rpartition("/")
            if group in CORE_GROUPS:
                continue
            name = f"{kind}/{doc.get('metadata', {}).get('name', '?')}"
            path = root / group / f"{kind.lower()}_{version}.json"
            if not path.is_file():
                print(f"validate-crs: {name} ({api}): no schema at {path}", file=sys.stderr)
                errors += 1
                continue
            if path not in validators:
                schema = json.loads(path.read_text(encoding="utf-8"))
                validators[path] = jsonschema.Draft7Validator(schema)
            found = sorted(validators[path].iter_errors(doc), key=lambda e: list(e.absolute_path))
            for e in found:
                where = "/".join(str(p) for p in e.absolute_path) or "(root)"
                print(f"validate-crs: {name} ({api}) at {where}: {e.message}", file=sys.stderr)
            errors += len(found)
            checked += 1
            if list_only:
                print(f"{api} {name}")
    print(f"validate-crs: {checked} custom resources checked against {root}, {errors} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
