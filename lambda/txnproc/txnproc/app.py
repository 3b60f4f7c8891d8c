"""The processor's Lambda handler: an SQS batch or an ALB request, told apart by shape."""

from __future__ import annotations

from typing import Any

from txnproc import alb
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
    shape = sorted(event)[:10] if isinstance(event, dict) else type(event).__name__
    log("error", "unknown_event", shape=shape)
    raise InvalidEvent("event is neither an SQS batch nor an ALB request")
