"""The RDS CA bundle in the Lambda zips: pinned, verified, and what the functions trust."""

from __future__ import annotations

import io
import ssl
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from replgen import package, rds_ca

ROOT = Path(__file__).resolve().parents[1]


def _common_names(pem: bytes) -> set[str]:
    context = ssl.create_default_context(cadata=pem.decode("ascii"))
    return {
        value
        for ca in context.get_ca_certs()
        for rdn in ca["subject"]
        for key, value in rdn
        if key == "commonName"
    }


def test_the_bundle_is_the_pinned_one_and_signs_the_plans_ca() -> None:
    """The plan asks RDS for ``rds-ca-rsa2048-g1``: the bundle must hold that root for every
    region the example specs use, and the Amazon roots RDS Proxy chains to."""
    import hashlib

    from replgen.plan.database import CA_CERTIFICATE

    pem = rds_ca.bundle()
    assert hashlib.sha256(pem).hexdigest() == rds_ca.BUNDLE_SHA256
    names = _common_names(pem)
    assert CA_CERTIFICATE == "rds-ca-rsa2048-g1"
    for region in ("us-east-1", "us-east-2", "eu-west-1", "eu-south-2"):
        assert f"Amazon RDS {region} Root CA RSA2048 G1" in names
    assert {"Amazon Root CA 1", "Amazon Root CA 3"} <= names


@pytest.mark.parametrize("name", sorted(package.LAMBDAS))
def test_each_zip_trusts_the_packaged_bundle(name: str, tmp_path: Path) -> None:
    """Unpacked as Lambda unpacks it, with no DB_CA_BUNDLE, ``rdstls`` loads the bundle that
    sits beside it, and only that: the system store is not consulted."""
    artifact = package.build(name, tmp_path)
    with zipfile.ZipFile(tmp_path / artifact.filename) as archive:
        assert archive.read("rds-ca-bundle.pem") == rds_ca.bundle()
        archive.extractall(tmp_path / "task")
    code = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); os.environ.pop('DB_CA_BUNDLE', None); "
        "import rdstls; c = rdstls.client_context(); "
        "print(len(c.get_ca_certs()), c.check_hostname, c.verify_mode == 2, c.minimum_version.name)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "task")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    count, check_hostname, required, minimum = out.stdout.split()
    assert int(count) == rds_ca.bundle().count(b"BEGIN CERTIFICATE")
    assert (check_hostname, required, minimum) == ("True", "True", "TLSv1_2")


def _tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tarball_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = tmp_path / "forged.tgz"
    pem = rds_ca.bundle().decode().split("-----END CERTIFICATE-----\n")[0]
    forged.write_bytes(_tarball({rds_ca.MEMBERS[0]: f"exports.defaults = ['{pem}'];"}))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(rds_ca.TARBALL_ENV, str(forged))
    with pytest.raises(rds_ca.BundleError, match="does not match its pinned integrity"):
        rds_ca.bundle()
    assert not (tmp_path / "cache").exists()


def test_without_npm_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # a cold cache
    monkeypatch.delenv(rds_ca.TARBALL_ENV, raising=False)
    monkeypatch.setattr(rds_ca.shutil, "which", lambda _name: None)
    with pytest.raises(rds_ca.BundleError, match=r"npm is needed once .* REPLGEN_RDS_CA_TARBALL"):
        rds_ca.bundle()


def test_the_cli_reports_a_missing_bundle_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from replgen.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(rds_ca.TARBALL_ENV, str(tmp_path / "absent.tgz"))
    result = CliRunner().invoke(main, ["package", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot build the Lambda zips: REPLGEN_RDS_CA_TARBALL")
    assert len(result.output.splitlines()) == 1


def test_certificates_are_read_from_the_data_modules() -> None:
    """The parser reads concatenated single-quoted literals and checks each certificate."""
    first = rds_ca.bundle().decode().split("-----END CERTIFICATE-----\n")[0]
    lines = (first + "-----END CERTIFICATE-----\n").splitlines(keepends=True)
    js = (
        "exports.defaults = [\n"
        + " +\n".join("    '" + line.replace("\n", "\\n") + "'" for line in lines)
        + ",\n];\n"
    )
    assert rds_ca.certificates_in_js(js) == ["".join(lines)]
    broken = js.replace(lines[1][:8], "!!!!!!!!")
    assert rds_ca.certificates_in_js(broken) == []
