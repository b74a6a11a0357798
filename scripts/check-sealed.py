#!/usr/bin/env python3
"""Checks the sealing and the sealed secrets in git, without a cluster:

- scripts/seal.py round-trips: a value sealed with a throwaway key pair's certificate opens with
  its private key under the same scope (namespace/name) and under no other, so a SealedSecret
  moved to another name or namespace stays sealed (strict scope);
- every SealedSecret committed for an environment (deploy/overlays/ENV/sealed-*.yaml: the Redis
  users' passwords, the gateway's bootstrap API keys; argocd/sealed/*-ENV.yaml) was sealed for that
  environment's certificate: its session keys are RSA ciphertexts of the certificate's key
  size, and every value is well-formed; and each overlay deploys each of its sealed files;
- no plain Secret is committed anywhere in deploy/ or argocd/.
"""

import base64
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seal  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def round_trip() -> None:
    with tempfile.TemporaryDirectory() as d:
        seal.new_key(Path(d))
        out = subprocess.run(
            [sys.executable, str(REPO / "scripts/seal.py"), "--cert", f"{d}/sealing.crt",
             "--namespace", "tanksim", "--name", "redis", "password=env:CHECK_SEALED_VALUE"],
            env={**os.environ, "CHECK_SEALED_VALUE": "s3cret"}, capture_output=True, text=True, check=True,
        ).stdout
        assert "s3cret" not in out
        doc = yaml.safe_load(out)
        key = serialization.load_pem_private_key(Path(f"{d}/sealing.key").read_bytes(), None)
        blob = base64.b64decode(doc["spec"]["encryptedData"]["password"])
        assert seal.hybrid_decrypt(key, blob, b"tanksim/redis") == b"s3cret"
        try:
            seal.hybrid_decrypt(key, blob, b"other/redis")
        except ValueError:
            pass
        else:
            sys.exit("check-sealed: a value opened under another scope")


def committed() -> int:
    checked = 0
    for cert_path in sorted(REPO.glob("deploy/overlays/*/sealing.crt")):
        env = cert_path.parent.name
        bits = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_key().key_size
        overlay = sorted(cert_path.parent.glob("sealed-*.yaml"))
        assert overlay, f"{cert_path.parent}: no sealed-*.yaml"
        resources = yaml.safe_load((cert_path.parent / "kustomization.yaml").read_text()).get("resources", [])
        for f in overlay:
            assert f.name in resources, f"{f.relative_to(REPO)}: not in its overlay's kustomization resources"
        files = [*overlay, *sorted(REPO.glob(f"argocd/sealed/*-{env}.yaml"))]
        for f in files:
            for doc in yaml.safe_load_all(f.read_text()):
                if not doc:
                    continue
                assert doc["kind"] == "SealedSecret", f"{f}: {doc['kind']}"
                for name, value in doc["spec"]["encryptedData"].items():
                    blob = base64.b64decode(value)
                    (length,) = struct.unpack(">H", blob[:2])
                    assert length == bits // 8, f"{f}: {name}: not sealed for {cert_path} ({length * 8} bits)"
                    assert len(blob) > 2 + length + 16, f"{f}: {name}: no AES-GCM payload"
                    checked += 1
    for f in [*REPO.glob("deploy/**/*.yaml"), *REPO.glob("argocd/**/*.yaml")]:
        for doc in yaml.safe_load_all(f.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                sys.exit(f"check-sealed: {f.relative_to(REPO)} holds a plain Secret")
    return checked


if __name__ == "__main__":
    round_trip()
    print(f"check-sealed: sealing round-trips; {committed()} committed sealed values match their certificates")
