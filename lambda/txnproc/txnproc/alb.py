"""The HTTP API behind the regional Application Load Balancer.

``GET /health`` is what the Route 53 health check (and the ALB's target check) calls: it is
public, so it answers from the cached writer flag only (``health``), never from the database
or SQS; the deep check runs privately (``{"action": "deep_health"}``). ``POST /transactions``
authenticates the caller (``auth``: the identity the load balancer vouches for must own the
transaction's account), validates and enqueues; the SQS consumer does the writing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from txnproc import auth
from txnproc import health as writer_flag
from txnproc.errors import InvalidMessage
from txnproc.message import parse_json, parse_transaction
from txnproc.observe import emit_metrics, log
from txnproc.services import Services

MAX_BODY = 16 * 1024  # bytes; a transaction is ~250


def is_alb(event: Any) -> bool:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    return isinstance(context, Mapping) and "elb" in context


def response(
    event: Mapping[str, Any],
    status: int,
    body: Mapping[str, Any],
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    headers.update(extra_headers or {})
    out: dict[str, Any] = {
        "statusCode": status,
        "statusDescription": f"{status} {HTTPStatus(status).phrase}",
        "body": json.dumps(body, sort_keys=True),
        "isBase64Encoded": False,
    }
    # With multi-value headers on, the ALB reads only multiValueHeaders from the answer.
    if "multiValueHeaders" in event:
        out["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    else:
        out["headers"] = headers
    return out


def health(event: Mapping[str, Any], services: Services) -> dict[str, Any]:
    """Shallow: the cached writer flag only (see ``health``); never the database or SQS."""
    config = services.config
    flag = writer_flag.current(services.dynamodb, config.sessions_table, config.region)
    healthy, body = writer_flag.shallow_verdict(flag)
    return response(event, 200 if healthy else 503, body)


def _body(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        raise InvalidMessage("body must be text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidMessage("body is not valid base64") from exc
    return raw.encode()


def _authenticate(
    event: Mapping[str, Any], services: Services
) -> tuple[auth.Caller | None, dict[str, Any] | None]:
    """(the caller, or the answer that refuses the request)."""
    try:
        return auth.caller(event, services.config), None
    except auth.Unauthenticated as exc:
        log("warning", "request_unauthenticated", mode=services.config.api_auth, reason=str(exc))
        emit_metrics("processor", {"RequestsUnauthenticated": 1.0})
        return None, response(
            event, 401, {"error": "unauthenticated"}, {"WWW-Authenticate": "Bearer"}
        )
    except auth.KeysUnavailable as exc:
        log("error", "auth_keys_unavailable", reason=str(exc))
        return None, response(event, 503, {"error": "authentication unavailable"})


def post_transaction(event: Mapping[str, Any], services: Services) -> dict[str, Any]:
    # Identity first: an unauthenticated caller learns nothing, not even our validation rules.
    caller, refused = _authenticate(event, services)
    if refused is not None:
        return refused
    body = _body(event)
    if len(body) > MAX_BODY:
        return response(event, 413, {"error": f"body larger than {MAX_BODY} bytes"})
    try:
        # No occurred_at: the time we accepted it, fixed now so every retry agrees.
        txn = parse_transaction(
            parse_json(body), default_occurred_at=services.now(), generate_id=True
        )
    except InvalidMessage as exc:
        log("warning", "request_rejected", reason=str(exc))
        return response(event, 400, {"error": "invalid transaction", "message": str(exc)})
    if caller is not None and caller.identity != txn.account_id:
        log(
            "warning",
            "request_forbidden",
            caller=caller.identity,
            source=caller.source,
            account_id=txn.account_id,
        )
        emit_metrics("processor", {"RequestsForbidden": 1.0})
        return response(event, 403, {"error": "account does not belong to the caller"})
    queue_url = services.config.queue_url
    params: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MessageBody": json.dumps(txn.to_json(), sort_keys=True),
    }
    if queue_url.endswith(".fifo"):
        # FIFO: order per session, and SQS drops a resend of the id within 5 minutes.
        params["MessageGroupId"] = txn.session_id
        params["MessageDeduplicationId"] = txn.transaction_id
    try:
        sent = services.sqs.send_message(**params)
    except Exception as exc:
        log("error", "enqueue_failed", transaction_id=txn.transaction_id, error=repr(exc)[:500])
        return response(event, 503, {"error": "queue unavailable"})
    log(
        "info",
        "transaction_enqueued",
        transaction_id=txn.transaction_id,
        message_id=sent.get("MessageId"),
    )
    emit_metrics("processor", {"TransactionsEnqueued": 1.0})
    return response(event, 202, {"transaction_id": txn.transaction_id})


Route = Callable[[Mapping[str, Any], Services], dict[str, Any]]
ROUTES: dict[str, dict[str, Route]] = {
    "/health": {"GET": health},
    "/transactions": {"POST": post_transaction},
}


def handle(event: Mapping[str, Any], services: Services) -> dict[str, Any]:
    path = str(event.get("path") or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    method = str(event.get("httpMethod") or "").upper()
    methods = ROUTES.get(path)
    if methods is None:
        return response(event, 404, {"error": "not found"})
    route = methods.get(method)
    if route is None:
        return response(
            event, 405, {"error": "method not allowed"}, {"Allow": ", ".join(sorted(methods))}
        )
    try:
        return route(event, services)
    except InvalidMessage as exc:  # a body we could not even decode
        return response(event, 400, {"error": "invalid transaction", "message": str(exc)})
