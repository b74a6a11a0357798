#!/usr/bin/env python3
"""Seals a Secret for the Sealed Secrets controller, offline, from its public certificate.

The same encryption kubeseal performs (bitnami-labs/sealed-secrets, pkg/crypto HybridEncrypt),
so no cluster and no kubeseal binary are needed to produce the SealedSecrets committed in git:
each value is encrypted with AES-256-GCM under a fresh 32-byte session key (zero nonce: the
key is used once), and the session key with RSA-OAEP(SHA-256) under the controller's public
key, with the scope as the OAEP label (strict scope: "namespace/name"). Output per value:
uint16 big-endian length of the RSA ciphertext || RSA ciphertext || AES-GCM ciphertext+tag,
base64.

Usage:
  scripts/seal.py --cert CERT.pem --namespace NS --name NAME [--type TYPE] [--label k=v ...]
                  [--annotation k=v ...] KEY=VALUE | KEY=@FILE | KEY=env:VAR ...  > sealed.yaml
  (KEY=env:VAR reads the value from environment variable VAR, so it never shows in `ps`.)
  scripts/seal.py --new-key DIR      writes DIR/sealing.key (keep it out of git) and
                                     DIR/sealing.crt (commit it): a sealing key pair the
                                     controller is given at bootstrap (ansible/, docs/deploy.md).
"""

import argparse
import base64
import datetime
import os
import struct
import sys
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID


def hybrid_encrypt(public_key, plaintext: bytes, label: bytes) -> bytes:
    session_key = os.urandom(32)
    rsa_ciphertext = public_key.encrypt(
        session_key,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label),
    )
    aes_ciphertext = AESGCM(session_key).encrypt(b"\0" * 12, plaintext, None)
    return struct.pack(">H", len(rsa_ciphertext)) + rsa_ciphertext + aes_ciphertext


def hybrid_decrypt(private_key, ciphertext: bytes, label: bytes) -> bytes:
    """The controller's side, for tests with a throwaway key."""
    (length,) = struct.unpack(">H", ciphertext[:2])
    session_key = private_key.decrypt(
        ciphertext[2 : 2 + length],
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label),
    )
    return AESGCM(session_key).decrypt(b"\0" * 12, ciphertext[2 + length :], None)


def new_key(directory: Path) -> None:
    """A 4096-bit key and a self-signed certificate, as the controller would generate."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sealed-secret")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_path = directory / "sealing.key"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    (directory / "sealing.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def pairs(items):
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            sys.exit(f"seal.py: {item!r} is not KEY=VALUE")
        out[key] = value
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--new-key", type=Path)
    p.add_argument("--cert", type=Path)
    p.add_argument("--namespace")
    p.add_argument("--name")
    p.add_argument("--type", default="Opaque")
    p.add_argument("--label", action="append")
    p.add_argument("--annotation", action="append")
    p.add_argument("data", nargs="*")
    a = p.parse_args()
    if a.new_key:
        new_key(a.new_key)
        return 0
    if not (a.cert and a.namespace and a.name and a.data):
        p.error("--cert, --namespace, --name and at least one KEY=VALUE are required")
    public_key = x509.load_pem_x509_certificate(a.cert.read_bytes()).public_key()
    label = f"{a.namespace}/{a.name}".encode()
    encrypted = {}
    for key, value in pairs(a.data).items():
        if value.startswith("@"):
            plaintext = Path(value[1:]).read_bytes()
        elif value.startswith("env:"):
            if value[4:] not in os.environ:
                sys.exit(f"seal.py: {key}: environment variable {value[4:]} is not set")
            plaintext = os.environ[value[4:]].encode()
        else:
            plaintext = value.encode()
        encrypted[key] = base64.b64encode(hybrid_encrypt(public_key, plaintext, label)).decode()
    template = {"metadata": {"name": a.name, "namespace": a.namespace}, "type": a.type}
    if a.label:
        template["metadata"]["labels"] = pairs(a.label)
    if a.annotation:
        template["metadata"]["annotations"] = pairs(a.annotation)
    sealed = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": a.name, "namespace": a.namespace},
        "spec": {"encryptedData": encrypted, "template": template},
    }
    yaml.safe_dump(sealed, sys.stdout, sort_keys=False, width=10_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
