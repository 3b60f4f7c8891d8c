"""The ``status`` action: can we reach each environment, and how far has it migrated?"""

from __future__ import annotations

from typing import Any

from replsync.connect import RetryPolicy, close_quietly
from replsync.migrate import latest_version
from replsync.observe import log
from replsync.runtime import Request, Runtime


def environment_status(runtime: Runtime, name: str) -> dict[str, Any]:
    conn = None
    try:
        conn = runtime.connector.open(name)
        version = latest_version(runtime.dialect, conn)
        return {"reachable": True, "latest_migration": version, "error": None}
    except Exception as exc:  # report, don't fail: status is for finding broken environments
        log("warning", "environment_unreachable", environment=name, cause=repr(exc))
        return {
            "reachable": False,
            "latest_migration": None,
            "error": f"{type(exc).__name__}: {exc}",
        }
    finally:
        close_quietly(conn)


def status(request: Request, runtime: Runtime) -> dict[str, Any]:
    # One quick try per environment: a status call should answer fast, not wait out retries.
    runtime.connector.policy = RetryPolicy(attempts=1)
    environments = {name: environment_status(runtime, name) for name in runtime.config.environments}
    return {"status": "ok", "action": "status", "environments": environments}
