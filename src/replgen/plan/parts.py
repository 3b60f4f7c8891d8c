"""What one part of the plan adds to a site, and their sum.

The site's own components, the sync, disaster recovery and protection are each decided in
their module, which returns the components it adds to a site as `Parts`. A site is made
once, from its identity and the sum of its parts: no component is made with a placeholder
that another part fills in later.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from replgen.plan.model import (
    Alarm,
    BackupPlan,
    Bucket,
    Emptier,
    EventSource,
    Function,
    GlobalTable,
    Invocation,
    Invoker,
    LoadBalancer,
    LogGroup,
    Permission,
    Queue,
    Record,
    Role,
    Schedule,
    StateMachine,
    Value,
    Zone,
)


@dataclass(frozen=True)
class Parts:
    """Components of one site; a component a site has at most once is set by one part."""

    buckets: tuple[Bucket, ...] = ()
    roles: tuple[Role, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    functions: tuple[Function, ...] = ()
    queues: tuple[Queue, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    state_machines: tuple[StateMachine, ...] = ()
    invocations: tuple[Invocation, ...] = ()
    permissions: tuple[Permission, ...] = ()
    event_sources: tuple[EventSource, ...] = ()
    outputs: tuple[tuple[str, Value], ...] = ()
    foundation: tuple[str, ...] = ()
    emptiers: tuple[Emptier, ...] = ()
    # Log groups whose events the site key encrypts: its policy names each one.
    log_groups: tuple[LogGroup, ...] = ()
    invoker: Invoker | None = None
    load_balancer: LoadBalancer | None = None
    zone: Zone | None = None
    record: Record | None = None
    table: GlobalTable | None = None
    backup: BackupPlan | None = None

    def __add__(self, other: Parts) -> Parts:
        return Parts(**{f.name: _sum(f.name, self, other) for f in fields(Parts)})

    def components(self) -> dict[str, Any]:
        """The site's fields these parts fill (`log_groups` are the key's to read)."""
        return {f.name: getattr(self, f.name) for f in fields(Parts) if f.name != "log_groups"}


def _sum(name: str, a: Parts, b: Parts) -> Any:
    mine, theirs = getattr(a, name), getattr(b, name)
    if isinstance(mine, tuple):
        return mine + theirs
    if mine is not None and theirs is not None:
        raise AssertionError(f"two parts of one site make its {name}")
    return theirs if mine is None else mine
