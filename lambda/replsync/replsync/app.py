"""Lambda handler: validate the event, run the action, report.

Direct invocation, EventBridge (constant input, or the event's ``detail``) and Step Functions
all send ``{"action", "source", "target", "tables", "dry_run"}``. A refused request returns
``{"status": "refused"}``; a failure raises the ``ReplsyncError`` subclass named for it (so a
state machine can match ``errorType``), after logging the ``status: error`` body. ``run``
returns that body instead of raising, for callers that prefer a value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from replsync.bootstrap import bootstrap
from replsync.config import load_config
from replsync.errors import InvalidEvent, Refused, ReplsyncError
from replsync.migrate import migrate
from replsync.observe import log
from replsync.refdata import sync_reference_data
from replsync.runtime import Request, Runtime
from replsync.schemadiff import schema_diff
from replsync.status import status

Action = Callable[[Request, Runtime], dict[str, Any]]

ACTIONS: dict[str, Action] = {
    "bootstrap": bootstrap,
    "migrate": migrate,
    "schema_diff": schema_diff,
    "sync_reference_data": sync_reference_data,
    "status": status,
}


def parse_event(event: Any) -> Request:
    if not isinstance(event, Mapping):
        raise InvalidEvent("event must be a JSON object")
    if "detail-type" in event and isinstance(event.get("detail"), Mapping):
        event = event["detail"]  # an EventBridge envelope: our fields are in detail
    action = event.get("action")
    if action not in ACTIONS:
        raise InvalidEvent(f"action must be one of {sorted(ACTIONS)}, not {action!r}")
    for name in ("source", "target"):
        if event.get(name) is not None and not isinstance(event[name], str):
            raise InvalidEvent(f"{name} must be a string")
    tables = event.get("tables")
    if tables is not None and (
        not isinstance(tables, list) or not all(isinstance(t, str) for t in tables)
    ):
        raise InvalidEvent("tables must be a list of table names")
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidEvent("dry_run must be true or false")
    versions = event.get("versions")
    if versions is not None and (
        not isinstance(versions, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in versions.items())
    ):
        raise InvalidEvent("versions must map object keys to version ids")
    return Request(
        action,
        event.get("source"),
        event.get("target"),
        tuple(tables) if tables is not None else None,
        dry_run,
        dict(versions) if versions is not None else None,
    )


def execute(event: Any, runtime: Runtime | None = None) -> dict[str, Any]:
    """Run the event; return ok/refused bodies, raise ``ReplsyncError`` on failure."""
    request = parse_event(event)
    runtime = runtime or Runtime.from_config(load_config())
    started = time.monotonic()
    try:
        response = ACTIONS[request.action](request, runtime)
    except Refused as exc:
        response = exc.response()
        log(
            "warning",
            "refused",
            action=request.action,
            source=request.source,
            target=request.target,
            reason=exc.message,
        )
        return response
    except ReplsyncError as exc:
        log("error", "action_failed", action=request.action, **exc.response())
        raise
    except Exception as exc:  # a bug or an unclassified driver error: fail fast, say why
        log(
            "error",
            "action_failed",
            action=request.action,
            error=type(exc).__name__,
            cause=repr(exc),
        )
        raise
    log(
        "info",
        "action_done",
        action=request.action,
        source=request.source,
        target=request.target,
        status=response["status"],
        seconds=round(time.monotonic() - started, 3),
    )
    return response


def run(event: Any, runtime: Runtime | None = None) -> dict[str, Any]:
    """Like ``handler`` but returns ``{"status": "error", ...}`` instead of raising."""
    try:
        return execute(event, runtime)
    except ReplsyncError as exc:
        return exc.response()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    return execute(event)
