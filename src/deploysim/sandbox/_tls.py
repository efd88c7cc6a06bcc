"""A certificate authority per snapshot, and a server certificate for its mocked hostnames.

The CA's certificate goes into the workspace's trust store; its key never enters the pod. The
server key lives only in the services sidecar. Certificates are cached per snapshot hash, so a
snapshot's images are rebuilt only when its content changes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deploysim.sandbox._paths import cache_dir

__all__ = ["TlsMaterial", "tls_for"]


CA_NAME = "Internal Root CA"
TLS_RECIPE = 2  # bumped when the certificates change shape (2: neutral CA name)


class TlsMaterial(NamedTuple):
    """PEM files of a snapshot's CA and server certificate."""

    ca_cert: bytes
    server_cert: bytes
    server_key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _make(name: str, hostnames: list[str]) -> TlsMaterial:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    later = now + dt.timedelta(days=3650)
    ca_key = _key()
    # The issuer shows in `curl -v` and `openssl s_client`: a neutral name, not "deploysim"
    # (a stage light) nor the snapshot's name.
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = _key()
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames or ["localhost"]]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(
                        NameOID.COMMON_NAME, hostnames[0] if hostnames else "localhost"
                    )
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return TlsMaterial(
        ca.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.PEM),
        _pem_key(key),
    )


def tls_for(snapshot_hash: str, name: str, hostnames: list[str]) -> TlsMaterial:
    """The snapshot's TLS material, made once per snapshot hash and cached on the host."""
    folder: Path = cache_dir("tls", f"{snapshot_hash[:32]}-{TLS_RECIPE}")
    files = [folder / n for n in ("ca.pem", "server.pem", "server.key")]
    if all(f.exists() for f in files):
        return TlsMaterial(*(f.read_bytes() for f in files))
    material = _make(name, sorted(set(hostnames)))
    for f, data in zip(files, material, strict=True):
        tmp = f.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.chmod(0o600)
        tmp.replace(f)
    return material
