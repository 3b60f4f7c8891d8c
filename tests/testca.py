"""A throw-away certificate authority for the test database servers.

Aurora serves TLS with a certificate that chains to the Amazon RDS CA and names the endpoint;
the test servers do the same with a CA made here: a server certificate for ``localhost`` only
(so dialling 127.0.0.1 is a host-name mismatch), and a second, unrelated CA to stand for a
bundle that does not sign the server. The certificates carry the key identifiers that strict
X.509 verification (Python 3.13's default) demands, as RDS's do.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAME = "localhost"
_VALID = datetime.timedelta(days=2)


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the CA that signs the server: what DB_CA_BUNDLE points at
    other_ca: Path  # a CA that signs nothing the servers present
    cert: Path  # the server certificate (SAN: DNS:localhost)
    key: Path  # its private key, mode 0600


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SERVER_NAME))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALID)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_tls_files(directory: Path, owner: tuple[int, int] | None = None) -> TlsFiles:
    """Write a CA, a second CA and a ``localhost`` server certificate and key into
    ``directory``; ``owner`` (uid, gid) gets the key, for a server that runs as another user."""
    ca_key, ca = _ca("replgen test CA")
    _, other = _ca("replgen unrelated CA")
    key, cert = _server(ca_key, ca)
    files = TlsFiles(
        directory / "ca.pem",
        directory / "other-ca.pem",
        directory / "server.pem",
        directory / "server.key",
    )
    files.ca.write_bytes(_pem(ca))
    files.other_ca.write_bytes(_pem(other))
    files.cert.write_bytes(_pem(cert))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    os.chmod(files.key, 0o600)  # PostgreSQL refuses a key others can read
    for path in (files.ca, files.other_ca, files.cert):
        os.chmod(path, 0o644)
    if owner is not None:
        for path in (files.ca, files.other_ca, files.cert, files.key):
            os.chown(path, *owner)
    return files
