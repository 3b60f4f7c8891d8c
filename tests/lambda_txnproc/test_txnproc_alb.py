"""The ALB routes: /health and POST /transactions (real PostgreSQL, SQS in moto)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from dbservers import free_port
from txnproc import health
from txnproc import services as services_mod
from txnproc_helpers import (
    NOW,
    Stack,
    alb_event,
    json_lines,
    message,
    sqs_event,
    sqs_record,
)

JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def body_of(response: dict[str, Any]) -> Any:
    assert response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def received(stack: Stack) -> list[dict[str, Any]]:
    answer = stack.client("sqs").receive_message(
        QueueUrl=stack.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return list(answer.get("Messages", []))


def health_body(stack: Stack) -> tuple[int, Any]:
    response = stack.invoke(alb_event("GET", "/health"))
    return response["statusCode"], body_of(response)


def test_health_ok_after_the_deep_check(stack: Stack) -> None:
    assert stack.deep_health() == {
        "status": "ok",
        "database": True,
        "writer": True,
        "queue": True,
        "shared": True,
    }
    response = stack.invoke(alb_event("GET", "/health"))
    assert response == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": JSON,
        "body": json.dumps({"status": "ok", "writer": True}, sort_keys=True),
        "isBase64Encoded": False,
    }
    assert stack.invoke(alb_event("GET", "/health/"))["statusCode"] == 200


def test_health_with_no_evidence_is_unhealthy(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cold sandbox, no deep check ever ran: never healthy by default."""
    assert health_body(stack) == (503, {"status": "unhealthy", "writer": None})
    lines = json_lines(capsys.readouterr().out)
    assert any(r.get("HealthCheckFailures") == 1.0 for r in lines)


def test_public_health_touches_neither_database_nor_queue(stack: Stack) -> None:
    """The flag comes from the deep check (via the sessions table in another sandbox);
    the database and the queue can be gone and /health does not notice or ask."""
    stack.deep_health()
    health.forget()  # another execution environment: only the shared item is known
    services_mod.reset()
    stack.set_env(DB_PORT=str(free_port()))
    stack.client("sqs").delete_queue(QueueUrl=stack.queue_url)
    services = stack.services()
    reads: list[dict[str, Any]] = []
    real_get = services.dynamodb.get_item

    def counted(**kwargs: Any) -> Any:
        reads.append(kwargs["Key"])
        return real_get(**kwargs)

    services.dynamodb.get_item = counted
    for _ in range(20):  # a flood of health checks
        assert health_body(stack) == (200, {"status": "ok", "writer": True})
    assert services.store._conn is None  # never connected
    assert reads == [{"session_id": {"S": "health#us-east-1"}}]  # once per FRESH_SECONDS


def test_the_flag_ages_out(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(health, "CLOCK", lambda: clock[0])
    stack.deep_health()
    clock[0] += health.FRESH_SECONDS + 1  # stale here, but the shared item is still young
    assert health_body(stack)[0] == 200
    clock[0] += health.MAX_AGE_SECONDS  # the schedule stopped: no evidence any more
    assert health_body(stack) == (503, {"status": "unhealthy", "writer": None})


def test_deep_check_database_down(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.set_env(DB_PORT=str(free_port()))
    assert stack.deep_health() == {
        "status": "unhealthy",
        "database": False,
        "writer": False,
        "queue": True,
        "shared": True,
    }
    lines = json_lines(capsys.readouterr().out)
    failed = [r for r in lines if r.get("event") == "deep_health_failed"]
    assert [r["check"] for r in failed] == ["database"]
    assert any(r.get("DeepHealthFailures") == 1.0 for r in lines)
    assert health_body(stack) == (503, {"status": "unhealthy", "writer": False})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"DB_CA_BUNDLE": "other_ca"}, "unable to get local issuer certificate"),
        ({"DB_HOST": "127.0.0.1"}, "mismatch, certificate is not valid for '127.0.0.1'"),
    ],
    ids=["unknown-ca", "host-name-mismatch"],
)
def test_a_server_that_fails_verification_is_refused(
    stack: Stack,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    reason: str,
) -> None:
    """The connection verifies the chain against DB_CA_BUNDLE and the host name it dialled:
    a certificate from another CA, or one that names another host, is refused before any
    credential is sent, so the deep check reports the database down and nothing is written."""
    other_ca = str(stack.server.tls.other_ca)
    stack.set_env(**{k: other_ca if v == "other_ca" else v for k, v in change.items()})
    assert stack.deep_health()["database"] is False
    failed = next(
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "deep_health_failed"
    )
    assert "TLS verification failed: server certificate refused" in failed["error"]
    assert reason in failed["error"]


def test_the_packaged_bundle_is_the_default(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without DB_CA_BUNDLE the function trusts the RDS bundle packaged beside ``rdstls``
    (absent from a source checkout: the zip carries it), never the system store."""
    import rdstls

    monkeypatch.delenv("DB_CA_BUNDLE")
    with pytest.raises(rdstls.TlsConfigError, match="packaged RDS CA bundle"):
        rdstls.client_context()


def test_a_read_only_database_fails_the_health_check(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Global Database secondary, or the old primary after a failover, answers read-only:
    its region must look unhealthy so Route 53 sends nothing there, in every sandbox."""
    stack.query(f"ALTER DATABASE {stack.db['dbname']} SET default_transaction_read_only = on")
    result = stack.deep_health()
    assert (result["database"], result["writer"]) == (True, False)
    assert health_body(stack) == (503, {"status": "unhealthy", "writer": False})
    health.forget()
    assert health_body(stack) == (503, {"status": "unhealthy", "writer": False})
    failed = [
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "deep_health_failed"
    ]
    assert [r["check"] for r in failed] == ["writer"]


def test_the_consumer_refreshes_the_flag(stack: Stack) -> None:
    """The queue consumer's own writes tell this sandbox the truth, both ways."""
    record = sqs_record(message(), "m-1")
    assert stack.invoke(sqs_event(record)) == {"batchItemFailures": []}
    assert health_body(stack) == (200, {"status": "ok", "writer": True})
    stack.query(f"ALTER DATABASE {stack.db['dbname']} SET default_transaction_read_only = on")
    services_mod.reset()  # new sessions see the new default
    refused = stack.invoke(sqs_event(sqs_record(message(transaction_id="txn-2"), "m-2")))
    assert refused == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert health_body(stack) == (503, {"status": "unhealthy", "writer": False})


def test_deep_check_queue_gone(stack: Stack) -> None:
    stack.client("sqs").delete_queue(QueueUrl=stack.queue_url)
    result = stack.deep_health()
    assert (result["status"], result["queue"], result["writer"]) == ("unhealthy", False, True)
    assert health_body(stack)[0] == 200  # the public check answers for the writer only


def test_the_deep_check_is_not_routed_by_the_alb(stack: Stack) -> None:
    assert stack.invoke(alb_event("GET", "/deep_health"))["statusCode"] == 404
    body = json.dumps({"action": "deep_health"})
    assert stack.invoke(alb_event("POST", "/health", body))["statusCode"] == 405


def test_post_enqueues(stack: Stack) -> None:
    response = stack.invoke(alb_event("POST", "/transactions", json.dumps(message())))
    assert response["statusCode"] == 202
    assert response["statusDescription"] == "202 Accepted"
    assert body_of(response) == {"transaction_id": "txn-0001"}
    [sent] = received(stack)
    assert json.loads(sent["Body"]) == {
        "transaction_id": "txn-0001",
        "account_id": "acct-42",
        "amount": "125.50",
        "currency": "USD",
        "session_id": "sess-a",
        "occurred_at": "2024-05-17T09:15:00+00:00",
    }


def test_post_generates_id_and_time_then_processes(stack: Stack) -> None:
    """End to end: the API's message, as SQS delivers it, is written by the consumer."""
    body = message(transaction_id=None, occurred_at=None, amount=19.99)
    response = stack.invoke(alb_event("POST", "/transactions", json.dumps(body)))
    assert response["statusCode"] == 202
    txn_id = body_of(response)["transaction_id"]
    assert len(txn_id) == 32 and int(txn_id, 16) >= 0  # uuid4 hex

    [sent] = received(stack)
    queued = json.loads(sent["Body"])
    assert queued["transaction_id"] == txn_id
    assert queued["occurred_at"] == NOW.isoformat()
    assert queued["amount"] == "19.99"

    record = sqs_record(sent["Body"], sent["MessageId"])
    assert stack.invoke(sqs_event(record)) == {"batchItemFailures": []}
    assert stack.rows() == [
        (txn_id, "acct-42", Decimal("19.99"), "USD", "sess-a", NOW, "us-east-1")
    ]


def test_post_base64_body(stack: Stack) -> None:
    event = alb_event("POST", "/transactions", json.dumps(message()), base64_body=True)
    assert event["isBase64Encoded"] is True and "txn-0001" not in event["body"]
    response = stack.invoke(event)
    assert response["statusCode"] == 202
    assert len(received(stack)) == 1


@pytest.mark.parametrize(
    ("body", "base64_body", "reason"),
    [
        ("{nope", False, "body is not valid JSON"),
        ("", False, "body is not valid JSON"),
        (
            json.dumps(message(currency="EURO")),
            False,
            "currency must be an active ISO 4217 code in upper case",
        ),
        (json.dumps(message(amount="0.001")), False, "amount must have at most 2 decimal places"),
        (json.dumps(message(amount=-3)), False, "amount must be greater than 0"),
        (json.dumps(message(session_id=None)), False, "missing field(s): session_id"),
        ("%%%not base64%%%", True, "body is not valid base64"),
    ],
    ids=["json", "empty", "currency", "decimals", "negative", "missing", "base64"],
)
def test_post_bad_body(stack: Stack, body: str, base64_body: bool, reason: str) -> None:
    event = alb_event("POST", "/transactions", body)
    if base64_body:
        event["isBase64Encoded"] = True  # the body is not base64 at all
    response = stack.invoke(event)
    assert response["statusCode"] == 400
    assert response["statusDescription"] == "400 Bad Request"
    assert body_of(response) == {"error": "invalid transaction", "message": reason}
    assert received(stack) == []


def test_post_too_large(stack: Stack) -> None:
    response = stack.invoke(alb_event("POST", "/transactions", "x" * 20_000))
    assert response["statusCode"] == 413
    assert received(stack) == []


def test_post_queue_unavailable(stack: Stack) -> None:
    stack.client("sqs").delete_queue(QueueUrl=stack.queue_url)
    response = stack.invoke(alb_event("POST", "/transactions", json.dumps(message())))
    assert response["statusCode"] == 503
    assert body_of(response) == {"error": "queue unavailable"}


def test_not_found_and_method_not_allowed(stack: Stack) -> None:
    missing = stack.invoke(alb_event("GET", "/nope"))
    assert missing["statusCode"] == 404 and missing["statusDescription"] == "404 Not Found"
    assert body_of(missing) == {"error": "not found"}

    wrong = stack.invoke(alb_event("GET", "/transactions"))
    assert wrong["statusCode"] == 405
    assert wrong["statusDescription"] == "405 Method Not Allowed"
    assert wrong["headers"]["Allow"] == "POST"
    assert body_of(wrong) == {"error": "method not allowed"}

    post_health = stack.invoke(alb_event("POST", "/health", "{}"))
    assert post_health["statusCode"] == 405 and post_health["headers"]["Allow"] == "GET"


def test_multi_value_headers(stack: Stack) -> None:
    event = alb_event("GET", "/health")
    event["multiValueHeaders"] = {"host": ["api.txn.example.com"]}
    response = stack.invoke(event)
    assert "headers" not in response
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_config_error_is_500(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from txnproc import app

    monkeypatch.setenv("DB_PORT", "not-a-port")
    response = app.handler(alb_event("GET", "/health"))
    assert response["statusCode"] == 500
    assert body_of(response) == {"error": "internal error"}
