"""The zips' cache between runs: the same bytes as a fresh build, and never a stale or
damaged file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from replgen import package

ROOT = Path(__file__).parents[1]
_CACHES = shutil.ignore_patterns("__pycache__", "*.pyc")


def test_a_cached_zip_is_the_fresh_build_and_a_damaged_one_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fresh = package.build("txnproc", tmp_path / "a")
    (cached,) = (tmp_path / "cache" / "replgen" / "zips").glob("*.zip")
    assert cached.name.endswith(f"-{fresh.sha256}.zip")
    again = package.build("txnproc", tmp_path / "b")
    assert again == fresh
    assert (tmp_path / "b" / again.filename).read_bytes() == cached.read_bytes()
    cached.write_bytes(b"damaged")
    assert package.build("txnproc", tmp_path / "c") == fresh
    assert (tmp_path / "c" / fresh.filename).read_bytes() == (
        tmp_path / "a" / fresh.filename
    ).read_bytes()


def test_describing_a_zip_is_what_building_it_says(tmp_path: Path) -> None:
    # A compile only describes the zips (their hashes); `replgen package` writes them.
    assert package.describe("replsync") == package.build("replsync", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [package.describe("replsync").filename]


def test_an_input_edited_right_after_a_compile_makes_a_new_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Edited within the racy window of its hashing, same size: only its bytes tell.
    lambdas = tmp_path / "lambda"
    for part in ("txnproc", "shared"):
        shutil.copytree(ROOT / "lambda" / part, lambdas / part, ignore=_CACHES)
    monkeypatch.setenv("REPLGEN_LAMBDA_DIR", str(lambdas))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = package.describe("txnproc")
    handler = lambdas / "txnproc" / "handler.py"
    text = handler.read_bytes()
    handler.write_bytes(text.replace(b"\n", b" ", 1))
    after = package.describe("txnproc")
    assert after != before
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh"))  # nothing remembered
    assert package.describe("txnproc") == after
