"""What AWS accepts: engine versions, instance classes, Lambda runtimes and regions.

The tables are cfn-lint's (regenerated from the AWS APIs with every cfn-lint release),
snapshotted into `catalog.json` by `cfnlint_data`; a test holds the snapshot equal to the
installed cfn-lint. Reading that one small file keeps `cfnlint` and its large schemas off
the validate and compile path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _tables() -> dict[str, Any]:
    # Beside this module (importlib.resources would cost more to import than the read).
    data: dict[str, Any] = json.loads(Path(__file__).with_name("catalog.json").read_text("utf-8"))
    return data


@cache
def engine_versions(engine: str) -> frozenset[str]:
    return frozenset(_tables()["engine_versions"].get(engine, ()))


@cache
def deprecated_versions(engine: str) -> frozenset[str]:
    return frozenset(_tables()["deprecated_versions"].get(engine, ()))


@cache
def instance_classes(engine: str, version: str) -> frozenset[str]:
    """Instance classes RDS offers for an engine version (empty if cfn-lint has no data)."""
    tables = _tables()
    for pattern, index in tables["instance_classes"].get(engine, ()):
        if re.match(pattern, version):
            return frozenset(tables["instance_class_lists"][index])
    return frozenset()


@dataclass(frozen=True)
class RuntimeLifecycle:
    deprecated: str
    create_block: str


@cache
def lambda_runtimes() -> dict[str, RuntimeLifecycle]:
    return {
        name: RuntimeLifecycle(info["deprecated"], info["create_block"])
        for name, info in _tables()["lambda_runtimes"].items()
    }


@cache
def regions() -> frozenset[str]:
    return frozenset(_tables()["regions"])


# "no smaller than db.r5.large": rank sizes so families can be compared by size.
_SIZES = ["micro", "small", "medium", "large", "xlarge"]


def size_rank(instance_class: str) -> int:
    """0 for micro ... 3 for large, 4 for xlarge, 4+n for `<n>xlarge`."""
    size = instance_class.rsplit(".", 1)[-1]
    if size in _SIZES:
        return _SIZES.index(size)
    match = re.fullmatch(r"(\d+)xlarge", size)
    return 4 + int(match.group(1)) if match else -1
