"""The failover watchdog's world: RDS, DynamoDB, SNS (to an SQS inbox), CloudWatch and Route 53
in moto, the primary's /health a local HTTP server, a clock the test moves.

moto lacks three things the watchdog needs, each injected through the ``Clients`` seam:
``FailoverGlobalCluster``/``SwitchoverGlobalCluster`` (a botocore Stubber on a twin RDS client,
every other RDS call still reaches moto), and unhealthy Route 53 checkers (moto's always report
success: ``Checkers`` answers ``GetHealthCheckStatus`` with the observations a test sets)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber
from txnproc import failover
from txnproc.config import FailoverConfig
from txnproc.evidence import REPLICATION_METRIC
from txnproc_helpers import ACCOUNT, SECONDARY, HealthServer

GLOBAL_ID = "txn-global"
PRIMARY_ARN = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:txn-primary"
TARGET_ARN = f"arn:aws:rds:{SECONDARY}:{ACCOUNT}:cluster:txn-secondary"
TABLE = "txn-sessions"


class Twin:
    """An RDS client whose ``ops`` are served by a Stubber, the rest by moto."""

    def __init__(self, real: Any, ops: set[str]) -> None:
        self.real = real
        self.ops = ops
        self.twin = boto3.client("rds", region_name=real.meta.region_name)
        self.stub = Stubber(self.twin)
        self.stub.activate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.twin if name in self.ops else self.real, name)


class Checkers:
    """Route 53's GetHealthCheckStatus: ``healthy`` of ``total`` checkers report success."""

    def __init__(self, healthy: int, total: int = 3) -> None:
        self.healthy = healthy
        self.total = total
        self.calls = 0

    def get_health_check_status(self, HealthCheckId: str) -> dict[str, Any]:
        self.calls += 1
        return {
            "HealthCheckObservations": [
                {
                    "Region": f"checker-{i}",
                    "IPAddress": "192.0.2.1",
                    "StatusReport": {
                        "Status": "Success: HTTP Status Code 200. OK"
                        if i < self.healthy
                        else "Failure: HTTP Status Code 503."
                    },
                }
                for i in range(self.total)
            ]
        }


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class DR:
    config: FailoverConfig
    clients: failover.Clients
    primary: HealthServer
    inbox_url: str
    health_check_id: str
    clock: Clock
    sleeps: list[float] = field(default_factory=list)

    def run(self, **changes: Any) -> dict[str, Any]:
        config = FailoverConfig(**{**self.config.__dict__, **changes})
        return failover.run(
            config, self.clients, sleep=self.sleeps.append, now=self.clock, trigger="schedule"
        )

    def promote(self, event: dict[str, Any]) -> dict[str, Any]:
        return failover.promote_action(
            self.config, self.clients, event, sleep=self.sleeps.append, now=self.clock
        )

    # ---- the world's state
    def primary_down(self) -> None:
        """The primary region is gone: its /health fails, Route 53's checkers agree, and the
        target's replication metric stopped 20 minutes ago."""
        self.primary.status = 503
        self.clients.route53 = Checkers(healthy=0)
        self.replication_at(self.clock.at - timedelta(minutes=20), 150.0)

    def replication_at(self, when: datetime, lag_ms: float) -> None:
        boto3.client("cloudwatch", region_name=SECONDARY).put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": REPLICATION_METRIC,
                    "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "txn-secondary"}],
                    "Timestamp": when,
                    "Value": lag_ms,
                    "Unit": "Milliseconds",
                }
            ],
        )

    def replication_running(self) -> None:
        """Aurora replicates: a fresh, small lag datapoint as of the clock."""
        self.replication_at(self.clock.at - timedelta(seconds=30), 180.0)

    def stub_rds(self, *ops: str) -> Stubber:
        twin = Twin(self.clients.rds, set(ops))
        self.clients.rds = twin
        return twin.stub

    def described(self) -> dict[str, Any]:
        """The global cluster as moto describes it: the base of stubbed variants."""
        answer = boto3.client("rds", region_name=SECONDARY).describe_global_clusters()
        return copy.deepcopy(answer["GlobalClusters"][0])

    # ---- what was recorded
    def announcements(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=SECONDARY)
        got = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    def items(self, prefix: str) -> list[dict[str, Any]]:
        scan = boto3.client("dynamodb", region_name=SECONDARY).scan(TableName=TABLE)
        found = [i for i in scan["Items"] if i["session_id"]["S"].startswith(prefix)]
        return sorted(found, key=lambda i: i["session_id"]["S"])

    def decisions(self) -> list[dict[str, Any]]:
        return self.items("failover#decision#")

    def ledger(self) -> dict[str, Any] | None:
        found = self.items("failover#ledger#")
        return found[0] if found else None


def failover_response(operation: str = "failover_global_cluster", **expected: Any) -> Any:
    status = "failing-over" if operation == "failover_global_cluster" else "switching-over"
    return (
        operation,
        {
            "GlobalCluster": {
                "GlobalClusterIdentifier": GLOBAL_ID,
                "Status": status,
                "FailoverState": {
                    "Status": "pending",
                    "FromDbClusterArn": PRIMARY_ARN,
                    "ToDbClusterArn": TARGET_ARN,
                },
            },
            "ResponseMetadata": {"RequestId": "req-0123", "HTTPStatusCode": 200},
        },
        {"GlobalClusterIdentifier": GLOBAL_ID, "TargetDbClusterIdentifier": TARGET_ARN, **expected},
    )


def build(primary: HealthServer) -> DR:
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
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=inbox_arn,
        Attributes={"RawMessageDelivery": "false"},
    )
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
        mode="automatic",
        evaluations=3,
        sustain_seconds=180,
    )
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    return DR(config, failover.Clients.create(config), primary, inbox, check, clock)
