#!/usr/bin/env python3
"""Checks what a real run of the k3s role wrote into the check-installed-prod fixture tree.

scripts/check-ansible.sh runs site.yml for real (no --check) against that host, whose paths all
lie in a temporary directory, and then asks: is config.yaml the K3s configuration the inventory
describes, does the unit start `k3s server` with it, did the environment reach the env file,
and does the kubeconfig on the controller point at the node's address under the cluster's name
with mode 0600, credentials carried over unchanged.

Usage: check-rendered.py CHECK_ROOT
"""

import stat
import sys
from pathlib import Path

import yaml


def main() -> int:
    tmp = Path(sys.argv[1])
    root = tmp / "installed"
    errors = []

    def expect(condition: bool, what: str) -> None:
        if not condition:
            errors.append(what)

    config_path = root / "etc/rancher/k3s/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    expect(config.get("write-kubeconfig-mode") == "0600", "config.yaml: write-kubeconfig-mode is not 0600")
    expect(config.get("node-name") == "check-installed-prod", "config.yaml: node-name is not the inventory name")
    expect(config.get("https-listen-port") == 6443, "config.yaml: https-listen-port is not 6443")
    expect(config.get("tls-san") == ["198.51.100.7", "k3s.prod.example.com"],
           f"config.yaml: tls-san is {config.get('tls-san')}")
    expect(config.get("node-label") == ["tanksim.io/env=prod"], f"config.yaml: node-label is {config.get('node-label')}")
    expect(config.get("disable") == ["metrics-server"], f"config.yaml: disable is {config.get('disable')}")
    expect("traefik" not in (config.get("disable") or []), "config.yaml: Traefik is disabled")
    expect(config.get("secrets-encryption") is True, "config.yaml: secrets-encryption is not on")
    expect(config.get("kube-apiserver-arg") == ["audit-log-maxage=30"], "config.yaml: k3s_extra_config was not merged")
    expect(stat.S_IMODE(config_path.stat().st_mode) == 0o600, "config.yaml is not mode 0600")

    unit = (root / "etc/systemd/system/k3s.service").read_text()
    expect("ExecStart=/usr/local/bin/k3s server --config /etc/rancher/k3s/config.yaml" in unit,
           "k3s.service does not start `k3s server` with the configuration file")
    expect("KillMode=process" in unit, "k3s.service: KillMode is not process")
    env_path = root / "etc/systemd/system/k3s.service.env"
    expect('NO_PROXY="127.0.0.1,localhost"' in env_path.read_text(), "k3s.service.env lacks NO_PROXY")
    expect(stat.S_IMODE(env_path.stat().st_mode) == 0o600, "k3s.service.env is not mode 0600")

    for command in ("kubectl", "crictl", "ctr"):
        link = root / "usr/local/bin" / command
        expect(link.is_symlink() and str(link.readlink()) == "k3s", f"{link} is not a link to k3s")

    kubeconfig_path = tmp / "kubeconfig/tanksim-prod.yaml"
    kubeconfig = yaml.safe_load(kubeconfig_path.read_text())
    source = yaml.safe_load((root / "etc/rancher/k3s/k3s.yaml").read_text())
    expect(stat.S_IMODE(kubeconfig_path.stat().st_mode) == 0o600, "the kubeconfig is not mode 0600")
    expect(kubeconfig["current-context"] == "tanksim-prod", "kubeconfig: current-context is not tanksim-prod")
    expect(kubeconfig["clusters"][0]["cluster"]["server"] == "https://198.51.100.7:6443",
           f"kubeconfig: server is {kubeconfig['clusters'][0]['cluster']['server']}")
    expect(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]
           == source["clusters"][0]["cluster"]["certificate-authority-data"], "kubeconfig: CA data changed")
    expect(kubeconfig["users"][0]["user"] == source["users"][0]["user"], "kubeconfig: client credentials changed")
    expect(kubeconfig["contexts"] == [{"name": "tanksim-prod", "context": {"cluster": "tanksim-prod", "user": "tanksim-prod"}}],
           f"kubeconfig: contexts are {kubeconfig['contexts']}")

    if errors:
        print("check-rendered: FAILED\n  " + "\n  ".join(errors))
        return 1
    print("check-rendered: OK (config.yaml, k3s.service, k3s.service.env, links, kubeconfig)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
