"""The disaster-recovery alarms of each member: processing, failover advice, replication lag."""

from __future__ import annotations

from replgen.plan import components
from replgen.plan.dr.topology import Member, Topology, queue_name
from replgen.plan.model import Alarm, Bucket, Function, Place, Value

TXNPROC_METRICS = "replgen/txnproc"  # the namespace txnproc's embedded metrics use


def _alarm(
    t: Topology,
    site: Place,
    suffix: str,
    description: str,
    metric: tuple[str, str, tuple[tuple[str, Value], ...]],
    threshold: float,
    unit: str,
    statistic: str = "Maximum",
) -> Alarm:
    namespace, name, dimensions = metric
    return Alarm(
        name=t.name("alarm", site, suffix),
        description=description,
        namespace=namespace,
        metric=name,
        dimensions=dimensions,
        statistic=statistic,  # type: ignore[arg-type]
        period=60,
        evaluation_periods=1,
        threshold=threshold,
        unit=unit,
        comparison="GreaterThanThreshold",
        treat_missing="notBreaching",
        topic="topic",
    )


def dr_alarms(
    t: Topology, site: Member, functions: tuple[Function, ...], buckets: tuple[Bucket, ...]
) -> tuple[Alarm, ...]:
    rpo = t.dr.rpo_minutes
    cluster = (("DBClusterIdentifier", site.database.cluster_id),)
    alarms = [
        # Published for whichever cluster is a secondary at the time: after a failover
        # the old primary's alarm takes over.
        _alarm(
            t,
            site,
            "global-lag",
            f"Global Database replication lag into {site.database.cluster_id} above the "
            f"RPO of {rpo} min",
            ("AWS/RDS", "AuroraGlobalDBReplicationLag", cluster),
            float(rpo * 60_000),  # milliseconds
            "Milliseconds",
        ),
        _alarm(
            t,
            site,
            "queue-age",
            f"a transaction has waited more than {t.processing.queue_age_alarm_seconds} s",
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", (("QueueName", queue_name(t, site)),)),
            float(t.processing.queue_age_alarm_seconds),
            "Seconds",
        ),
        _alarm(
            t,
            site,
            "dead-letters",
            "a transaction was given up on after 5 attempts",
            (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                (("QueueName", f"{queue_name(t, site)}-dlq"),),
            ),
            0.0,
            "Count",
        ),
    ]
    # txnproc's own metrics (namespace and dimensions as lambda/txnproc/observe.py writes
    # them): its private deep check failing, and, on a secondary, the failover it advises.
    region = (("Region", site.region),)
    alarms.append(
        _alarm(
            t,
            site,
            "deep-health",
            f"txnproc in {site.region} cannot reach its database or queue",
            (TXNPROC_METRICS, "DeepHealthFailures", (("Function", "processor"), *region)),
            0.0,
            "Count",
        )
    )
    if not site.primary:
        alarms.append(
            _alarm(
                t,
                site,
                "failover-recommended",
                f"the primary has been down long enough, by every signal, to promote "
                f"{site.region} ({t.dr.failover} failover)",
                (TXNPROC_METRICS, "FailoverRecommended", (("Function", "failover"), *region)),
                0.0,
                "Count",
            )
        )
    for fn in functions:
        if fn.key in ("function:txnproc", "function:failover"):
            alarms.append(
                _alarm(
                    t,
                    site,
                    f"{components.name(fn.key)}-errors",
                    f"{fn.name} failed",
                    ("AWS/Lambda", "Errors", (("FunctionName", fn.name),)),
                    0.0,
                    "Count",
                    "Sum",
                )
            )
    for bucket in buckets:
        for r in bucket.replication:
            dims: tuple[tuple[str, Value], ...] = (
                ("SourceBucket", bucket.name),
                ("DestinationBucket", r.destination_bucket.rsplit(":", 1)[1]),
                ("RuleId", r.rule_id),
            )
            short = components.name(bucket.key)
            alarms.append(
                _alarm(
                    t,
                    site,
                    f"{short}-replication-failed",
                    f"objects of {bucket.name} failed to replicate to {r.destination_region}",
                    ("AWS/S3", "OperationsFailedReplication", dims),
                    0.0,
                    "Count",
                    "Sum",
                )
            )
            alarms.append(
                _alarm(
                    t,
                    site,
                    f"{short}-replication-latency",
                    f"{bucket.name} replicates to {r.destination_region} slower than the "
                    f"RPO of {rpo} min",
                    ("AWS/S3", "ReplicationLatency", dims),
                    float(rpo * 60),
                    "Seconds",
                )
            )
    return tuple(alarms)
