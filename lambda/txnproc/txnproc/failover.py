"""The failover watchdog of the secondary region.

Runs outside any VPC (it must reach the primary's public health URL and the AWS APIs even
when the VPC's endpoints are what broke), every minute from EventBridge (what the RTO rests
on: it needs nothing in the primary's region) and at once from SNS when an alarm of the
primary's region publishes to its topic.

It fails the Aurora global database over to this region's cluster only when three
independent views agree the primary is gone:

1. RDS: this region is not the writer already, and no failover is under way (so concurrent
   and later invocations do nothing);
2. our own HTTP probes of the primary's ``/health`` all fail;
3. Route 53's checkers do not report it healthy by majority. If Route 53 cannot be asked (its
   control plane is in us-east-1, which may be the region that is down) the probes decide.

The failover is the managed *unplanned* one (``AllowDataLoss``): the primary cannot flush
its last writes, and losing up to the replication lag is what the RPO allows.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from txnproc import aws
from txnproc.config import FailoverConfig, load_failover
from txnproc.observe import emit_metrics, log

PROBE_INTERVAL_SECONDS = 2.0
# Global cluster states in which a failover or switchover is already running.
BUSY_STATES = frozenset({"failing-over", "switching-over"})

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Probe:
    attempt: int
    status: int | None  # HTTP status, None when no answer came
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class Route53View:
    verdict: str  # healthy | unhealthy | unknown (no observations) | unreachable
    checkers: int = 0
    healthy: int = 0
    error: str | None = None


@dataclass
class Clients:
    rds: Any
    route53: Any
    dynamodb: Any
    sns: Any

    @classmethod
    def create(cls, config: FailoverConfig) -> Clients:
        return cls(
            rds=aws.client("rds", config.region),
            route53=aws.client("route53", config.region, fast=True),
            dynamodb=aws.client("dynamodb", config.region),
            sns=aws.client("sns", config.region),
        )


# --------------------------------------------------------------------------- the checks


def find_global_cluster(rds: Any, cluster_id: str) -> dict[str, Any]:
    found = rds.describe_global_clusters(GlobalClusterIdentifier=cluster_id)["GlobalClusters"]
    # Filter anyway: the identifier is matched case-insensitively by RDS (stored lower case).
    for cluster in found:
        if str(cluster.get("GlobalClusterIdentifier", "")).lower() == cluster_id.lower():
            return dict(cluster)
    raise LookupError(f"global cluster {cluster_id} not found")


def writer_of(cluster: Mapping[str, Any]) -> str | None:
    for member in cluster.get("GlobalClusterMembers") or ():
        if member.get("IsWriter"):
            return str(member["DBClusterArn"])
    return None


def busy(cluster: Mapping[str, Any]) -> bool:
    """A failover or switchover is pending or running (started by us or anyone else)."""
    return bool(cluster.get("FailoverState")) or cluster.get("Status") in BUSY_STATES


def probe_once(url: str, timeout: float, attempt: int) -> Probe:
    # No proxies: the answer must be the primary's own, from this region's network.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": "txnproc-failover/1"})
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        with opener.open(request, timeout=timeout) as answer:
            answer.read(4096)
            status = int(answer.status)
    except urllib.error.HTTPError as exc:  # an answer, just not a healthy one
        status = exc.code
        exc.close()
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        # DNS failure, refused, reset, TLS, timeout, a garbled answer: no healthy primary.
        error = repr(getattr(exc, "reason", exc))[:300]
    return Probe(attempt, status, error, round(time.monotonic() - started, 3))


def probe(url: str, count: int, timeout: float, sleep: Sleep) -> list[Probe]:
    """Up to ``count`` probes, a short pause between them; stops at the first 200."""
    results: list[Probe] = []
    for attempt in range(1, count + 1):
        if attempt > 1:
            sleep(PROBE_INTERVAL_SECONDS)
        result = probe_once(url, timeout, attempt)
        results.append(result)
        if result.ok:
            break
    return results


def route53_view(route53: Any, health_check_id: str) -> Route53View:
    try:
        answer = route53.get_health_check_status(HealthCheckId=health_check_id)
    except Exception as exc:  # unreachable control plane, throttling, permissions
        return Route53View("unreachable", error=repr(exc)[:300])
    observations = answer.get("HealthCheckObservations") or []
    healthy = sum(
        1
        for o in observations
        if str((o.get("StatusReport") or {}).get("Status", "")).startswith("Success")
    )
    if not observations:
        return Route53View("unknown")
    verdict = "healthy" if healthy * 2 > len(observations) else "unhealthy"
    return Route53View(verdict, len(observations), healthy)


# --------------------------------------------------------------------------- the decision


def _none(reason: str, level: str = "info", **fields: Any) -> dict[str, Any]:
    log(level, "failover_skipped", reason=reason, **fields)
    return {"action": "none", "reason": reason}


def run(
    config: FailoverConfig,
    clients: Clients,
    *,
    sleep: Sleep = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    trigger: str = "direct",
) -> dict[str, Any]:
    cluster = find_global_cluster(clients.rds, config.global_cluster_id)
    writer = writer_of(cluster)
    if writer == config.target_cluster_arn:
        return _none("already-primary", trigger=trigger, writer=writer)
    if busy(cluster):
        return _none(
            "failover-in-progress",
            trigger=trigger,
            status=cluster.get("Status"),
            failover_state=cluster.get("FailoverState"),
        )
    members = [m.get("DBClusterArn") for m in cluster.get("GlobalClusterMembers") or ()]
    if config.target_cluster_arn not in members:
        # Detached by hand, or a wrong ARN: failing over to it is impossible; say so loudly.
        return _none("target-not-member", "error", trigger=trigger, members=members)

    probes = probe(config.primary_health_url, config.probes, config.probe_timeout_seconds, sleep)
    failed = sum(1 for p in probes if not p.ok)
    emit_metrics("failover", {"PrimaryProbeFailures": float(failed)})
    if any(p.ok for p in probes):
        return _none("primary-healthy", trigger=trigger, probes=[asdict(p) for p in probes])

    route53 = route53_view(clients.route53, config.health_check_id)
    if route53.verdict == "healthy":
        # The world can reach the primary; it is our probe (or this region) that is broken.
        return _none(
            "route53-healthy",
            "warning",
            trigger=trigger,
            probes=[asdict(p) for p in probes],
            route53=asdict(route53),
        )

    started = now()
    try:
        answer = clients.rds.failover_global_cluster(
            GlobalClusterIdentifier=config.global_cluster_id,
            TargetDbClusterIdentifier=config.target_cluster_arn,
            AllowDataLoss=True,
        )
    except Exception as exc:
        if aws.error_code(exc) != "InvalidGlobalClusterStateFault":
            raise
        # Lost a race with another invocation (schedule and alarm fire together)?
        again = find_global_cluster(clients.rds, config.global_cluster_id)
        if busy(again) or writer_of(again) == config.target_cluster_arn:
            return _none("failover-in-progress", trigger=trigger, raced=True)
        raise

    outcome: dict[str, Any] = {
        "action": "failover",
        "reason": "primary-unreachable",
        "global_cluster_id": config.global_cluster_id,
        "target_cluster_arn": config.target_cluster_arn,
        "previous_writer": writer,
        "started_at": started.isoformat(),
        "trigger": trigger,
        "probes": [asdict(p) for p in probes],
        "route53": asdict(route53),
        "request_id": answer.get("ResponseMetadata", {}).get("RequestId"),
        "global_cluster_status": (answer.get("GlobalCluster") or {}).get("Status"),
    }
    outcome["recorded"] = _record(config, clients, outcome)
    outcome["announced"] = _announce(config, clients, outcome)
    log("critical", "failover_started", **outcome)
    emit_metrics(
        "failover",
        {
            "FailoverStarted": 1.0,
            "FailoverRecordFailures": float((not outcome["recorded"]) + (not outcome["announced"])),
        },
    )
    return outcome


# --------------------------------------------------------------------------- the record


def _dynamo_value(value: Any) -> Any:
    # The serializer refuses floats (DynamoDB numbers are decimals): convert exactly.
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dynamo_value(v) for v in value]
    return value


def _record(config: FailoverConfig, clients: Clients, outcome: dict[str, Any]) -> bool:
    """An item in the sessions table (a global table: readable from every region). No
    ``expires_at``: an audit record outlives the session TTL."""
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    item = {
        "session_id": f"failover#{outcome['started_at']}",
        "region": config.region,
        **{k: v for k, v in outcome.items() if k not in ("action",)},
    }
    try:
        clients.dynamodb.put_item(
            TableName=config.sessions_table,
            Item={k: serialize(_dynamo_value(v)) for k, v in item.items() if v is not None},
        )
        return True
    except Exception as exc:  # the failover is under way regardless; report, don't raise
        log("error", "failover_record_failed", error=repr(exc)[:500])
        return False


def message(config: FailoverConfig, outcome: Mapping[str, Any]) -> str:
    probes = outcome["probes"]
    route53 = outcome["route53"]
    r53 = route53["verdict"]
    if r53 in ("healthy", "unhealthy"):
        r53 = f"{r53} ({route53['healthy']} of {route53['checkers']} checkers report success)"
    return (
        f"At {outcome['started_at']} the failover function in {config.region} started an "
        f"unplanned failover (with data loss) of Aurora global database "
        f"{config.global_cluster_id} to {config.target_cluster_arn}, away from writer "
        f"{outcome['previous_writer'] or 'unknown'}. Trigger: {outcome['trigger']}. "
        f"All {len(probes)} probes of {config.primary_health_url} failed "
        f"({'; '.join(str(p['status'] or p['error']) for p in probes)}), and the Route 53 "
        f"health check {config.health_check_id} was {r53}. Writes not yet replicated from the "
        f"old primary (up to the replication lag) are lost by design; RDS request id "
        f"{outcome['request_id']}. Check the global cluster's status, point traffic at "
        f"{config.region}, and rebuild the old region as a secondary once it is back."
    )


def _announce(config: FailoverConfig, clients: Clients, outcome: dict[str, Any]) -> bool:
    try:
        clients.sns.publish(
            TopicArn=config.topic_arn,
            Subject=f"Aurora failover of {config.global_cluster_id} to {config.region}"[:100],
            Message=message(config, outcome),
        )
        return True
    except Exception as exc:
        log("error", "failover_announce_failed", error=repr(exc)[:500])
        return False


# --------------------------------------------------------------------------- the handler


def trigger_of(event: Any) -> str:
    if isinstance(event, Mapping):
        records = event.get("Records")
        first = records[0] if isinstance(records, list) and records else None
        if isinstance(first, Mapping) and first.get("EventSource") == "aws:sns":
            return "sns"
        if event.get("source") == "aws.events" or "detail-type" in event:
            return "schedule"
    return "direct"


_clients: tuple[FailoverConfig, Clients] | None = None
SLEEP: Sleep = time.sleep  # tests replace it


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    global _clients
    config = load_failover()
    if _clients is None or _clients[0] != config:
        _clients = (config, Clients.create(config))
    return run(config, _clients[1], sleep=SLEEP, trigger=trigger_of(event))
