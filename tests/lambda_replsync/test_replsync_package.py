"""The packager: reproducible zips with the vendored drivers."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:
    from replgen import package
except ImportError:  # replgen not installed in this interpreter: use the checkout
    sys.path.insert(0, str(ROOT / "src"))
    from replgen import package


def test_builds_are_byte_identical(tmp_path: Path) -> None:
    first = package.build("replsync", tmp_path / "a")
    second = package.build("replsync", tmp_path / "b")

    one = (tmp_path / "a" / first.filename).read_bytes()
    assert one == (tmp_path / "b" / second.filename).read_bytes()
    assert first == second
    digest = hashlib.sha256(one).digest()
    assert first.sha256 == digest.hex()
    assert first.base64_sha256 == base64.b64encode(digest).decode()
    assert first.filename == f"replsync-{digest.hex()[:12]}.zip" and first.name == "replsync"


def test_zip_contents(tmp_path: Path) -> None:
    artifact = package.build("replsync", tmp_path)
    with zipfile.ZipFile(tmp_path / artifact.filename) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]

    assert "handler.py" in names and "replsync/app.py" in names
    assert any(n.startswith("pymysql/") for n in names)
    assert any(n.startswith("pg8000/") for n in names)
    assert any(n.startswith("scramp/") for n in names)  # pg8000's requirement, recursively
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("boto3/", "botocore/", "dateutil/"))]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_zip_runs_on_its_own(tmp_path: Path) -> None:
    """Unpacked, the handler and drivers import from the zip (as in Lambda)."""
    artifact = package.build("replsync", tmp_path)
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(tmp_path / artifact.filename) as archive:
        archive.extractall(unpacked)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import handler, pg8000, pymysql, "
        "scramp; from importlib.metadata import version; "
        "assert all(m.__file__.startswith(sys.argv[1]) for m in (pg8000, pymysql, scramp)); "
        "print(callable(handler.handler), version('pg8000'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(unpacked)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.split()[0] == "True"


def test_lambda_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "lambdas" / "replsync"
    (fake / "__pycache__").mkdir(parents=True)
    (fake / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (fake / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    (fake / "tests").mkdir()
    (fake / "tests" / "test_x.py").write_text("")
    (tmp_path / "lambdas" / "shared").mkdir()
    (tmp_path / "lambdas" / "shared" / "rdstls.py").write_text("")
    monkeypatch.setenv("REPLGEN_LAMBDA_DIR", str(tmp_path / "lambdas"))

    assert package.lambda_dir() == tmp_path / "lambdas"
    artifact = package.build("replsync", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / artifact.filename) as archive:
        names = archive.namelist()
    assert "handler.py" in names and "replsync/app.py" not in names
    assert {"rdstls.py", "rds-ca-bundle.pem"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


def test_default_lambda_dir_is_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLGEN_LAMBDA_DIR", raising=False)
    assert package.lambda_dir() == ROOT / "lambda"


def test_unknown_lambda(tmp_path: Path) -> None:
    with pytest.raises(package.PackageError):
        package.build("nope", tmp_path)


def test_the_shared_modules_are_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "replsync").mkdir()
    (tmp_path / "replsync" / "handler.py").write_text("")
    monkeypatch.setenv("REPLGEN_LAMBDA_DIR", str(tmp_path))
    with pytest.raises(package.PackageError, match=r"has no rdstls\.py"):
        package.build("replsync", tmp_path / "out")
