"""The failover watchdog: RDS, Route 53, DynamoDB and SNS in moto, the primary's /health a
local HTTP server. moto has no FailoverGlobalCluster: that call (and, where a test needs a
state moto cannot produce, DescribeGlobalClusters or GetHealthCheckStatus) goes through a
botocore Stubber on a twin client; every other call still reaches moto."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from dbservers import free_port
from txnproc import failover
from txnproc.config import FailoverConfig, load_failover
from txnproc.errors import ConfigError
from txnproc_helpers import ACCOUNT, SECONDARY, HealthServer, json_lines, load_handler

GLOBAL_ID = "txn-global"
PRIMARY_ARN = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:txn-primary"
TARGET_ARN = f"arn:aws:rds:{SECONDARY}:{ACCOUNT}:cluster:txn-secondary"
TABLE = "txn-sessions"
STARTED = datetime(2024, 5, 17, 12, 0, 1, 500_000, tzinfo=UTC)


class Twin:
    """An RDS/Route 53 client whose ``ops`` are served by a Stubber, the rest by moto."""

    def __init__(self, real: Any, ops: set[str]) -> None:
        self.real = real
        self.ops = ops
        self.twin = boto3.client(
            real.meta.service_model.service_name, region_name=real.meta.region_name
        )
        self.stub = Stubber(self.twin)
        self.stub.activate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.twin if name in self.ops else self.real, name)


@dataclass
class DR:
    config: FailoverConfig
    clients: failover.Clients
    primary: HealthServer
    inbox_url: str
    health_check_id: str
    sleeps: list[float] = field(default_factory=list)

    def run(self, **changes: Any) -> dict[str, Any]:
        config = FailoverConfig(**{**self.config.__dict__, **changes})
        return failover.run(
            config, self.clients, sleep=self.sleeps.append, now=lambda: STARTED, trigger="sns"
        )

    def stub_rds(self, *ops: str) -> Stubber:
        twin = Twin(self.clients.rds, set(ops))
        self.clients.rds = twin
        return twin.stub

    def stub_route53(self) -> Stubber:
        twin = Twin(self.clients.route53, {"get_health_check_status"})
        self.clients.route53 = twin
        return twin.stub

    def route53_unreachable(self) -> None:
        # Where Route 53's API would be, nothing answers (us-east-1 is down).
        self.clients.route53 = boto3.client(
            "route53",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(connect_timeout=1, retries={"max_attempts": 1, "mode": "standard"}),
        )

    def described(self) -> dict[str, Any]:
        """The global cluster as moto describes it: the base of stubbed variants."""
        answer = boto3.client("rds", region_name=SECONDARY).describe_global_clusters()
        return copy.deepcopy(answer["GlobalClusters"][0])

    def announcements(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=SECONDARY)
        got = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    def records(self) -> list[dict[str, Any]]:
        scan = boto3.client("dynamodb", region_name=SECONDARY).scan(TableName=TABLE)
        return list(scan["Items"])


@pytest.fixture
def dr(aws: None, primary: HealthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[DR]:
    monkeypatch.setenv("AWS_REGION", SECONDARY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", SECONDARY)
    east1 = boto3.client("rds", region_name="us-east-1")
    east2 = boto3.client("rds", region_name=SECONDARY)
    east1.create_global_cluster(
        GlobalClusterIdentifier=GLOBAL_ID, Engine="aurora-postgresql", EngineVersion="15.10"
    )
    east1.create_db_cluster(
        DBClusterIdentifier="txn-primary",
        Engine="aurora-postgresql",
        EngineVersion="15.10",
        GlobalClusterIdentifier=GLOBAL_ID,
        MasterUsername="app",
        MasterUserPassword="not-a-real-password",
    )
    east2.create_db_cluster(
        DBClusterIdentifier="txn-secondary",
        Engine="aurora-postgresql",
        EngineVersion="15.10",
        GlobalClusterIdentifier=GLOBAL_ID,
    )
    boto3.client("dynamodb", region_name=SECONDARY).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name=SECONDARY)
    topic = sns.create_topic(Name="txn-dr")["TopicArn"]
    sqs = boto3.client("sqs", region_name=SECONDARY)
    inbox = sqs.create_queue(QueueName="oncall-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    check = boto3.client("route53").create_health_check(
        CallerReference="txn-primary",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "us-east-1.api.txn.example.com",
            "ResourcePath": "/health",
            "Port": 443,
        },
    )["HealthCheck"]["Id"]
    config = FailoverConfig(
        global_cluster_id=GLOBAL_ID,
        target_cluster_arn=TARGET_ARN,
        primary_health_url=primary.url,
        health_check_id=check,
        sessions_table=TABLE,
        topic_arn=topic,
        region=SECONDARY,
        probes=3,
        probe_timeout_seconds=2.0,
    )
    yield DR(config, failover.Clients.create(config), primary, inbox, check)


def failover_stub(stub: Stubber) -> None:
    stub.add_response(
        "failover_global_cluster",
        {
            "GlobalCluster": {
                "GlobalClusterIdentifier": GLOBAL_ID,
                "Status": "failing-over",
                "FailoverState": {
                    "Status": "pending",
                    "FromDbClusterArn": PRIMARY_ARN,
                    "ToDbClusterArn": TARGET_ARN,
                    "IsDataLossAllowed": True,
                },
            },
            "ResponseMetadata": {"RequestId": "req-0123", "HTTPStatusCode": 200},
        },
        expected_params={
            "GlobalClusterIdentifier": GLOBAL_ID,
            "TargetDbClusterIdentifier": TARGET_ARN,
            "AllowDataLoss": True,
        },
    )


def test_already_primary(dr: DR, capsys: pytest.CaptureFixture[str]) -> None:
    dr.stub_rds("failover_global_cluster")  # nothing queued: a call would fail the test
    assert dr.run(target_cluster_arn=PRIMARY_ARN) == {
        "action": "none",
        "reason": "already-primary",
    }
    assert dr.primary.hits == 0
    [line] = [r for r in json_lines(capsys.readouterr().out) if r.get("event")]
    assert line["event"] == "failover_skipped" and line["reason"] == "already-primary"


def test_primary_healthy(dr: DR) -> None:
    stub = dr.stub_rds("failover_global_cluster")
    assert dr.run() == {"action": "none", "reason": "primary-healthy"}
    assert dr.primary.hits == 1 and dr.sleeps == []
    stub.assert_no_pending_responses()
    assert dr.records() == [] and dr.announcements() == []


def test_primary_recovers_on_second_probe(dr: DR, monkeypatch: pytest.MonkeyPatch) -> None:
    dr.stub_rds("failover_global_cluster")
    answers = iter([503, 200, 200])
    original = failover.probe_once

    def flaky(url: str, timeout: float, attempt: int) -> failover.Probe:
        dr.primary.status = next(answers)
        return original(url, timeout, attempt)

    monkeypatch.setattr(failover, "probe_once", flaky)
    assert dr.run()["reason"] == "primary-healthy"
    assert dr.primary.hits == 2 and dr.sleeps == [failover.PROBE_INTERVAL_SECONDS]


def test_route53_says_healthy(dr: DR, capsys: pytest.CaptureFixture[str]) -> None:
    dr.primary.status = 503
    dr.stub_rds("failover_global_cluster")
    # moto's checkers all report success: the world reaches the primary, we do not.
    assert dr.run() == {"action": "none", "reason": "route53-healthy"}
    assert dr.primary.hits == 3 and dr.sleeps == [2.0, 2.0]
    skipped = next(
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "failover_skipped"
    )
    assert skipped["route53"] == {"verdict": "healthy", "checkers": 1, "healthy": 1, "error": None}
    assert [p["status"] for p in skipped["probes"]] == [503, 503, 503]


def test_route53_unreachable_and_probes_failing_fails_over(
    dr: DR, capsys: pytest.CaptureFixture[str]
) -> None:
    dr.primary.status = 503
    dr.route53_unreachable()
    stub = dr.stub_rds("failover_global_cluster")
    failover_stub(stub)

    outcome = dr.run()

    stub.assert_no_pending_responses()  # called exactly once, with exactly those arguments
    assert outcome["action"] == "failover"
    assert {k: v for k, v in outcome.items() if k not in ("probes", "route53")} == {
        "action": "failover",
        "reason": "primary-unreachable",
        "global_cluster_id": GLOBAL_ID,
        "target_cluster_arn": TARGET_ARN,
        "previous_writer": PRIMARY_ARN,
        "started_at": "2024-05-17T12:00:01.500000+00:00",
        "trigger": "sns",
        "request_id": "req-0123",
        "global_cluster_status": "failing-over",
        "recorded": True,
        "announced": True,
    }
    assert [(p["attempt"], p["status"], p["error"]) for p in outcome["probes"]] == [
        (1, 503, None),
        (2, 503, None),
        (3, 503, None),
    ]
    assert outcome["route53"]["verdict"] == "unreachable"
    assert "Could not connect" in outcome["route53"]["error"]
    assert dr.sleeps == [2.0, 2.0]

    [item] = dr.records()
    assert item["session_id"] == {"S": "failover#2024-05-17T12:00:01.500000+00:00"}
    assert item["reason"] == {"S": "primary-unreachable"}
    assert item["request_id"] == {"S": "req-0123"}
    assert item["region"] == {"S": SECONDARY}
    assert item["target_cluster_arn"] == {"S": TARGET_ARN}
    assert item["previous_writer"] == {"S": PRIMARY_ARN}
    assert item["route53"]["M"]["verdict"] == {"S": "unreachable"}
    assert [p["M"]["status"] for p in item["probes"]["L"]] == [{"N": "503"}] * 3
    assert "expires_at" not in item  # an audit record: no TTL

    [note] = dr.announcements()
    assert note["TopicArn"] == dr.config.topic_arn
    assert note["Subject"] == f"Aurora failover of {GLOBAL_ID} to {SECONDARY}"
    text = note["Message"]
    assert "\n" not in text
    for part in (GLOBAL_ID, TARGET_ARN, PRIMARY_ARN, dr.primary.url, "req-0123", "unreachable"):
        assert part in text

    lines = json_lines(capsys.readouterr().out)
    [started] = [r for r in lines if r.get("event") == "failover_started"]
    assert started["level"] == "critical" and started["request_id"] == "req-0123"
    metrics = [r for r in lines if "FailoverStarted" in r]
    assert metrics and metrics[0]["FailoverStarted"] == 1.0
    assert metrics[0]["FailoverRecordFailures"] == 0.0


def test_route53_unhealthy_and_primary_unreachable_fails_over(dr: DR) -> None:
    dr.config = FailoverConfig(
        **{**dr.config.__dict__, "primary_health_url": f"http://127.0.0.1:{free_port()}/health"}
    )
    route53 = dr.stub_route53()
    status = {
        "HealthCheckObservations": [
            {
                "Region": region,
                "IPAddress": "192.0.2.1",
                "StatusReport": {"Status": text, "CheckedTime": STARTED},
            }
            for region, text in [
                ("us-west-1", "Failure: Connection timed out."),
                ("eu-west-1", "Failure: HTTP Status Code 503."),
                ("ap-southeast-1", "Success: HTTP Status Code 200. OK"),
            ]
        ]
    }
    route53.add_response(
        "get_health_check_status", status, expected_params={"HealthCheckId": dr.health_check_id}
    )
    stub = dr.stub_rds("failover_global_cluster")
    failover_stub(stub)

    outcome = dr.run()

    assert outcome["action"] == "failover"
    assert outcome["route53"] == {
        "verdict": "unhealthy",
        "checkers": 3,
        "healthy": 1,
        "error": None,
    }
    assert all(p["status"] is None and p["error"] for p in outcome["probes"])
    stub.assert_no_pending_responses()
    route53.assert_no_pending_responses()


@pytest.mark.parametrize(
    "state",
    [
        {"FailoverState": {"Status": "pending", "ToDbClusterArn": TARGET_ARN}},
        {"Status": "failing-over"},
        {"Status": "switching-over"},
    ],
    ids=["failover-state", "failing-over", "switching-over"],
)
def test_idempotent_while_failing_over(dr: DR, state: dict[str, Any]) -> None:
    dr.primary.status = 503
    cluster = {**dr.described(), **state}
    stub = dr.stub_rds("describe_global_clusters", "failover_global_cluster")
    stub.add_response(
        "describe_global_clusters",
        {"GlobalClusters": [cluster]},
        expected_params={"GlobalClusterIdentifier": GLOBAL_ID},
    )
    assert dr.run() == {"action": "none", "reason": "failover-in-progress"}
    assert dr.primary.hits == 0  # decided before probing anything
    stub.assert_no_pending_responses()
    assert dr.records() == [] and dr.announcements() == []


def test_later_invocation_after_failover(dr: DR) -> None:
    """Once the target is the writer, the schedule keeps firing and nothing happens."""
    cluster = dr.described()
    for member in cluster["GlobalClusterMembers"]:
        member["IsWriter"] = member["DBClusterArn"] == TARGET_ARN
    stub = dr.stub_rds("describe_global_clusters", "failover_global_cluster")
    stub.add_response("describe_global_clusters", {"GlobalClusters": [cluster]})
    assert dr.run() == {"action": "none", "reason": "already-primary"}


def test_lost_race_with_concurrent_invocation(dr: DR) -> None:
    dr.primary.status = 503
    dr.route53_unreachable()
    before = dr.described()
    stub = dr.stub_rds("describe_global_clusters", "failover_global_cluster")
    stub.add_response("describe_global_clusters", {"GlobalClusters": [before]})
    stub.add_client_error(
        "failover_global_cluster",
        service_error_code="InvalidGlobalClusterStateFault",
        service_message="Global cluster txn-global is in failing-over state",
    )
    busy = {**before, "Status": "failing-over"}
    stub.add_response("describe_global_clusters", {"GlobalClusters": [busy]})
    assert dr.run() == {"action": "none", "reason": "failover-in-progress"}
    stub.assert_no_pending_responses()
    assert dr.records() == []


def test_refused_failover_raises(dr: DR) -> None:
    """The same fault with no failover under way is a real problem: the Lambda errors."""
    dr.primary.status = 503
    dr.route53_unreachable()
    stub = dr.stub_rds("failover_global_cluster")
    stub.add_client_error(
        "failover_global_cluster", service_error_code="InvalidGlobalClusterStateFault"
    )
    with pytest.raises(Exception, match="InvalidGlobalClusterStateFault"):
        dr.run()


def test_target_not_member(dr: DR, capsys: pytest.CaptureFixture[str]) -> None:
    other = f"arn:aws:rds:{SECONDARY}:{ACCOUNT}:cluster:somewhere-else"
    dr.stub_rds("failover_global_cluster")
    assert dr.run(target_cluster_arn=other) == {"action": "none", "reason": "target-not-member"}
    skipped = next(
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "failover_skipped"
    )
    assert skipped["level"] == "error"


def test_unknown_global_cluster_raises(dr: DR) -> None:
    with pytest.raises(Exception, match=r"GlobalClusterNotFound|not found"):
        dr.run(global_cluster_id="no-such-global")


def test_record_failures_do_not_undo_failover(dr: DR) -> None:
    dr.primary.status = 503
    dr.route53_unreachable()
    failover_stub(dr.stub_rds("failover_global_cluster"))
    boto3.client("dynamodb", region_name=SECONDARY).delete_table(TableName=TABLE)
    outcome = dr.run(topic_arn=f"arn:aws:sns:{SECONDARY}:{ACCOUNT}:no-such-topic")
    assert outcome["action"] == "failover"
    assert outcome["recorded"] is False and outcome["announced"] is False


def test_handler_entry_point(dr: DR, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "GLOBAL_CLUSTER_ID": GLOBAL_ID,
        "TARGET_CLUSTER_ARN": TARGET_ARN,
        "PRIMARY_HEALTH_URL": dr.primary.url,
        "HEALTH_CHECK_ID": dr.health_check_id,
        "SESSIONS_TABLE": TABLE,
        "TOPIC_ARN": dr.config.topic_arn,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(failover, "SLEEP", dr.sleeps.append)
    monkeypatch.setattr(failover, "_clients", None)
    handler = load_handler()
    schedule = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert handler.failover(schedule, None) == {"action": "none", "reason": "primary-healthy"}
    dr.primary.status = 503
    alarm = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]}
    assert handler.failover(alarm, None) == {"action": "none", "reason": "route53-healthy"}
    assert dr.sleeps == [2.0, 2.0]


def test_trigger_of() -> None:
    assert failover.trigger_of({"Records": [{"EventSource": "aws:sns"}]}) == "sns"
    assert failover.trigger_of({"source": "aws.events"}) == "schedule"
    assert failover.trigger_of({}) == "direct"
    assert failover.trigger_of(None) == "direct"


def test_failover_config() -> None:
    env = {
        "AWS_REGION": SECONDARY,
        "GLOBAL_CLUSTER_ID": GLOBAL_ID,
        "TARGET_CLUSTER_ARN": TARGET_ARN,
        "PRIMARY_HEALTH_URL": "https://us-east-1.api.txn.example.com/health",
        "HEALTH_CHECK_ID": "abc",
        "SESSIONS_TABLE": TABLE,
        "TOPIC_ARN": "arn:aws:sns:us-east-2:123456789012:t",
    }
    config = load_failover(env)
    assert config.probes == 3 and config.probe_timeout_seconds == 5.0
    assert load_failover({**env, "PROBES": "5", "PROBE_TIMEOUT_SECONDS": "1.5"}).probes == 5
    for bad in (
        {"PROBES": "0"},
        {"PROBES": "x"},
        {"PROBE_TIMEOUT_SECONDS": "nan"},
        {"PRIMARY_HEALTH_URL": "ftp://x"},
        {"TOPIC_ARN": ""},
    ):
        with pytest.raises(ConfigError):
            load_failover({**env, **bad})


def test_probe_garbled_answer() -> None:
    """A server that answers with garbage (or hangs up) counts as a failed probe."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        for _ in range(2):
            conn, _addr = listener.accept()
            conn.recv(1024)
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/health"
    sleeps: list[float] = []
    results = failover.probe(url, 2, 2.0, sleeps.append)
    thread.join(5)
    listener.close()
    assert [(r.ok, r.status) for r in results] == [(False, None), (False, None)]
    assert all(r.error for r in results) and sleeps == [2.0]
