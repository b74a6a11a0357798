#!/usr/bin/env python3
"""Turns a rendered kustomization into what `podman kube play` runs: one Pod per Deployment and
StatefulSet (podman has no controllers; a pod named after its workload), the ConfigMaps, and
nothing else (Services, NetworkPolicies and custom resources need a cluster).

Container ports are dropped (podman turns them into port mappings, which host networking
refuses), after probes that name a port are given its number.

Dependent variables (`$(NAME)` in an env value, a command or args) are expanded here as the
kubelet would
(podman 4.3 passes them through literally): from the container's envFrom ConfigMaps and the
variables defined before it.

Env values read from Secrets become literal values given with `--secret NAME/KEY=VALUE`:
podman 4.3 cannot read a kube Secret into a variable (its lookup fails on the Secret's own
format), and the smoke run makes its secrets up at run time anyway. A secretKeyRef without a
value given is an error, as a missing Secret is in a cluster.

Secret volumes (the mesh certificates, `mesh-<role>`) become hostPath volumes of a directory
given with `--secret-dir NAME=DIR` that holds one file per key of the Secret (tls.crt, tls.key,
ca.crt), the layout the kubelet gives a Secret volume. Like the env values, this keeps podman's
own kube Secret handling out of the run; the container's volumeMount (read-only) is unchanged.
A secret volume without a directory given is an error, as a missing Secret is in a cluster.
Everything else in the pod spec is passed on unchanged.

Usage: kubectl kustomize deploy/overlays/smoke |
    scripts/kube-pods.py --secret redis-user-worker/password=X ... --secret-dir mesh-worker=DIR ...
"""

import argparse
import os
import re
import sys

import yaml


def expand(value: str, defined: dict) -> str:
    """Kubernetes' `$(NAME)` expansion: defined names replaced, `$$` a literal `$`."""
    def one(m):
        if m.group(0) == "$$":
            return "$"
        return defined.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", one, value)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--secret", action="append", default=[], help="NAME/KEY=VALUE")
    p.add_argument("--secret-dir", action="append", default=[], help="NAME=DIR (a Secret's files)")
    a = p.parse_args()
    secrets = {}
    for s in a.secret:
        ref, _, value = s.partition("=")
        secrets[ref] = value
    secret_dirs = {}
    for s in a.secret_dir:
        name, _, path = s.partition("=")
        if not os.path.isabs(path) or not os.path.isdir(path):
            sys.exit(f"kube-pods: --secret-dir {s}: not an absolute path to a directory")
        secret_dirs[name] = path
    out = []
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d.get("kind") == "ConfigMap"}
    for doc in docs:
        kind = doc.get("kind")
        if kind == "ConfigMap":
            out.append(doc)
        elif kind in ("Deployment", "StatefulSet"):
            template = doc["spec"]["template"]
            spec = template["spec"]
            for volume in spec.get("volumes", []):
                secret = volume.pop("secret", None)
                if secret is None:
                    continue
                if secret.get("items"):
                    sys.exit(f"kube-pods: {kind} {doc['metadata']['name']}: volume {volume['name']} picks "
                             "items of its Secret; only whole Secrets are supported")
                name = secret["secretName"]
                if name not in secret_dirs:
                    sys.exit(f"kube-pods: {kind} {doc['metadata']['name']}: volume {volume['name']} is "
                             f"Secret {name}; pass --secret-dir {name}=DIR")
                volume["hostPath"] = {"path": secret_dirs[name], "type": "Directory"}
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                defined = {}
                for source in container.get("envFrom", []):
                    defined.update(config_maps.get(source.get("configMapRef", {}).get("name"), {}))
                for item in container.get("env", []):
                    if "value" in item:
                        item["value"] = expand(item["value"], defined)
                        defined[item["name"]] = item["value"]
                    if item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
                        defined[item["name"]] = doc["metadata"]["name"]
                    ref = item.get("valueFrom", {}).get("secretKeyRef")
                    if ref is None:
                        continue
                    key = f"{ref['name']}/{ref['key']}"
                    if key not in secrets:
                        sys.exit(f"kube-pods: {kind} {doc['metadata']['name']}: env {item['name']} reads "
                                 f"Secret {key}; pass --secret {key}=VALUE")
                    item.pop("valueFrom")
                    item["value"] = secrets[key]
                    defined[item["name"]] = item["value"]
            for container in spec.get("containers", []):
                # The kubelet expands command and args from the container's environment too.
                values = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
                for field in ("command", "args"):
                    if field in container:
                        container[field] = [expand(a, values) for a in container[field]]
                named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    for handler in container.get(probe, {}).values():
                        if isinstance(handler, dict) and isinstance(handler.get("port"), str):
                            handler["port"] = named[handler["port"]]
                container.pop("ports", None)
            # podman 4.3 gives init containers the pod's restart policy: under `Always` an init
            # container that finished is started again while `kube play` removes it ("cannot
            # remove container ... as it is running") and the app containers never start. A
            # kubelet runs init containers once whatever the policy; `OnFailure` does the same
            # here and still restarts an app container that exits with an error.
            if spec.get("initContainers"):
                spec["restartPolicy"] = "OnFailure"
            metadata = {"name": doc["metadata"]["name"], "labels": template["metadata"].get("labels", {})}
            if doc["metadata"].get("namespace"):
                metadata["namespace"] = doc["metadata"]["namespace"]
            out.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
