"""Generated hub-and-spoke fleets: one account per environment, every environment peered
with the hub that runs the sync, CIDRs with gaps between them (non-contiguous)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

# Every other /20 of 10.0.0.0/8: 130 environments fit with room to spare.
POOL = list(ipaddress.IPv4Network("10.0.0.0/8").subnets(new_prefix=20))[::2]


def spoke(i: int) -> str:
    return f"e{i:03d}"


# The sync's configuration travels in its function's environment (4 KB): it holds about
# ten environments' connection details, so the sync reaches the first nine spokes.
SYNCED = 9


def fleet(
    spokes: int, *, quotas: dict[str, int] | None = None, azs: int = 2, synced: int = SYNCED
) -> dict[str, Any]:
    """A spec (as data) with a hub and `spokes` environments, each in its own account,
    all peered with the hub; the hub's sync promotes schema to the first `synced`."""
    names = ["hub", *(spoke(i) for i in range(1, spokes + 1))]
    spec: dict[str, Any] = {
        "replgen": 1,
        "name": "fleet",
        "suffix": "f1",
        "region": "us-east-1",
        "accounts": {f"a{n}": f"{100000000000 + i}" for i, n in enumerate(names)},
        "defaults": {
            "database": {
                "engine": "aurora-postgresql",
                "engine_version": "15.10",
                "instance_class": "db.r6g.large",
            },
            "network": {"azs": azs},
        },
        "environments": {
            n: {"account": f"a{n}", "cidr": str(POOL[i])} for i, n in enumerate(names)
        },
        "peering": [["hub", n] for n in names[1:]],
        "sync": {"runs_in": "hub", "schema": {"promote": names[: synced + 1]}},
    }
    if quotas:
        spec["quotas"] = quotas
    return spec


def write(spec: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
