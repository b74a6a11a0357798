#!/usr/bin/env python3
"""Validates custom resources strictly against their CRDs' JSON schemas (unknown fields rejected).

A CRD's API server prunes unknown fields silently, so `maxReplicasCount` in a ScaledObject or
`syncPolicyy` in an Application would apply fine and do nothing; kubernetes-validate only warns
about custom resources. This reads a YAML stream (stdin or files), and checks every object whose
apiVersion is not a core Kubernetes group against `{group}/{kind}_{version}.json` (kubeconform's
layout, lower-case kind) with JSON Schema Draft 7. A custom resource without a schema is an error,
except in a group listed in CHECKED_BY_MODELS: the catalog has no schema for it, and
scripts/validate-crds.mjs checks it as strictly (unknown fields rejected) against the API's own
models; where the catalog does hold its schema, it is checked here too.

Where the schemas are: scripts/crd_schemas.py.

Usage: kubectl kustomize deploy/overlays/prod | scripts/validate-crs.py [--list]
"""

import json
import sys
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crd_schemas  # noqa: E402

# Groups served by the API server itself: kubernetes-validate checks them.
CORE_GROUPS = {
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "apiextensions.k8s.io",
    "admissionregistration.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io",
}

# Groups the schema catalog lacks, checked instead by scripts/validate-crds.mjs (which
# scripts/check-deploy.sh runs on every rendering too), against the models named here.
CHECKED_BY_MODELS = {
    "cert-manager.io": "@kubernetes-models/cert-manager (cert-manager's Go API types)",
}



def schema_dir() -> Path:
    found = crd_schemas.locate("keda.sh")
    if found is None:
        sys.exit(
            "validate-crs: no CRD schema catalog found (looked in: "
            + ", ".join(str(c) for c in crd_schemas.candidates())
            + "); set TANKSIM_CRD_SCHEMAS to a directory in kubeconform's {group}/{kind}_{version}.json layout"
        )
    return found


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    list_only = "--list" in sys.argv
    streams = [open(a, encoding="utf-8") for a in args] or [sys.stdin]
    root = schema_dir()
    validators = {}
    errors = 0
    checked = 0
    deferred = 0
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
            if not path.is_file() and group in CHECKED_BY_MODELS:
                deferred += 1
                if list_only:
                    print(f"{api} {name} (validate-crds.mjs: {CHECKED_BY_MODELS[group]})")
                continue
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
    also = f" ({deferred} left to validate-crds.mjs: {', '.join(sorted(CHECKED_BY_MODELS))})" if deferred else ""
    print(f"validate-crs: {checked} custom resources checked against {root}, {errors} errors{also}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
