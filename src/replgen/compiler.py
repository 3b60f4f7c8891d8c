"""The pipeline as a library call: spec file -> plan -> each backend's files."""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from replgen.backends import BUILTIN, Backend, Options, Unavailable, Unsupported, available, builtin
from replgen.errors import Problem, SpecError, UsageError
from replgen.plan.build import build
from replgen.plan.model import Code, Plan
from replgen.spec import siblings
from replgen.spec.load import Loaded, validate
from replgen.spec.source import parse
from replgen.spec.suggest import did_you_mean


@dataclass(frozen=True)
class Compiled:
    loaded: Loaded
    plan: Plan


def load_spec(path: Path, suffix: str | None = None) -> Loaded:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem((), f"cannot read spec: {exc}")]) from None
    data, source = parse(text, str(path))
    if suffix is not None and isinstance(data, dict):
        data["suffix"] = suffix
    try:
        loaded = validate(data, source)
    except SpecError as exc:
        exc.source = source
        raise
    clash = siblings.same_name(path, loaded.spec.name)
    return replace(loaded, warnings=(*loaded.warnings, *clash))


def artifacts() -> dict[str, Code]:
    """Content hashes of the Lambda zips, built exactly as `replgen package` builds them."""
    from replgen import package  # vendors the drivers: only when a plan is built

    built = package.describe_all(sorted(package.LAMBDAS))  # described, not written
    return {a.name: Code(a.name, a.filename, a.sha256, a.base64_sha256) for a in built}


def plan_for(loaded: Loaded) -> Plan:
    return build(loaded.spec, artifacts())


def backend_names() -> list[str]:
    """Every installed backend's name, without importing any of them."""
    return sorted(entry_points(group="replgen.backends").names)


def check_backend(name: str) -> None:
    """UsageError unless `name` is an installed backend or `all`."""
    if name in BUILTIN:
        return
    names = ["all", *backend_names()]
    if name not in names:
        hint = did_you_mean(name, names, 1)
        raise UsageError(f"unknown backend {name!r}{hint} (choose from {', '.join(names)})")


def backends(name: str) -> dict[str, Backend]:
    if name in BUILTIN:
        return {name: builtin(name)}
    check_backend(name)
    found = available()
    return found if name == "all" else {name: found[name]}


def render(plan: Plan, backend: Backend, options: Options) -> dict[str, bytes]:
    try:
        return backend.render(plan, options)
    except Unsupported as exc:  # a layout the topology cannot have, e.g. single over accounts
        raise UsageError(str(exc), "--layout") from None
    except Unavailable as exc:
        raise UsageError(f"the {backend.name} backend cannot run: {exc}", "--backend") from None
    except NotImplementedError as exc:  # a component this backend does not render yet:
        # neither the spec's fault nor a crash; another backend may render it.
        message = f"the {backend.name} backend cannot render this yet: {exc}"
        raise UsageError(message, "--backend") from None


def describe(plan: Plan) -> dict[str, Any]:
    """A machine-readable summary of what will be built, per site."""
    return {
        "name": plan.name,
        "suffix": plan.suffix,
        "sites": [
            {
                "id": s.id,
                "account": s.account_id,
                "region": s.region,
                "production": s.production,
                "vpc": s.network.cidr,
                "subnets": [n.cidr for n in s.network.private_subnets + s.network.public_subnets],
                "key": s.key.external_arn or s.key.alias,
                "cluster": s.database.cluster_id,
                "engine": f"{s.database.engine} {s.database.engine_version}",
                "instances": f"{len(s.database.instances)} x {s.database.instance_class}",
                "functions": [f.name for f in s.functions],
                "alarms": [a.name for a in s.alarms],
            }
            for s in plan.sites
        ],
        "peerings": [
            {
                "id": p.id,
                "requester": p.requester,
                "accepter": p.accepter,
                "cross_account": p.cross_account,
                "cross_region": p.cross_region,
                "port": p.port,
            }
            for p in plan.peerings
        ],
    }
