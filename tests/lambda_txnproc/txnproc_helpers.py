"""The txnproc test harness: a database on the session PostgreSQL, AWS in moto, the env."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "lambda" / "txnproc"
if str(CODE) not in sys.path:
    sys.path.insert(0, str(CODE))  # the Lambda's code root, as in the zip

from txnproc import health as health_mod  # noqa: E402
from txnproc import services as services_mod  # noqa: E402
from txnproc.config import load_processor  # noqa: E402

REGION = "us-east-1"
SECONDARY = "us-east-2"
ACCOUNT = "123456789012"
TABLE = "txn-sessions"
BUCKET = "txn-transaction-logs"
QUEUE = "txn-transactions"
NOW = datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC)  # the processor's clock in these tests


def load_handler() -> ModuleType:
    """lambda/txnproc/handler.py under a unique module name (replsync has a handler.py too)."""
    spec = importlib.util.spec_from_file_location("txnproc_lambda_handler", CODE / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def message(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": "txn-0001",
        "account_id": "acct-42",
        "amount": "125.50",
        "currency": "USD",
        "session_id": "sess-a",
        "occurred_at": "2024-05-17T09:15:00Z",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def sqs_record(body: Any, message_id: str, sent_ms: int = 1_715_938_000_000) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent_ms),
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": str(sent_ms + 5),
        },
        "messageAttributes": {},
        "md5OfBody": "ignored",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}",
        "awsRegion": REGION,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def alb_event(
    method: str, path: str, body: str | bytes | None = None, *, base64_body: bool = False
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/txn/0123456789abcdef"
            }
        },
        "httpMethod": method,
        "path": path,
        "queryStringParameters": {},
        "headers": {"content-type": "application/json", "host": "api.txn.example.com"},
        "body": ""
        if raw is None
        else (base64.b64encode(raw).decode() if base64_body else raw.decode()),
        "isBase64Encoded": base64_body,
    }


@dataclass
class Stack:
    """One empty database, the secret, queue, sessions table and log bucket in moto, and the
    processor's environment pointing at them."""

    server: Any
    monkeypatch: pytest.MonkeyPatch
    db: dict[str, Any]
    queue_url: str
    secret_arn: str
    env: dict[str, str] = field(default_factory=dict)
    _conn: Any = None

    # ---- the database, as the test sees it (its own autocommit connection)
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self.server.connect(self.db["dbname"], autocommit=True)
        return self._conn

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        cur = self.conn().cursor()
        cur.execute(sql) if params is None else cur.execute(sql, params)
        return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def rows(self) -> list[tuple[Any, ...]]:
        return self.query(
            "SELECT transaction_id, account_id, amount, currency, session_id, occurred_at, "
            "region FROM transactions ORDER BY transaction_id"
        )

    # ---- AWS, as the test sees it
    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION)

    def session(self, session_id: str) -> dict[str, Any] | None:
        item = self.client("dynamodb").get_item(
            TableName=TABLE, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        )
        return item.get("Item")

    def log_object(self, key: str) -> dict[str, Any]:
        body = self.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return dict(json.loads(body))

    def log_keys(self) -> list[str]:
        listed = self.client("s3").list_objects_v2(Bucket=BUCKET)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    # ---- the processor
    def set_env(self, **changes: str) -> None:
        for name, value in changes.items():
            self.env[name] = value
            self.monkeypatch.setenv(name, value)

    def services(self) -> Any:
        """The processor's cached services (built now if the config changed), clock fixed."""
        built = services_mod.current(load_processor())
        built.now = lambda: NOW
        return built

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        from txnproc import app

        self.services()
        return app.handler(event, None)

    def deep_health(self) -> dict[str, Any]:
        """The private deep check, as the schedule invokes it."""
        return self.invoke({"action": "deep_health"})

    def close(self) -> None:
        services_mod.reset()
        health_mod.forget()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def make_stack(server: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    import boto3

    db = server.new_database()
    secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"txnproc/{db['dbname']}",
        SecretString=json.dumps({"username": db["user"], "password": db["password"]}),
    )["ARN"]
    queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName=QUEUE)["QueueUrl"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    stack = Stack(server, monkeypatch, db, queue_url, secret_arn)
    stack.set_env(
        DB_HOST=db["host"],
        DB_PORT=str(db["port"]),
        DB_NAME=db["dbname"],
        DB_SECRET_ARN=secret_arn,
        DB_CA_BUNDLE=str(server.tls.ca),  # the test server's own CA, instead of RDS's
        QUEUE_URL=queue_url,
        SESSIONS_TABLE=TABLE,
        LOG_BUCKET=BUCKET,
        SESSION_TTL_SECONDS="3600",
        API_AUTH="none",
    )
    services_mod.reset()  # a cold start for every test
    health_mod.forget()
    return stack


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


class HealthServer:
    """A tiny HTTP server on 127.0.0.1 answering every GET with ``status`` (settable)."""

    def __init__(self) -> None:
        self.status = 200
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps({"status": "ok" if outer.status == 200 else "down"}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/health"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
