"""The processor's Lambda handler: an SQS batch, an ALB request, or the private deep health
check (``{"action": "deep_health"}``, from a schedule), told apart by shape."""

from __future__ import annotations

from typing import Any

from txnproc import alb, health
from txnproc.config import load_processor
from txnproc.errors import InvalidEvent
from txnproc.observe import log
from txnproc.process import is_sqs, process_batch
from txnproc.services import current


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    if is_sqs(event):
        # A configuration error raises: the whole batch returns to the queue untouched.
        return process_batch(event["Records"], current(load_processor()))
    if alb.is_alb(event):
        try:
            return alb.handle(event, current(load_processor()))
        except Exception as exc:  # answer 500 ourselves: the ALB would say 502 and log nothing
            log("error", "request_failed", error=type(exc).__name__, cause=str(exc)[:500])
            return alb.response(event, 500, {"error": "internal error"})
    if isinstance(event, dict) and event.get("action") == "deep_health":
        # Private: a schedule invokes it; the ALB only ever sends ALB requests (above).
        return health.deep_check(current(load_processor()))
    shape = sorted(event)[:10] if isinstance(event, dict) else type(event).__name__
    log("error", "unknown_event", shape=shape)
    raise InvalidEvent("event is neither an SQS batch, an ALB request nor a deep_health action")
