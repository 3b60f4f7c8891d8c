"""Digests remembered by stat signature (replgen.digests): used only while every field of
the signature holds, never for a file changed within the racy window, and forgotten once
nothing reads the file."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from replgen import digests
from replgen.digests import Digests

FIELDS = ("size", "mtime_ns", "ctime_ns", "inode", "device")


def _signature(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


def _later(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the files had been written long before this run: outside the racy window."""
    now = time.time_ns()
    monkeypatch.setattr(digests.time, "time_ns", lambda: now + 10 * digests.RACY_NS)


def test_a_remembered_digest_stands_for_the_file_while_its_signature_holds(
    tmp_path: Path,
) -> None:
    source = tmp_path / "a.py"
    source.write_bytes(b"one")
    index = tmp_path / "index.json"
    index.write_text(json.dumps({str(source): [*_signature(source), "remembered"]}))
    assert Digests(index).of(source) == "remembered"  # the file was not read


@pytest.mark.parametrize("field", range(len(FIELDS)), ids=FIELDS)
def test_any_change_in_the_signature_reads_the_file_again(tmp_path: Path, field: int) -> None:
    source = tmp_path / "a.py"
    source.write_bytes(b"one")
    signature = _signature(source)
    signature[field] += 1
    index = tmp_path / "index.json"
    index.write_text(json.dumps({str(source): [*signature, "remembered"]}))
    assert Digests(index).of(source) == hashlib.sha256(b"one").hexdigest()


def test_a_file_changed_within_the_racy_window_is_not_remembered(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_bytes(b"just written")  # its change time is now
    index = tmp_path / "index.json"
    found = Digests(index)
    assert found.of(source) == hashlib.sha256(b"just written").hexdigest()
    found.save()
    assert not index.exists()  # nothing to remember: the next run reads it again


def test_what_a_run_read_is_kept_and_the_rest_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _later(monkeypatch)
    source = tmp_path / "a.py"
    source.write_bytes(b"one")
    index = tmp_path / "index.json"
    index.write_text(json.dumps({str(tmp_path / "gone.py"): [1, 2, 3, 4, 5, "old"]}))
    found = Digests(index)
    digest = found.of(source)
    found.save()
    assert json.loads(index.read_text()) == {str(source): [*_signature(source), digest]}
    assert Digests(index).of(source) == digest


def test_a_damaged_index_means_reading_every_file(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_bytes(b"one")
    index = tmp_path / "index.json"
    index.write_text('{"cut short')
    assert Digests(index).of(source) == hashlib.sha256(b"one").hexdigest()
