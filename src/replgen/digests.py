"""SHA-256 of files, remembered between runs by what `stat` says of them.

The rule (git's index relies on the same one): a remembered digest is used only while the
file's size, modification time, change time (both in nanoseconds), inode and device are
all what they were when the file was read, and only if its last modification and change
were at least `RACY_NS` before it was read. Any write to a file sets its change time to
the clock's now, and no call can set a change time back (`os.utime` sets it to now too),
so a file written after it was read no longer matches; a file written within `RACY_NS` of
being read (the same timestamp tick, on a file system whose ticks are coarse) is read
again every time until it is older. Where the change time is not the time of the last
change (Windows calls its creation time so), nothing is remembered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

RACY_NS = 2_000_000_000
REMEMBERS = os.name == "posix"

Signature = tuple[int, int, int, int, int]


def _signature(stat: os.stat_result) -> Signature:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


class Digests:
    """The digests of the files one job reads, kept in `index` (a JSON file) between runs."""

    def __init__(self, index: Path) -> None:
        self.index = index
        self.known: dict[str, list[int | str]] = {}
        self.used: dict[str, list[int | str]] = {}
        # None yet, or damaged: every file is read.
        with contextlib.suppress(OSError, ValueError):
            self.known = json.loads(index.read_text("utf-8")) if REMEMBERS else {}

    def of(self, path: Path) -> str:
        """The hex SHA-256 of the file's bytes."""
        now = time.time_ns()  # before the stat: a change after it is later than this
        signature = _signature(path.stat())  # before the read, so a write between them shows
        record = self.known.get(str(path))
        if record is not None and tuple(record[:5]) == signature:
            self.used[str(path)] = record
            return str(record[5])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if now - max(signature[1], signature[2]) >= RACY_NS:
            self.used[str(path)] = [*signature, digest]
        return digest

    def save(self) -> None:
        """Keep what this run read and may remember (only that: files it no longer reads
        are forgotten), if that differs from what was kept."""
        if not REMEMBERS or self.used == self.known:
            return
        try:
            self.index.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.index.parent, delete=False, encoding="utf-8"
            ) as tmp:
                json.dump(self.used, tmp, sort_keys=True)
            os.replace(tmp.name, self.index)
        except OSError:  # a read-only cache: the next run reads every file again
            pass
