"""The zips' cache between runs: the same bytes as a fresh build, and never a stale or
damaged file."""

from __future__ import annotations

from pathlib import Path

import pytest

from replgen import package


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
