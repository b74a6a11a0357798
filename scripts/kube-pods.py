#!/usr/bin/env python3
"""Turns a rendered kustomization into what `podman kube play` runs: one Pod per Deployment and
StatefulSet (podman has no controllers; a pod named after its workload), the ConfigMaps, and
nothing else (Services, NetworkPolicies and custom resources need a cluster).

Env values read from Secrets become literal values given with `--secret NAME/KEY=VALUE`:
podman 4.3 cannot read a kube Secret into a variable (its lookup fails on the Secret's own
format), and the smoke run makes its secrets up at run time anyway. A secretKeyRef without a
value given is an error, as a missing Secret is in a cluster. Everything else in the pod spec is
passed on unchanged.

Usage: kubectl kustomize deploy/overlays/smoke | scripts/kube-pods.py --secret redis/password=X
"""

import argparse
import sys

import yaml


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--secret", action="append", default=[], help="NAME/KEY=VALUE")
    a = p.parse_args()
    secrets = {}
    for s in a.secret:
        ref, _, value = s.partition("=")
        secrets[ref] = value
    out = []
    for doc in yaml.safe_load_all(sys.stdin):
        if not doc:
            continue
        kind = doc.get("kind")
        if kind == "ConfigMap":
            out.append(doc)
        elif kind in ("Deployment", "StatefulSet"):
            template = doc["spec"]["template"]
            spec = template["spec"]
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                for item in container.get("env", []):
                    ref = item.get("valueFrom", {}).get("secretKeyRef")
                    if ref is None:
                        continue
                    key = f"{ref['name']}/{ref['key']}"
                    if key not in secrets:
                        sys.exit(f"kube-pods: {kind} {doc['metadata']['name']}: env {item['name']} reads "
                                 f"Secret {key}; pass --secret {key}=VALUE")
                    item.pop("valueFrom")
                    item["value"] = secrets[key]
            metadata = {"name": doc["metadata"]["name"], "labels": template["metadata"].get("labels", {})}
            if doc["metadata"].get("namespace"):
                metadata["namespace"] = doc["metadata"]["namespace"]
            out.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
