"""The txnproc zip: reproducible, pg8000 vendored, importable on its own."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
try:
    from replgen import package
except ImportError:  # replgen not installed in this interpreter: use the checkout
    sys.path.insert(0, str(ROOT / "src"))
    from replgen import package


def test_registered() -> None:
    assert package.LAMBDAS["txnproc"] == ("pg8000",)


def test_zip_is_reproducible_and_complete(tmp_path: Path) -> None:
    first = package.build("txnproc", tmp_path / "a")
    second = package.build("txnproc", tmp_path / "b")
    assert first == second
    assert re.fullmatch(r"txnproc-[0-9a-f]{12}\.zip", first.filename)
    assert (tmp_path / "a" / first.filename).read_bytes() == (
        tmp_path / "b" / second.filename
    ).read_bytes()

    with zipfile.ZipFile(tmp_path / "a" / first.filename) as archive:
        names = archive.namelist()
    own = sorted(
        p.relative_to(ROOT / "lambda" / "txnproc").as_posix()
        for p in (ROOT / "lambda" / "txnproc").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert set(own) <= set(names)
    assert {"handler.py", "txnproc/failover.py", "txnproc/store.py"} <= set(names)
    assert any(n.startswith("pg8000/") for n in names)
    assert any(n.startswith("scramp/") for n in names)  # pg8000's own requirement
    assert not [n for n in names if n.startswith(("pymysql/", "boto3/", "botocore/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_zip_runs_on_its_own(tmp_path: Path) -> None:
    artifact = package.build("txnproc", tmp_path)
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(tmp_path / artifact.filename) as archive:
        archive.extractall(unpacked)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import handler, pg8000; "
        "assert pg8000.__file__.startswith(sys.argv[1]); "
        "print(callable(handler.handler), callable(handler.failover))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(unpacked)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.split() == ["True", "True"]


def test_cli_builds_txnproc(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from replgen.cli import main

    result = CliRunner().invoke(main, ["package", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    built = sorted(p.name for p in tmp_path.glob("txnproc-*.zip"))
    assert len(built) == 1 and built[0] in result.output
