"""The three signals the failover watchdog weighs, and the rule that combines them.

1. **Probes**: our own HTTP GETs of the primary's public ``/health`` from this region.
2. **Route 53**: the health checkers' last observations of the same URL, from a dozen places
   outside AWS's regions. "unknown" (no observation) or "unreachable" (the Route 53 API did not
   answer: its control plane lives in us-east-1) is never agreement.
3. **Replication**, seen from this (the secondary) region: the target cluster's own
   ``AuroraGlobalDBReplicationLag`` in CloudWatch here. Aurora publishes it from the storage
   replication between the regions, a channel that shares nothing with the public path of 1
   and 2 (DNS, internet, ALB, WAF, certificate, the txnproc function, its concurrency, SQS).
   While the primary writer and its storage are alive, replication runs and the metric arrives
   every minute with a small value, whatever happens to the API. When the primary region or
   its cluster is gone, replication stops: the metric goes stale (no datapoint in the last
   ``metric_stale_seconds``) or reports a lag of ``lag_down_seconds`` or more. A metric never
   seen in the lookback (a wrong cluster id, a cluster that is not a secondary) is "no-data",
   never agreement.

Probes and Route 53 look at the same front door from different places; replication looks at
the database itself through another door. A request flood, a bad deploy, an expired
certificate or an SQS outage in the primary region can fail 1 and 2, never 3. The primary is
judged **down** only when all three agree; a probe failure alone decides nothing.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

PROBE_INTERVAL_SECONDS = 2.0
# How far back to look for the replication metric: long enough that "stale" (it existed and
# stopped) is told apart from "never published here" (misconfiguration).
METRIC_LOOKBACK = timedelta(hours=3)
REPLICATION_METRIC = "AuroraGlobalDBReplicationLag"  # milliseconds

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


@dataclass(frozen=True)
class ReplicationView:
    verdict: str  # healthy | stale | lagging | no-data | unreachable
    latest_at: str | None = None  # ISO time of the newest datapoint
    lag_ms: float | None = None  # its value
    error: str | None = None


@dataclass(frozen=True)
class Evidence:
    probes: tuple[Probe, ...]
    route53: Route53View
    replication: ReplicationView

    @property
    def probes_down(self) -> bool:
        return bool(self.probes) and not any(p.ok for p in self.probes)

    @property
    def agreeing(self) -> tuple[str, ...]:
        """The signals that say the primary is down."""
        votes = {
            "probes": self.probes_down,
            "route53": self.route53.verdict == "unhealthy",
            "replication": self.replication.verdict in ("stale", "lagging"),
        }
        return tuple(name for name, down in votes.items() if down)

    @property
    def down(self) -> bool:
        return len(self.agreeing) == 3

    def to_json(self) -> dict[str, Any]:
        return {
            "down": self.down,
            "agreeing": list(self.agreeing),
            "probes": [asdict(p) for p in self.probes],
            "route53": asdict(self.route53),
            "replication": asdict(self.replication),
        }


# --------------------------------------------------------------------------- probes


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


# --------------------------------------------------------------------------- Route 53


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


# --------------------------------------------------------------------------- replication


def dimension_sets(cluster_id: str, source_region: str | None) -> list[list[dict[str, str]]]:
    """Where Aurora may publish the metric: by cluster, by source region, or both (CloudWatch
    matches a dimension set exactly, so each is its own query; the newest point wins). The
    source-region set may also hold other global databases replicating from that region into
    this account: their fresh data can only mask a dead primary, never invent one."""
    cluster = {"Name": "DBClusterIdentifier", "Value": cluster_id}
    sets = [[cluster]]
    if source_region:
        source = {"Name": "SourceRegion", "Value": source_region}
        sets += [[cluster, source], [source]]
    return sets


def replication_view(
    cloudwatch: Any,
    cluster_id: str,
    now: datetime,
    *,
    stale_seconds: int,
    lag_down_seconds: int,
    source_region: str | None = None,
) -> ReplicationView:
    """The newest one-minute maximum of the target cluster's replication lag, judged."""
    queries = [
        {
            "Id": f"lag{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/RDS",
                    "MetricName": REPLICATION_METRIC,
                    "Dimensions": dims,
                },
                "Period": 60,
                "Stat": "Maximum",
            },
            "ReturnData": True,
        }
        for i, dims in enumerate(dimension_sets(cluster_id, source_region))
    ]
    try:
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=now - METRIC_LOOKBACK,
            EndTime=now,
            ScanBy="TimestampDescending",
        )
    except Exception as exc:  # API down or throttled: we know nothing, which is not "down"
        return ReplicationView("unreachable", error=repr(exc)[:300])
    points = [
        (stamp, float(value))
        for result in answer.get("MetricDataResults") or ()
        for stamp, value in zip(
            result.get("Timestamps") or (), result.get("Values") or (), strict=True
        )
    ]
    if not points:
        return ReplicationView("no-data")
    stamp, lag_ms = max(points)
    if (now - stamp).total_seconds() > stale_seconds:
        verdict = "stale"
    elif lag_ms >= lag_down_seconds * 1000:
        verdict = "lagging"
    else:
        verdict = "healthy"
    return ReplicationView(verdict, stamp.isoformat(), lag_ms)
