"""Verified TLS to Amazon RDS and Aurora, shared by every Lambda that opens a database.

Aurora clusters built by replgen refuse plaintext (``require_secure_transport``,
``rds.force_ssl``), and encryption without verification is no defence against a host that
answers in the cluster's place. So a connection trusts exactly the Amazon RDS CA bundle packaged
beside this module (``rds-ca-bundle.pem``, written into the zip by ``replgen package`` from a
pinned, checksummed source) and checks that the certificate names the host it dialled. The
environment variable ``DB_CA_BUNDLE`` names another PEM file to trust instead (tests point it at
their own CA; a user may point it at a newer bundle shipped in a layer).

This file goes into each zip at its root, next to the bundle, as ``rdstls.py``.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

BUNDLE_ENV = "DB_CA_BUNDLE"
PACKAGED_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")


class TlsConfigError(Exception):
    """No CA bundle to trust: the zip was not built by ``replgen package``, or
    ``DB_CA_BUNDLE`` names a file that is missing or holds no certificate."""


class TlsRefused(Exception):
    """The server could not prove it is the host we dialled, or did not speak TLS at all."""


def bundle_path(environ: Mapping[str, str] | None = None) -> Path:
    """The PEM file whose CAs a database server must chain to."""
    env = os.environ if environ is None else environ
    override = env.get(BUNDLE_ENV, "").strip()
    path = Path(override) if override else PACKAGED_BUNDLE
    if not path.is_file():
        source = f"{BUNDLE_ENV}={override}" if override else "the packaged RDS CA bundle"
        raise TlsConfigError(f"{source} ({path}) does not exist")
    return path


def client_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """A client context that trusts only the bundle, verifies the chain and the host name,
    and speaks TLS 1.2 or newer (what RDS offers)."""
    return _context(str(bundle_path(environ)))


@lru_cache(maxsize=4)
def _context(cafile: str) -> ssl.SSLContext:
    # Loaded once per file and warm container: 120 certificates cost a few milliseconds.
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    if not context.get_ca_certs():
        raise TlsConfigError(f"{cafile} holds no CA certificate")
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def refusal(exc: BaseException) -> TlsRefused | None:
    """The TLS refusal hidden in a driver's error, if that is what it is.

    Drivers wrap a failed handshake in their own connection errors (PyMySQL: error 2003, which
    also means "host down" and so looks transient); a certificate that does not verify will not
    verify on the next attempt either, so callers fail fast on it."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, TlsRefused):
            return current
        if isinstance(current, ssl.SSLCertVerificationError):
            return TlsRefused(f"server certificate refused: {current.verify_message}")
        original = getattr(current, "original_exception", None)  # PyMySQL keeps it here
        todo += [current.__cause__, current.__context__, original]
    return None
