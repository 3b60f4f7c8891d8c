"""What AWS accepts, read from the service data cfn-lint ships and keeps current.

Typing version lists by hand goes stale in weeks; cfn-lint regenerates these
files from the RDS and Lambda APIs with every release. The files are found through the
installed distribution's metadata, not by importing `cfnlint`: that import alone costs
about half a second of every validate and compile.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

_RDS_CLUSTER = "cfnlint.data.schemas.extensions.aws_rds_dbcluster"
_RDS_INSTANCE = "cfnlint.data.schemas.extensions.aws_rds_dbinstance"


@cache
def _data_dir(package: str) -> Path:
    """The folder of one of cfn-lint's data packages, located without importing it."""
    root = Path(str(metadata.distribution("cfn-lint").locate_file("")))
    return root.joinpath(*package.split("."))


def _read(package: str, name: str) -> Any:
    return json.loads((_data_dir(package) / name).read_text("utf-8"))


def _conditions(package: str, name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The (if, then) property schemas of one of cfn-lint's `allOf` extension files."""
    doc = _read(package, name)
    return [
        (
            c["if"]["properties"],
            c["then"].get("properties", {}) if isinstance(c["then"], dict) else {},
        )
        for c in doc["allOf"]
    ]


@cache
def engine_versions(engine: str) -> frozenset[str]:
    for cond, then in _conditions(_RDS_CLUSTER, "engine_version.json"):
        if cond.get("Engine", {}).get("const") == engine and "EngineVersion" in then:
            return frozenset(then["EngineVersion"]["enum"])
    return frozenset()


@cache
def deprecated_versions(engine: str) -> frozenset[str]:
    found: set[str] = set()
    for cond, _ in _conditions(_RDS_CLUSTER, "engine_version_deprecated.json"):
        if cond.get("Engine", {}).get("const") == engine:
            found.update(cond.get("EngineVersion", {}).get("enum", ()))
    return frozenset(found)


@cache
def instance_classes(engine: str, version: str) -> frozenset[str]:
    """Instance classes RDS offers for an engine version (empty if cfn-lint has no data)."""
    for cond, then in _conditions(_RDS_INSTANCE, "db_instance_class.json"):
        if cond.get("Engine", {}).get("const") != engine:
            continue
        pattern = cond.get("EngineVersion", {}).get("pattern")
        if pattern and re.match(pattern, version):
            return frozenset(then["DBInstanceClass"]["enum"])
    return frozenset()


@dataclass(frozen=True)
class RuntimeLifecycle:
    deprecated: str
    create_block: str


@cache
def lambda_runtimes() -> dict[str, RuntimeLifecycle]:
    data = _read("cfnlint.data.AdditionalSpecs", "LmbdRuntimeLifecycle.json")
    return {
        name: RuntimeLifecycle(info["deprecated"], info["create-block"])
        for name, info in data.items()
    }


@cache
def regions() -> frozenset[str]:
    names = _data_dir("cfnlint.data.schemas.providers").iterdir()
    return frozenset(p.name.replace(".json", "") for p in names if p.name.endswith(".json"))


# "no smaller than db.r5.large": rank sizes so families can be compared by size.
_SIZES = ["micro", "small", "medium", "large", "xlarge"]


def size_rank(instance_class: str) -> int:
    """0 for micro ... 3 for large, 4 for xlarge, 4+n for `<n>xlarge`."""
    size = instance_class.rsplit(".", 1)[-1]
    if size in _SIZES:
        return _SIZES.index(size)
    match = re.fullmatch(r"(\d+)xlarge", size)
    return 4 + int(match.group(1)) if match else -1
