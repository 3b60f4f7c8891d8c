"""The failover function of each secondary: the evidence it waits for, its rights, its triggers."""

from __future__ import annotations

from replgen.plan import waivers
from replgen.plan.arns import arn, partition, role_arn, service_principal
from replgen.plan.components import site_key
from replgen.plan.context import lambda_logs
from replgen.plan.dr.dns import health_url
from replgen.plan.dr.topology import Member, Topology
from replgen.plan.iam import from_account, via
from replgen.plan.model import (
    Function,
    Join,
    Permission,
    Queue,
    Ref,
    Role,
    Schedule,
    Statement,
    Value,
)
from replgen.plan.sync import NO_RESOURCE_LEVEL, XRAY


def failover_evidence(rto_minutes: int) -> tuple[int, int, int]:
    """(seconds, evaluations, stale seconds): how long, and over how many one-minute runs, the
    primary must be judged down before a promotion (a fifth of the RTO, at least three runs
    over three minutes, so a blip never promotes), and how old the Global Database's
    replication metric must be to count as stopped (a fifth of the RTO, 2 to 5 minutes).
    Detection then takes stale + sustain + a run, which leaves the rest of the RTO to RDS:
    9 minutes of 15 for the seed DR spec."""
    fifth = rto_minutes * 60 // 5
    sustain = max(180, fifth)
    return sustain, sustain // 60, min(300, max(120, fifth))


def failover_function(t: Topology, site: Member) -> tuple[Function, Queue]:
    ctx = t.ctx
    name = t.name("function", site, "failover")
    dlq = Queue(
        "queue:failover-dlq",
        t.name("queue", site, "failover-dlq"),
        retention_seconds=1209600,
        visibility_timeout=300,
        kms_key=site_key(site.id),
    )
    cluster_arn = arn("rds", site.region, site.account_id, f"cluster:{site.database.cluster_id}")
    sustain, evaluations, stale = failover_evidence(t.dr.rto_minutes)
    environment: tuple[tuple[str, Value | Join], ...] = (
        ("GLOBAL_CLUSTER_ID", t.global_cluster),
        ("TARGET_CLUSTER_ARN", cluster_arn),
        ("PRIMARY_HEALTH_URL", health_url(t)),
        ("HEALTH_CHECK_ID", Ref(t.primary.id, f"healthcheck:{t.primary.slug}", "id")),
        ("SESSIONS_TABLE", t.table),
        ("TOPIC_ARN", arn("sns", site.region, site.account_id, site.topic.name)),
        ("PROBES", "3"),
        ("PROBE_TIMEOUT_SECONDS", "5"),
        ("FAILOVER_MODE", t.dr.failover),
        ("FAILOVER_EVALUATIONS", str(evaluations)),
        ("FAILOVER_SUSTAIN_SECONDS", str(sustain)),
        ("FAILOVER_METRIC_STALE_SECONDS", str(stale)),
    )
    function = Function(
        key="function:failover",
        name=name,
        description=f"replgen failover: promotes {site.database.cluster_id} when "
        f"{t.primary.region} is down",
        code=ctx.artifacts["txnproc"],
        handler="handler.failover",
        runtime=ctx.spec.functions.runtime,
        timeout=60,
        memory_mb=256,
        # Two: a human's promote is never throttled behind a scheduled run; the ledger's
        # conditional writes keep concurrent runs from counting or acting twice.
        reserved_concurrency=2,
        role="role:failover",
        environment=environment,
        log_group=lambda_logs(ctx, name, site_key(site.id)),
        dead_letter_queue=dlq,
        vpc=False,  # probes the primary over the internet, whatever broke in this VPC
        kms_key=site_key(site.id),
        waivers=waivers.function(vpc=False),
    )
    return function, dlq


def failover_permissions(
    t: Topology, site: Member, fn: Function, schedule: Schedule
) -> list[Permission]:
    p = t.primary
    return [
        Permission(
            "permission:failover-schedule",
            fn.key,
            service_principal("events", site.region),
            arn("events", site.region, site.account_id, f"rule/{schedule.name}"),
        ),
        Permission(
            "permission:failover-alerts",
            fn.key,
            service_principal("sns", site.region),
            arn("sns", p.region, p.account_id, t.topics[p.id]),
        ),
    ]


def failover_role(t: Topology, site: Member, fn: Function) -> Role:
    r, a = site.region, site.account_id
    logs = arn("logs", r, a, f"log-group:{fn.log_group.name}")
    global_cluster = arn("rds", r, a, f"global-cluster:{t.global_cluster}", regional=False)
    # The call names the global cluster, the target and, in RDS's authorisation, the
    # current writer: every member, since any of them may be the writer by then.
    clusters = tuple(
        arn("rds", m.region, m.account_id, f"cluster:{t.clusters[m.id]}") for m in t.members
    )
    health = Join(
        (
            f"arn:{partition(r)}:route53:::healthcheck/",
            Ref(t.primary.id, f"healthcheck:{t.primary.slug}", "id"),
        )
    )
    statements = (
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (f"{logs}:*",)),
        Statement("ReadGlobalCluster", ("rds:DescribeGlobalClusters",), (global_cluster,)),
        # A human's promote asks the writer's region whether the primary still answers.
        Statement("ReadMemberClusters", ("rds:DescribeDBClusters",), clusters),
        Statement(
            "FailOverToThisRegion",
            ("rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"),
            (global_cluster, *clusters),
        ),
        Statement(
            "ReadReplicationMetric",
            ("cloudwatch:GetMetricData",),
            ("*",),
            reason=NO_RESOURCE_LEVEL,
        ),
        Statement("ReadPrimaryHealth", ("route53:GetHealthCheckStatus",), (health,)),
        Statement("Notify", ("sns:Publish",), (arn("sns", r, a, site.topic.name),)),
        Statement(
            "RecordDecisions",
            ("dynamodb:GetItem", "dynamodb:PutItem"),  # the streak, under conditional writes
            (arn("dynamodb", r, a, f"table/{t.table}"),),
        ),
        Statement(
            "DeadLetters", ("sqs:SendMessage",), (arn("sqs", r, a, fn.dead_letter_queue.name),)
        ),
        Statement(
            "UseSiteKey",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            (Ref(site.id, "key", "arn"),),
            # its environment, its dead letters, the topic, the decision ledger
            via(r, "lambda", "sqs", "sns", "dynamodb"),
        ),
        Statement("Tracing", XRAY, ("*",), reason=NO_RESOURCE_LEVEL),
    )
    name = t.name("role", site, "failover")
    return Role(
        fn.role,
        name,
        role_arn(r, a, name),
        service_principal("lambda", r),
        (),
        statements,
        service_conditions=from_account(a),
    )
