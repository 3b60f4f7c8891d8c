"""The zips' requirement closure reads Requires-Dist from METADATA's header itself: the same
list importlib.metadata's email parser gives, for every installed distribution and the
shapes a METADATA file can take."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from replgen.package import requirements


def test_every_installed_distribution_reads_as_importlib_reads_it() -> None:
    dists = list(metadata.distributions())
    assert len(dists) > 50
    for dist in dists:
        assert requirements(dist) == list(dist.requires or ()), dist.metadata["Name"]


@pytest.mark.parametrize(
    "text",
    [
        "Name: a\nRequires-Dist: b (>=1)\nRequires-Dist: c; extra == 'x'\n\nRequires-Dist: no\n",
        "Name: a\r\nrequires-dist: b\r\n\r\nRequires-Dist: no\r\n",
        "Name: a\nSummary: s\n  more\nRequires-Dist: b\n\nbody\n",
        "Name: a\n\nRequires-Dist: no\n",
    ],
)
def test_metadata_shapes(text: str, tmp_path: Path) -> None:
    info = tmp_path / "a-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(text.encode())
    dist = metadata.PathDistribution(info)
    assert requirements(dist) == list(dist.requires or ())


def test_a_folded_requirement_is_one_line(tmp_path: Path) -> None:
    # Core metadata writes a requirement on one line; a folded one reads as its parts joined
    # (importlib.metadata keeps the line break and the indent in it).
    info = tmp_path / "a-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Name: a\nRequires-Dist: b;\n python_version < '3.12'\n")
    assert requirements(metadata.PathDistribution(info)) == ["b; python_version < '3.12'"]


def test_an_egg_info_distribution_falls_back_to_requires_txt(tmp_path: Path) -> None:
    info = tmp_path / "a-1.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Name: a\n")
    (info / "requires.txt").write_text("b\n")
    assert requirements(metadata.PathDistribution(info)) == ["b"]
