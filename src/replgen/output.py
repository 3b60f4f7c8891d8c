"""Writing a backend's files: all or nothing, and comparing with what is committed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def write_tree(target: Path, files: dict[str, bytes]) -> None:
    """Replace `target` with exactly `files`; on any failure the old tree stays as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def differences(target: Path, files: dict[str, bytes]) -> list[str]:
    """Files that would change: missing, different, or no longer produced."""
    on_disk = (
        {str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*") if p.is_file()}
        if target.is_dir()
        else {}
    )
    changed = [name for name, data in files.items() if on_disk.get(name) != data]
    stale = [name for name in on_disk if name not in files]
    return sorted(changed + stale)
