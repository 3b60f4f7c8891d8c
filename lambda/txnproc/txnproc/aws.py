"""boto3 clients with timeouts that suit a Lambda (boto3 is in the runtime, not vendored).

Clients are made once per cold start and reused: building one costs tens of milliseconds.
The defaults (60 s read timeout, legacy retries) would let one slow call eat a whole batch's
time budget; these fail within seconds and retry with the standard (adaptive-free) policy.
"""

from __future__ import annotations

from typing import Any


def client(service: str, region: str | None, *, fast: bool = False) -> Any:
    """``fast``: for calls on a deadline (health checks, the failover's probe of Route 53,
    whose control plane lives in us-east-1 and may be the region that is down)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2 if fast else 3,
        read_timeout=3 if fast else 10,
        retries={"mode": "standard", "max_attempts": 2 if fast else 3},
    )
    # The default session: its loader caches the service models across clients (a new
    # Session per client would parse them again, ~100 ms each on a cold start).
    return boto3.client(service, region_name=region, config=config)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None
