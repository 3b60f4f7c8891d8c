"""Reproducible Lambda deployment zips.

A zip holds the files of ``lambda/<name>/``, the modules every function shares
(``lambda/shared/``: verified TLS to RDS) with the Amazon RDS CA bundle beside them
(``rds-ca-bundle.pem``, see ``rds_ca``), plus the installed files of the distributions the
function vendors (``LAMBDAS``) and, recursively, their requirements, taken from the current
environment with ``importlib.metadata``. The same inputs always give the same bytes: entries
sorted, timestamps fixed at 1980-01-01, permissions 0644, DEFLATE at a fixed level (with the
same zlib). The file name carries the content hash, so templates that name it change exactly
when the code does; ``base64_sha256`` is Terraform's ``source_code_hash``.

Left out on purpose: ``__pycache__``/``*.pyc`` and tests; distributions the Lambda Python
runtime already provides (boto3 and its dependencies); ``*.dist-info`` except ``METADATA``
(pg8000 and scramp read their own version through importlib.metadata at import time) and
license files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from replgen.digests import Digests

LAMBDAS: dict[str, tuple[str, ...]] = {
    "replsync": ("PyMySQL", "pg8000"),
    "txnproc": ("pg8000",),
}

# In every AWS Lambda Python runtime already (boto3 and what it needs).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
SHARED = "shared"  # lambda/shared/: modules at the root of every zip
CA_BUNDLE = "rds-ca-bundle.pem"  # where rdstls looks for it: beside itself
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
COMPRESS_LEVEL = 9
_SKIP_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache"})
_NATIVE = (".so", ".pyd", ".dylib", ".dll")
_LICENSE = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


@dataclass(frozen=True)
class Artifact:
    name: str  # "replsync"
    filename: str  # "replsync-<first 12 hex of sha256>.zip"
    sha256: str  # hex of the zip bytes
    base64_sha256: str  # base64 of the raw digest (Terraform's source_code_hash form)


class PackageError(Exception):
    """A Lambda that cannot be packaged (unknown name, missing code, native dependency)."""


def lambda_dir() -> Path:
    """Where the Lambda sources live: $REPLGEN_LAMBDA_DIR, else ``<repo>/lambda`` in a
    checkout, else ``replgen/_lambda`` shipped inside an installed wheel."""
    override = os.environ.get("REPLGEN_LAMBDA_DIR")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[2] / "lambda"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent / "_lambda"


def build(name: str, dest: Path) -> Artifact:
    """Write ``dest/<name>-<hash>.zip`` and describe it."""
    recipe = _recipe(name)
    payload = _cached(recipe.key) or _made(recipe)
    dest.mkdir(parents=True, exist_ok=True)
    artifact = _artifact(name, payload)
    (dest / artifact.filename).write_bytes(payload)
    return artifact


def describe(name: str) -> Artifact:
    """What `build` would write, without writing it (a compile needs only the hashes)."""
    return describe_all([name])[0]


def describe_all(names: list[str]) -> list[Artifact]:
    """`describe` of each name; the zips not in the cache are built side by side (zlib
    compresses outside the GIL), and the thread pool is only started for them."""
    recipes = [_recipe(name) for name in names]
    found = {r.name: payload for r in recipes if (payload := _cached(r.key)) is not None}
    missing = [r for r in recipes if r.name not in found]
    if missing:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor() as pool:
            found.update(zip([r.name for r in missing], pool.map(_made, missing), strict=True))
    return [_artifact(r.name, found[r.name]) for r in recipes]


@dataclass(frozen=True)
class _Recipe:
    """What goes into a zip: each entry's file (or bytes) and the cache key of the lot."""

    name: str
    inputs: dict[str, Path | bytes]
    key: str


def _recipe(name: str) -> _Recipe:
    if name not in LAMBDAS:
        raise PackageError(f"unknown lambda {name!r}; known: {sorted(LAMBDAS)}")
    source = lambda_dir() / name
    if not (source / "handler.py").is_file():
        raise PackageError(f"{source} has no handler.py")
    if not (lambda_dir() / SHARED / "rdstls.py").is_file():
        raise PackageError(f"{lambda_dir() / SHARED} has no rdstls.py")
    shared: list[tuple[str, Path | bytes]] = [*_own_files(lambda_dir() / SHARED)]
    shared.append((CA_BUNDLE, _ca_bundle()))
    # A file unchanged since an earlier run read it (by the rule of replgen.digests) keeps
    # the digest it had then, unread: the key is known without reading ~2 MB.
    where = _hex(str(lambda_dir()).encode())[:16]
    digests = Digests(_cache_dir() / f"inputs-{name}-{where}.json")
    inputs: dict[str, Path | bytes] = {}
    sums: dict[str, str] = {}
    for arcname, item in [*_own_files(source), *shared, *_vendored_files(LAMBDAS[name])]:
        digest = digests.of(item) if isinstance(item, Path) else _hex(item)
        if arcname in sums and sums[arcname] != digest:
            raise PackageError(f"{arcname} exists both in {source} and a vendored package")
        inputs[arcname], sums[arcname] = item, digest
    digests.save()
    return _Recipe(name, inputs, _key(sums))


def _hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _artifact(name: str, payload: bytes) -> Artifact:
    digest = hashlib.sha256(payload).digest()
    return Artifact(
        name=name,
        filename=f"{name}-{digest.hex()[:12]}.zip",
        sha256=digest.hex(),
        base64_sha256=base64.b64encode(digest).decode(),
    )


def _ca_bundle() -> bytes:
    from replgen import rds_ca

    try:
        return rds_ca.bundle()
    except rds_ca.BundleError as exc:
        raise PackageError(str(exc)) from exc


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(p in _SKIP_DIRS or p.startswith(".") for p in parts) or parts[-1].endswith(
        (".pyc", ".pyo")
    )


def _own_files(source: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not _skipped(rel.parts):
            yield rel.as_posix(), path


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str | None:
    """The distribution a Requires-Dist line needs here, or None (extras, other platforms)."""
    spec, _, marker = requirement.partition(";")
    if marker.strip():
        if "extra" in marker:
            return None
        try:
            from packaging.markers import Marker
        except ImportError:  # no packaging: keep the requirement, vendoring too much is safe
            pass
        else:
            if not Marker(marker).evaluate():
                return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return match.group(1) if match else None


def _closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The distributions and their requirements, recursively, minus the runtime's own."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = _canonical(todo.pop())
        if name in seen or name in RUNTIME_PROVIDED:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as exc:
            raise PackageError(f"{name} is not installed; cannot vendor it") from exc
        seen[name] = dist
        todo.extend(n for r in requirements(dist) if (n := _requirement_name(r)))
    return [seen[k] for k in sorted(seen)]


def requirements(dist: metadata.Distribution) -> list[str]:
    """`dist.requires`, read from the header block of METADATA: `requires` parses the whole
    file with the email parser, long description included (most of a compile's zip hashing)."""
    text = dist.read_text("METADATA")
    if text is None:  # an egg-info distribution: requires.txt
        return list(dist.requires or ())
    header = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    found: list[str] = []
    folding = False  # whether a folded line continues a Requires-Dist
    for line in header.splitlines():
        if folding and line[:1] in (" ", "\t"):
            found[-1] += " " + line.strip()
            continue
        folding = line.lower().startswith("requires-dist:")
        if folding:
            found.append(line.partition(":")[2].strip())
    return found


def _vendored_files(names: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    for dist in _closure(names):
        for file in dist.files or ():
            parts = PurePosixPath(str(file)).parts
            if ".." in parts or _skipped(parts) or not _wanted_from_dist(parts):
                continue
            if parts[-1].endswith(_NATIVE):
                raise PackageError(f"{dist.metadata['Name']} is not pure Python ({file})")
            yield "/".join(parts), Path(str(dist.locate_file(file)))


def _wanted_from_dist(parts: tuple[str, ...]) -> bool:
    if not parts[0].endswith(".dist-info"):
        return parts[0] != "bin"
    return parts[-1] == "METADATA" or bool(_LICENSE.match(parts[-1]))


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_TIME)
            info.external_attr = (0o100000 | FILE_MODE) << 16  # regular file, rw-r--r--
            info.create_system = 3  # Unix, whatever machine builds it
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[arcname], compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "replgen" / "zips"


def _key(digests: dict[str, str]) -> str:
    """The cache key of a zip: every input byte (by digest) and how they are zipped (this
    module's source, so that any edit of it is a new key; `inspect.getsource(_zip)`
    tokenized the file at every compile)."""
    key = hashlib.sha256(Path(__file__).read_bytes())
    key.update(f"{zlib.ZLIB_RUNTIME_VERSION} {COMPRESS_LEVEL} {ZIP_TIME} {FILE_MODE}".encode())
    for arcname in sorted(digests):
        key.update(f"{arcname}\0{digests[arcname]}\0".encode())
    return key.hexdigest()


def _cached(key: str) -> bytes | None:
    """The zip kept under `key` by an earlier run, if its bytes still hash to the digest in
    its name. DEFLATE at level 9 is most of what a compile would spend on the zips' hashes,
    and their inputs rarely change."""
    for cached in _cache_dir().glob(f"{key}-*.zip"):
        payload = cached.read_bytes()
        if cached.stem.endswith(_hex(payload)):
            return payload
    return None


def _made(recipe: _Recipe) -> bytes:
    """Zip the inputs as read now, and keep the zip under the key of exactly those bytes
    (a file may have changed since it was hashed)."""
    entries = {a: i if isinstance(i, bytes) else i.read_bytes() for a, i in recipe.inputs.items()}
    key = _key({arcname: _hex(data) for arcname, data in entries.items()})
    payload = _zip(entries)
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
            tmp.write(payload)
        os.replace(tmp.name, folder / f"{key}-{_hex(payload)}.zip")
    except OSError:  # a read-only home: no cache, same bytes
        pass
    return payload
