"""Reproducible Lambda zips: the function's own files plus its vendored pure-Python drivers.

Same inputs, same bytes: entries sorted, timestamps and permissions fixed, so the
content hash in a zip's name (and in the templates that name it) changes only when
the code or a pinned driver version does.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

# lambda name -> distributions vendored into its zip (boto3 is in the Lambda runtime)
LAMBDAS: dict[str, tuple[str, ...]] = {"replsync": ("PyMySQL", "pg8000")}
EPOCH = (1980, 1, 1, 0, 0, 0)
SKIP_PARTS = {"__pycache__", "tests"}


@dataclass(frozen=True)
class Artifact:
    name: str
    filename: str
    sha256: str
    base64_sha256: str  # Terraform's source_code_hash form


def lambda_dir() -> Path:
    """`REPLGEN_LAMBDA_DIR`, or `lambda/` at the root of this checkout."""
    override = os.environ.get("REPLGEN_LAMBDA_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "lambda"


def _distributions(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The named distributions and, recursively, what they require (without extras)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        dist = metadata.distribution(name)
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen[key] = dist
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return [seen[k] for k in sorted(seen)]


def _vendored_files(names: tuple[str, ...]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for dist in _distributions(names):
        for entry in dist.files or []:
            parts = Path(str(entry)).parts
            if (
                parts[0].endswith((".dist-info", ".data"))
                or ".." in parts
                or SKIP_PARTS & set(parts)
            ):
                continue
            if entry.suffix in {".pyc", ".pyi"} or str(entry).startswith("../"):
                continue
            files[str(entry)] = Path(str(entry.locate())).read_bytes()
    return files


def _own_files(name: str) -> dict[str, bytes]:
    root = lambda_dir() / name
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not SKIP_PARTS & set(p.relative_to(root).parts) and p.suffix != ".pyc"
    }


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path], compresslevel=9)
    return buffer.getvalue()


def build(name: str, dest: Path) -> Artifact:
    """Write `dest/<name>-<sha12>.zip` and describe it."""
    data = zip_bytes({**_vendored_files(LAMBDAS[name]), **_own_files(name)})
    digest = hashlib.sha256(data)
    filename = f"{name}-{digest.hexdigest()[:12]}.zip"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / filename).write_bytes(data)
    encoded = base64.b64encode(digest.digest()).decode()
    return Artifact(name, filename, digest.hexdigest(), encoded)
