"""Writing a backend's files into a folder it shares with the user.

Compile owns only the files it wrote, listed in `RECORD` beside them: it replaces those,
removes the ones it no longer produces, and leaves everything else (Terraform state and
locks, `.terraform/`, notes) byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

RECORD = ".replgen-owned"  # JSON, but no .json: tools globbing templates must not read it


@dataclass(frozen=True)
class Changes:
    """What a write did (or would do), by relative path."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    by_stack: dict[str, str] = field(default_factory=dict)  # path -> stack it belongs to

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def owned(target: Path) -> set[str]:
    """The files a previous compile wrote here; empty where none did."""
    try:
        document = json.loads((target / RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(p) for p in document.get("files", []) if isinstance(p, str)}


def _record(files: Iterable[str]) -> bytes:
    document = {
        "written_by": "replgen compile: it replaces only these files; anything else is yours",
        "files": sorted(files),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def stack_of(path: str) -> str:
    """The stack a file belongs to: `stacks/<stack>/...` in CDKTF, the file's stem otherwise."""
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == "stacks":
        return parts[1]
    return parts[-1].rsplit(".", 1)[0]


def compare(target: Path, files: dict[str, bytes]) -> Changes:
    """How `files` differ from what the last compile left in `target` (foreign files ignored)."""
    previous = owned(target)
    added, changed, unchanged = [], [], []
    for name in sorted(files):
        current = _read(target / name)
        if current is None:
            added.append(name)
        elif current != files[name]:
            changed.append(name)
        else:
            unchanged.append(name)
    removed = sorted(p for p in previous - set(files) if (target / p).is_file())
    paths = [*files, *removed]
    return Changes(
        tuple(added),
        tuple(changed),
        tuple(removed),
        tuple(unchanged),
        {p: stack_of(p) for p in paths},
    )


def differences(target: Path, files: dict[str, bytes]) -> list[str]:
    """Files that would change: missing, different, or written before and no longer produced."""
    changes = compare(target, files)
    return sorted((*changes.added, *changes.changed, *changes.removed))


def write_tree(target: Path, files: dict[str, bytes]) -> Changes:
    """Replace the files compile owns in `target` with `files`, touching nothing else.

    Every new content is staged beside its destination first; only when all are staged is
    each moved into place (`os.replace`, atomic per file). A failure while staging leaves
    the folder exactly as it was.
    """
    changes = compare(target, files)
    everything = {**files, RECORD: _record(files)}
    to_write = [*changes.added, *changes.changed]
    if _read(target / RECORD) != everything[RECORD]:
        to_write.append(RECORD)
    staged: list[tuple[Path, Path]] = []
    try:
        for name in to_write:
            staged.append((_stage(target / name, everything[name]), target / name))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    # The record goes last (it is staged last): until it is in place, the previous one still
    # names every old file.
    for temporary, path in staged:
        os.replace(temporary, path)
    for name in changes.removed:
        (target / name).unlink()
        _prune(target, (target / name).parent)
    return changes


def _stage(path: Path, content: bytes) -> Path:
    """`content` in a new file beside `path` (same filesystem, so the move is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(name, 0o644)  # mkstemp's 0600 would hide the templates from other readers
    return Path(name)


def _prune(root: Path, folder: Path) -> None:
    """Remove folders a removed file leaves empty (never one holding anything else)."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
