"""Isolation rules: which source/target/table combinations may run at all.

Every check raises ``Refused`` before any connection is opened, so a refused request has
written (and read) nothing.
"""

from __future__ import annotations

from replsync.config import Config, Environment, TableSpec
from replsync.errors import Refused
from replsync.runtime import Request


def environment(config: Config, name: str | None, role: str) -> Environment:
    if not name:
        raise Refused(f"{role} environment is required")
    env = config.environments.get(name)
    if env is None:
        raise Refused(f"unknown {role} environment {name!r}")
    return env


def check_not_production_source(source: Environment) -> None:
    # Production is only ever written to by promotion; never read data or schema from it.
    if source.production:
        raise Refused(f"source {source.name!r} is a production environment")


def check_promotion(config: Config, source: Environment, target: Environment) -> None:
    """The target must come strictly after the source in the promotion order."""
    order = config.promote
    if source.name not in order or target.name not in order:
        raise Refused(f"{source.name!r} -> {target.name!r} is not in the promotion order")
    if order.index(target.name) <= order.index(source.name):
        raise Refused(
            f"target {target.name!r} does not come after source {source.name!r} "
            f"in the promotion order {list(order)}"
        )


def check_distinct(source: Environment, target: Environment) -> None:
    """Two names for one database would make a sync compare a table with itself."""
    if (source.host, source.port, source.dbname) == (target.host, target.port, target.dbname):
        raise Refused(f"{source.name!r} and {target.name!r} are the same database")


def check_reference_route(config: Config, source: Environment, target: Environment) -> None:
    """Reference data reaches a target only from the one environment before it in the
    chain (the plan's ``routes``), never from further up: dev -> prod cannot skip staging."""
    ref = config.reference_data
    if target.name not in ref.targets:
        raise Refused(f"{target.name!r} is not a reference-data target {list(ref.targets)}")
    expected = ref.source_of(target.name)
    if source.name != expected:
        raise Refused(
            f"{target.name!r} takes reference data from {expected!r} only, not {source.name!r}"
        )


def reference_tables(config: Config, requested: tuple[str, ...] | None) -> list[TableSpec]:
    ref = config.reference_data
    if requested is None:
        return list(ref.tables)
    unknown = [name for name in requested if ref.table(name) is None]
    if unknown:
        raise Refused(f"tables not configured for reference data: {unknown}")
    return [spec for name in requested if (spec := ref.table(name)) is not None]


def source_and_target(config: Config, request: Request) -> tuple[Environment, Environment]:
    """Checks shared by every action that copies from one environment to another."""
    source = environment(config, request.source, "source")
    target = environment(config, request.target, "target")
    check_not_production_source(source)
    check_promotion(config, source, target)
    check_distinct(source, target)
    return source, target


def check_sync(config: Config, request: Request) -> list[TableSpec]:
    # The route, not the schema's promote order, says who feeds whom: an environment may
    # receive reference data without running migrations.
    source = environment(config, request.source, "source")
    target = environment(config, request.target, "target")
    check_not_production_source(source)
    check_reference_route(config, source, target)
    check_distinct(source, target)
    return reference_tables(config, request.tables)
