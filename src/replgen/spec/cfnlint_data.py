"""The tables replgen validates specs against, extracted from the data cfn-lint ships.

cfn-lint regenerates its data from the RDS and Lambda APIs with every release; replgen keeps
the few tables it needs in `catalog.json` beside this file, so a validate or compile reads
one small file instead of cfn-lint's schemas (parsing those, or importing `cfnlint`, costs
a good share of a compile). A test compares the snapshot with the installed cfn-lint; to
refresh it after upgrading cfn-lint:

    python -m replgen.spec.cfnlint_data > src/replgen/spec/catalog.json
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

# The engines a spec may name (spec.models.DatabaseSettings.engine).
ENGINES = ("aurora-mysql", "aurora-postgresql")
_RDS_CLUSTER = "cfnlint.data.schemas.extensions.aws_rds_dbcluster"
_RDS_INSTANCE = "cfnlint.data.schemas.extensions.aws_rds_dbinstance"


def _data_dir(package: str) -> Path:
    """The folder of one of cfn-lint's data packages, located without importing it."""
    root = Path(str(metadata.distribution("cfn-lint").locate_file("")))
    return root.joinpath(*package.split("."))


def _read(package: str, name: str) -> Any:
    return json.loads((_data_dir(package) / name).read_text("utf-8"))


def _conditions(package: str, name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The (if, then) property schemas of one of cfn-lint's `allOf` extension files."""
    return [
        (
            c["if"]["properties"],
            c["then"].get("properties", {}) if isinstance(c["then"], dict) else {},
        )
        for c in _read(package, name)["allOf"]
    ]


def _engine_versions(engine: str) -> list[str]:
    for cond, then in _conditions(_RDS_CLUSTER, "engine_version.json"):
        if cond.get("Engine", {}).get("const") == engine and "EngineVersion" in then:
            return sorted(then["EngineVersion"]["enum"])
    return []


def _deprecated(engine: str) -> list[str]:
    found: set[str] = set()
    for cond, _ in _conditions(_RDS_CLUSTER, "engine_version_deprecated.json"):
        if cond.get("Engine", {}).get("const") == engine:
            found.update(cond.get("EngineVersion", {}).get("enum", ()))
    return sorted(found)


def _instance_classes(engine: str, lists: list[list[str]]) -> list[list[Any]]:
    """[version pattern, index into `lists`] in cfn-lint's order: the first match wins.
    Many patterns share one list of classes: each list is kept once."""
    out: list[list[Any]] = []
    for cond, then in _conditions(_RDS_INSTANCE, "db_instance_class.json"):
        pattern = cond.get("EngineVersion", {}).get("pattern")
        if cond.get("Engine", {}).get("const") != engine or not pattern:
            continue
        classes = sorted(then["DBInstanceClass"]["enum"])
        if classes not in lists:
            lists.append(classes)
        out.append([pattern, lists.index(classes)])
    return out


def snapshot() -> dict[str, Any]:
    """Every table `catalog` answers from, read from the installed cfn-lint."""
    runtimes = _read("cfnlint.data.AdditionalSpecs", "LmbdRuntimeLifecycle.json")
    providers = _data_dir("cfnlint.data.schemas.providers").iterdir()
    lists: list[list[str]] = []
    patterns = {e: _instance_classes(e, lists) for e in ENGINES}
    return {
        "source": f"cfn-lint {metadata.version('cfn-lint')}",
        "engine_versions": {e: _engine_versions(e) for e in ENGINES},
        "deprecated_versions": {e: _deprecated(e) for e in ENGINES},
        "instance_classes": patterns,
        "instance_class_lists": lists,
        "lambda_runtimes": {
            name: {"deprecated": info["deprecated"], "create_block": info["create-block"]}
            for name, info in sorted(runtimes.items())
        },
        "regions": sorted(p.name[: -len(".json")] for p in providers if p.name.endswith(".json")),
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=0, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(dumps(snapshot()), end="")
