"""The transaction processor: its function, queues, role and queue trigger in every member."""

from __future__ import annotations

from replgen.plan import waivers
from replgen.plan.arns import arn, partition, role_arn, service_principal
from replgen.plan.components import site_key
from replgen.plan.context import lambda_logs
from replgen.plan.dr.topology import Member, Topology, log_bucket, queue_url
from replgen.plan.iam import from_account, via
from replgen.plan.model import (
    EventSource,
    Function,
    Join,
    Queue,
    Ref,
    Role,
    Statement,
    Value,
)
from replgen.plan.sync import NO_RESOURCE_LEVEL, XRAY, network_statements

TXNPROC_CONCURRENCY = 50  # reserved; the queue may use at most QUEUE_CONCURRENCY of it


QUEUE_CONCURRENCY = 40  # what is left answers the ALB (health checks and enqueues)


def txnproc_function(t: Topology, site: Member) -> tuple[Function, tuple[Queue, Queue]]:
    p, ctx = t.processing, t.ctx
    dlq = Queue(
        "queue:txnproc-dlq",
        t.name("queue", site, p.queue, "dlq"),
        retention_seconds=1209600,
        visibility_timeout=300,
        kms_key=site_key(site.id),
    )
    queue = Queue(
        "queue:txnproc",
        t.name("queue", site, p.queue),
        retention_seconds=345600,
        visibility_timeout=6 * p.timeout_seconds,  # what Lambda recommends for a queue source
        kms_key=site_key(site.id),
        dead_letter=dlq,
        max_receives=5,
    )
    name = t.name("function", site, "txnproc")
    db = site.database
    environment: tuple[tuple[str, Value | Join], ...] = (
        ("DB_HOST", Ref(site.id, "cluster", "endpoint")),
        ("DB_PORT", str(db.port)),
        ("DB_NAME", db.database_name),
        # The name, not the ARN: the same name reads the primary's secret or its replica.
        ("DB_SECRET_ARN", t.secret_name()),
        ("QUEUE_URL", queue_url(site, queue.name)),
        ("SESSIONS_TABLE", t.table),
        ("LOG_BUCKET", log_bucket(t, site)),
        ("SESSION_TTL_SECONDS", "86400"),
        ("API_AUTH", t.api.auth),
        *(
            (
                ("API_ACCOUNT_CLAIM", t.api.oidc.account_claim),
                # The ALB signs the identity it passes on: txnproc checks it is this one.
                ("ALB_ARN", Ref(site.id, "load_balancer", "arn")),
            )
            if t.api.oidc
            else ()
        ),
    )
    function = Function(
        key="function:txnproc",
        name=name,
        description="replgen txnproc: validates and stores transactions",
        code=ctx.artifacts["txnproc"],
        handler="handler.handler",
        runtime=ctx.spec.functions.runtime,
        timeout=p.timeout_seconds,
        memory_mb=512,
        reserved_concurrency=TXNPROC_CONCURRENCY,
        role="role:txnproc",
        environment=environment,
        log_group=lambda_logs(ctx, name, site_key(site.id)),
        dead_letter_queue=dlq,
        vpc=True,
        kms_key=site_key(site.id),
        waivers=waivers.function(vpc=True),
    )
    return function, (dlq, queue)


def txnproc_role(t: Topology, site: Member, fn: Function) -> Role:
    r, a = site.region, site.account_id
    logs = arn("logs", r, a, f"log-group:{fn.log_group.name}")
    queue = arn("sqs", r, a, t.name("queue", site, t.processing.queue))
    statements = (
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (f"{logs}:*",)),
        Statement(
            "ConsumeAndEnqueue",
            (
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
                "sqs:SendMessage",
            ),
            (queue,),
        ),
        Statement(
            "DeadLetters", ("sqs:SendMessage",), (arn("sqs", r, a, fn.dead_letter_queue.name),)
        ),
        Statement(
            "ReadMasterSecret",
            ("secretsmanager:GetSecretValue",),
            (arn("secretsmanager", r, a, f"secret:{t.secret_name()}-??????"),),
        ),
        Statement(
            "UseSiteKey",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            (Ref(site.id, "key", "arn"),),
            # its environment, the queues, the master secret, the table, the log bucket
            via(r, "lambda", "sqs", "secretsmanager", "dynamodb", "s3"),
        ),
        Statement(
            "RecordSessions",
            # Upserts, one call per message; and the shared writer flag /health reads.
            ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            (arn("dynamodb", r, a, f"table/{t.table}"),),
        ),
        Statement(
            "AppendTransactionLogs",
            ("s3:PutObject",),
            (f"arn:{partition(r)}:s3:::{log_bucket(t, site)}/*",),
        ),
        *network_statements(site),
        Statement("Tracing", XRAY, ("*",), reason=NO_RESOURCE_LEVEL),
    )
    return Role(
        fn.role,
        t.name("role", site, "txnproc"),
        role_arn(r, a, t.name("role", site, "txnproc")),
        service_principal("lambda", r),
        (),
        statements,
        service_conditions=from_account(a),
    )


def txnproc_event_source(t: Topology) -> EventSource:
    return EventSource(
        "events:txnproc",
        "queue:txnproc",
        "function:txnproc",
        batch_size=t.processing.batch_size,
        batching_window_seconds=0,  # a payment waits for nothing
        max_concurrency=QUEUE_CONCURRENCY,
    )
