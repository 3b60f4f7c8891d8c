"""Disaster recovery: what the sites of the Global Database environment add.

The primary builds the zone, every region's health check, the global table and the
source side of bucket replication; each secondary builds the failover function. Every
member gets the transaction processor behind its own ALB, backups, and DR alarms.

Deployment order is part of the plan: a member's key, buckets and replication role form
its *foundation*, deployed before any other stack, because the primary's replicas (secret,
table, objects) are encrypted with the secondaries' keys and land in their buckets.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from replgen.plan.arns import account_root, arn, partition, role_arn, service_principal
from replgen.plan.model import (
    Alarm,
    ApiAuth,
    BackupPlan,
    Bucket,
    Database,
    EventSource,
    Function,
    GlobalTable,
    HealthCheck,
    Join,
    LoadBalancer,
    LogGroup,
    MasterSecret,
    OidcAuth,
    Permission,
    Queue,
    Record,
    Ref,
    Replication,
    Role,
    Schedule,
    Site,
    Statement,
    TrustStore,
    Value,
    WebAcl,
    Zone,
)
from replgen.plan.network import health_port
from replgen.plan.sync import NO_RESOURCE_LEVEL, XRAY, network_statements
from replgen.spec.models import Spec
from replgen.spec.view import database_settings

if TYPE_CHECKING:
    from replgen.plan.build import Context

# Where ALB access logs come from: the region's ELB account, for regions opened before
# August 2022; later regions deliver with the log-delivery service principal instead.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}
LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"

# engine -> (Serverless Application Repository app, CloudFormation's rotation type)
ROTATION = {
    "aurora-postgresql": ("SecretsManagerRDSPostgreSQLRotationSingleUser", "PostgreSQLSingleUser"),
    "aurora-mysql": ("SecretsManagerRDSMySQLRotationSingleUser", "MySQLSingleUser"),
}
# Characters the engines refuse in a master password, plus quotes that break connection URLs.
EXCLUDED_CHARACTERS = "\"'@/\\:?#[]%`"
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
TXNPROC_METRICS = "replgen/txnproc"  # the namespace txnproc's embedded metrics use
# txnproc's private check of its database and queue, every minute: the public /health only
# reads the verdict it shares, so nothing on the internet can make it touch the database.
DEEP_HEALTH_EVENT = '{"action":"deep_health"}'
# AWS's managed rule groups every API gets: the common rule set (OWASP top risks) and known
# bad inputs (Log4Shell and similar), evaluated after the rate limit.
WAF_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
SESSION_KEY, SESSION_TTL = "session_id", "expires_at"
TXNPROC_CONCURRENCY = 50  # reserved; the queue may use at most QUEUE_CONCURRENCY of it
QUEUE_CONCURRENCY = 40  # what is left answers the ALB (health checks and enqueues)


def environment(spec: Spec) -> str | None:
    """The environment disaster recovery protects: the one whose database is global."""
    if spec.disaster_recovery is None:
        return None
    return next(e for e in spec.environments if database_settings(spec, e)["global_"].value)


class _Topology:
    def __init__(self, ctx: Context, members: list[Site]) -> None:
        spec = ctx.spec
        assert spec.disaster_recovery and spec.processing and spec.sessions and spec.storage
        self.ctx = ctx
        self.dr = spec.disaster_recovery
        self.processing = spec.processing
        self.storage = spec.storage
        self.members = members
        self.primary = next(s for s in members if s.primary)
        self.secondaries = [s for s in members if not s.primary]
        self.record = f"{self.dr.dns.record}.{self.dr.dns.zone}"
        self.table = ctx.namer.make("table", self.primary.environment, spec.sessions.table)
        assert spec.api is not None  # the rules require it wherever processing is
        self.api = spec.api
        assert self.primary.database.global_cluster_id is not None
        self.global_cluster: str = self.primary.database.global_cluster_id

    def regional(self, site: Site) -> str:
        return f"{site.region}.{self.record}"

    def name(self, service: str, site: Site, *parts: str) -> str:
        return self.ctx.namer.make(service, site.slug, *parts)

    def failover_arns(self) -> tuple[str, ...]:
        return tuple(
            arn(
                "lambda", s.region, s.account_id, f"function:{self.name('function', s, 'failover')}"
            )
            for s in self.secondaries
        )

    def secret_name(self) -> str:
        return self.ctx.namer.make("secret", self.primary.slug, "master")


def attach(ctx: Context, sites: list[Site]) -> list[Site]:
    env = environment(ctx.spec)
    if env is None:
        return sites
    members = [s for s in sites if s.environment == env]
    topology = _Topology(ctx, members)
    return [_member(topology, s) if s.environment == env else s for s in sites]


def _member(t: _Topology, site: Site) -> Site:
    from replgen.plan.build import with_log_groups

    buckets = site.buckets + _storage(t, site)
    site = replace(site, buckets=buckets)
    txnproc, txn_queues = _txnproc(t, site)
    functions, queues = [txnproc], list(txn_queues)
    roles = [_txnproc_role(t, site, txnproc)]
    permissions = [
        Permission(
            "permission:txnproc-alb",
            txnproc.key,
            service_principal("elasticloadbalancing", site.region),
            arn(
                "elasticloadbalancing",
                site.region,
                site.account_id,
                f"targetgroup/{t.name('alb', site, 'tg')}/*",
            ),
        )
    ]
    deep = Schedule(
        t.name("rule", site, "deep-health"),
        "rate(1 minute)",
        txnproc.key,
        None,
        input=DEEP_HEALTH_EVENT,
    )
    schedules: list[Schedule] = [deep]
    permissions.append(
        Permission(
            "permission:txnproc-deep-health",
            txnproc.key,
            service_principal("events", site.region),
            arn("events", site.region, site.account_id, f"rule/{deep.name}"),
        )
    )
    if not site.primary:
        failover, dlq = _failover(t, site)
        functions.append(failover)
        queues.append(dlq)
        roles.append(_failover_role(t, site, failover))
        schedule = Schedule(t.name("rule", site, "failover"), "rate(1 minute)", failover.key, None)
        schedules.append(schedule)
        permissions += _failover_permissions(t, site, failover, schedule)
    if any(b.replication for b in site.buckets):
        roles.append(_replication_role(t, site))
    if t.ctx.spec.backup:
        roles.append(_backup_role(t, site))
    site = replace(
        site,
        functions=site.functions + tuple(functions),
        queues=site.queues + tuple(queues),
        roles=site.roles + tuple(roles),
        schedules=site.schedules + tuple(schedules),
        permissions=site.permissions + tuple(permissions),
        event_sources=(_event_source(t),),
        load_balancer=_load_balancer(t, site),
        record=_record(t, site),
        backup=_backup(t, site),
        database=_database(t, site),
        topic=replace(site.topic, functions=t.failover_arns()) if site.primary else site.topic,
        zone=_zone(t) if site.primary else None,
        table=_table(t) if site.primary else None,
        foundation=(
            "key",
            *(b.key for b in site.buckets),
            *(r.key for r in roles if r.key == "role:replication"),
            # The zone comes first so that it can be delegated before the certificates
            # validate in it and the health checks resolve their names.
            *(_zone_keys(t) if site.primary else ()),
        ),
    )
    site = replace(site, alarms=site.alarms + _alarms(t, site), outputs=_outputs(t, site))
    assert site.load_balancer is not None
    waf_logs = site.load_balancer.web_acl.log_group
    return with_log_groups(site, *(f.log_group for f in functions), waf_logs)


# ---------------------------------------------------------------- storage


def _storage(t: _Topology, site: Site) -> tuple[Bucket, ...]:
    out = []
    for b in t.storage.buckets:
        replication: tuple[Replication, ...] = ()
        if b.replicate and site.primary:
            replication = tuple(
                Replication(
                    rule_id=f"replicate-to-{other.region}",
                    destination_bucket=_bucket_arn(t, other, b.name),
                    destination_region=other.region,
                    destination_key=Ref(other.id, "key", "arn"),
                    role="role:replication",
                    time_minutes=15,
                )
                for other in t.secondaries
            )
        out.append(
            Bucket(
                f"bucket:{b.name}",
                _bucket_name(t, site, b.name),
                f"{b.name} for disaster recovery",  # a Purpose tag: no parentheses
                kms=True,
                expire_days=b.expire_days,
                noncurrent_expire_days=30,
                access_log_bucket="bucket:access-logs",
                access_log_prefix=f"{b.name}/",
                replication=replication,
                replica_of=_bucket_name(t, t.primary, b.name)
                if b.replicate and not site.primary
                else None,
            )
        )
    return tuple(out)


def _bucket_name(t: _Topology, site: Site, name: str) -> str:
    return t.name("bucket", site, name, site.account_id)


def _bucket_arn(t: _Topology, site: Site, name: str) -> str:
    return f"arn:{partition(site.region)}:s3:::{_bucket_name(t, site, name)}"


def _replication_role(t: _Topology, site: Site) -> Role:
    replicated = [b for b in site.buckets if b.replication]
    sources = tuple(f"arn:{partition(site.region)}:s3:::{b.name}" for b in replicated)
    targets = tuple(r.destination_bucket for b in replicated for r in b.replication)
    keys = tuple(dict.fromkeys(r.destination_key for b in replicated for r in b.replication))
    name = t.name("role", site, "replication")
    statements = (
        Statement(
            "ReadReplicationConfiguration",
            ("s3:GetReplicationConfiguration", "s3:ListBucket"),
            sources,
        ),
        Statement(
            "ReadSourceVersions",
            (
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ),
            tuple(f"{s}/*" for s in sources),
        ),
        Statement(
            "WriteReplicas",
            ("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"),
            tuple(f"{d}/*" for d in targets),
        ),
        Statement("DecryptSource", ("kms:Decrypt",), (Ref(site.id, "key", "arn"),)),
        Statement("EncryptReplicas", ("kms:Encrypt", "kms:GenerateDataKey"), keys),
    )
    return Role(
        "role:replication",
        name,
        role_arn(site.region, site.account_id, name),
        service_principal("s3", site.region),
        (),
        statements,
    )


# ---------------------------------------------------------------- processing


def _txnproc(t: _Topology, site: Site) -> tuple[Function, tuple[Queue, Queue]]:
    p, ctx = t.processing, t.ctx
    dlq = Queue(
        "queue:txnproc-dlq",
        t.name("queue", site, p.queue, "dlq"),
        retention_seconds=1209600,
        visibility_timeout=300,
    )
    queue = Queue(
        "queue:txnproc",
        t.name("queue", site, p.queue),
        retention_seconds=345600,
        visibility_timeout=6 * p.timeout_seconds,  # what Lambda recommends for a queue source
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
        ("QUEUE_URL", _queue_url(site, queue.name)),
        ("SESSIONS_TABLE", t.table),
        ("LOG_BUCKET", _log_bucket(t, site)),
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
        log_group=LogGroup(
            ctx.namer.check("log", f"/aws/lambda/{name}"), ctx.spec.functions.log_retention_days
        ),
        dead_letter_queue=dlq,
        vpc=True,
    )
    return function, (dlq, queue)


def _queue_url(site: Site, name: str) -> str:
    return f"https://sqs.{site.region}.amazonaws.com/{site.account_id}/{name}"


def _log_bucket(t: _Topology, site: Site) -> str:
    """The first bucket of `storage`: the spec lists the transaction log first."""
    return _bucket_name(t, site, t.storage.buckets[0].name)


def _txnproc_role(t: _Topology, site: Site, fn: Function) -> Role:
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
            "UseSiteKey", ("kms:Decrypt", "kms:GenerateDataKey"), (Ref(site.id, "key", "arn"),)
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
            (f"arn:{partition(r)}:s3:::{_log_bucket(t, site)}/*",),
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
    )


def _event_source(t: _Topology) -> EventSource:
    return EventSource(
        "events:txnproc",
        "queue:txnproc",
        "function:txnproc",
        batch_size=t.processing.batch_size,
        batching_window_seconds=0,  # a payment waits for nothing
        max_concurrency=QUEUE_CONCURRENCY,
    )


def _log_writer(region: str) -> tuple[Literal["AWS", "Service"], str]:
    account = ELB_ACCOUNTS.get(region)
    return ("AWS", account_root(region, account)) if account else ("Service", LOG_DELIVERY)


def _auth(t: _Topology, site: Site) -> ApiAuth:
    api = t.api
    if api.auth == "mtls":
        assert api.trust_store is not None  # the rules guarantee it
        bucket, _, key = api.trust_store.removeprefix("s3://").partition("/")
        store = TrustStore(t.name("alb", site, "trust"), bucket, key)
        return ApiAuth("mtls", trust_store=store, health_port=health_port("mtls"))
    if api.auth == "oidc":
        assert api.oidc is not None
        o = api.oidc
        oidc = OidcAuth(
            o.issuer,
            o.authorization_endpoint,
            o.token_endpoint,
            o.user_info_endpoint,
            o.client_id,
            o.client_secret_arn,
        )
        return ApiAuth("oidc", oidc=oidc)
    return ApiAuth("none")


def _web_acl(t: _Topology, site: Site) -> WebAcl:
    name = t.name("waf", site, "api")
    return WebAcl(
        name=name,
        rate_limit=t.api.rate_limit,
        managed_rule_groups=WAF_RULE_GROUPS,
        log_group=LogGroup(
            t.ctx.namer.check("log", f"aws-waf-logs-{name}"),
            t.ctx.spec.functions.log_retention_days,
        ),
    )


def _load_balancer(t: _Topology, site: Site) -> LoadBalancer:
    return LoadBalancer(
        name=t.name("alb", site),
        target_group=t.name("alb", site, "tg"),
        function="function:txnproc",
        domain=t.regional(site),
        alternative_names=(t.record,),
        zone_id=Ref(t.primary.id, "zone", "id"),
        ssl_policy=SSL_POLICY,
        idle_timeout=60,
        access_logs_bucket="bucket:access-logs",
        access_logs_prefix="alb",
        log_writer=_log_writer(site.region),
        health_check_path=t.dr.dns.health_check_path,
        permission="permission:txnproc-alb",
        auth=_auth(t, site),
        web_acl=_web_acl(t, site),
    )


# ---------------------------------------------------------------- failover


def _zone(t: _Topology) -> Zone:
    checks = tuple(
        HealthCheck(
            key=f"healthcheck:{m.slug}",
            name=t.name("tag", m, "health"),
            fqdn=t.regional(m),
            path=t.dr.dns.health_check_path,
            port=health_port(t.api.auth),
            interval=10,  # fast checks: a region is seen down within 30 s
            failure_threshold=3,
        )
        for m in t.members
    )
    return Zone(t.dr.dns.zone, f"replgen {t.ctx.namer.prefix}: disaster recovery", checks)


def _zone_keys(t: _Topology) -> tuple[str, ...]:
    return ("zone", *(f"healthcheck:{m.slug}" for m in t.members))


def _record(t: _Topology, site: Site) -> Record:
    return Record(
        zone_id=Ref(t.primary.id, "zone", "id"),
        regional_name=t.regional(site),
        weighted_name=t.record,
        set_identifier=site.slug,
        weight=100 if site.primary else 0,
        health_check=Ref(t.primary.id, f"healthcheck:{site.slug}", "id"),
    )


def _health_url(t: _Topology) -> str:
    """Where the failover function probes the primary: the port Route 53 checks too, since
    under mutual TLS the API's own port refuses a caller without a client certificate (the
    probe would then always fail, and one of the three signals would always say "down")."""
    port = health_port(t.api.auth)
    host = t.regional(t.primary) + ("" if port == 443 else f":{port}")
    return f"https://{host}{t.dr.dns.health_check_path}"


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


def _failover(t: _Topology, site: Site) -> tuple[Function, Queue]:
    ctx = t.ctx
    name = t.name("function", site, "failover")
    dlq = Queue(
        "queue:failover-dlq",
        t.name("queue", site, "failover-dlq"),
        retention_seconds=1209600,
        visibility_timeout=300,
    )
    cluster_arn = arn("rds", site.region, site.account_id, f"cluster:{site.database.cluster_id}")
    sustain, evaluations, stale = failover_evidence(t.dr.rto_minutes)
    environment: tuple[tuple[str, Value | Join], ...] = (
        ("GLOBAL_CLUSTER_ID", t.global_cluster),
        ("TARGET_CLUSTER_ARN", cluster_arn),
        ("PRIMARY_HEALTH_URL", _health_url(t)),
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
        log_group=LogGroup(
            ctx.namer.check("log", f"/aws/lambda/{name}"), ctx.spec.functions.log_retention_days
        ),
        dead_letter_queue=dlq,
        vpc=False,  # probes the primary over the internet, whatever broke in this VPC
    )
    return function, dlq


def _failover_permissions(
    t: _Topology, site: Site, fn: Function, schedule: Schedule
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
            arn("sns", p.region, p.account_id, p.topic.name),
        ),
    ]


def _failover_role(t: _Topology, site: Site, fn: Function) -> Role:
    r, a = site.region, site.account_id
    logs = arn("logs", r, a, f"log-group:{fn.log_group.name}")
    global_cluster = arn("rds", r, a, f"global-cluster:{t.global_cluster}", regional=False)
    # The call names the global cluster, the target and, in RDS's authorisation, the
    # current writer: every member, since any of them may be the writer by then.
    clusters = tuple(
        arn("rds", m.region, m.account_id, f"cluster:{m.database.cluster_id}") for m in t.members
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
            "UseSiteKey", ("kms:Decrypt", "kms:GenerateDataKey"), (Ref(site.id, "key", "arn"),)
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
    )


# ---------------------------------------------------------------- sessions, database, backup


def _table(t: _Topology) -> GlobalTable:
    return GlobalTable(
        t.table,
        SESSION_KEY,
        SESSION_TTL,
        tuple((m.region, Ref(m.id, "key", "arn")) for m in t.members),
    )


def _database(t: _Topology, site: Site) -> Database:
    db = site.database
    if not site.primary:
        return replace(db, global_cluster=Ref(t.primary.id, "global_cluster", "id"))
    app, kind = ROTATION[db.engine]
    secret = MasterSecret(
        name=t.secret_name(),
        description=f"Master password of {db.cluster_id} (global cluster {t.global_cluster})",
        username=db.master_username,
        rotation_days=30,
        rotation_function=t.name("function", site, "rotate-master"),
        rotation_app=app,
        rotation_type=kind,
        exclude_characters=EXCLUDED_CHARACTERS,
        # The functions group reaches the cluster and the VPC's endpoints; the database
        # group has no egress at all.
        security_group="functions",
        replicas=tuple((s.region, Ref(s.id, "key", "arn")) for s in t.secondaries),
    )
    return replace(db, secret=secret)


def _backup(t: _Topology, site: Site) -> BackupPlan | None:
    spec = t.ctx.spec.backup
    if spec is None:
        return None
    return BackupPlan(
        vault=t.name("vault", site),
        plan=t.name("tag", site, "backup"),
        rule="daily",
        selection=t.name("tag", site, "clusters"),
        schedule=spec.schedule,
        start_window_minutes=60,
        completion_window_minutes=180,
        retention_days=spec.retention_days,
        role="role:backup",
        resources=(
            arn("rds", site.region, site.account_id, f"cluster:{site.database.cluster_id}"),
        ),
    )


def _backup_role(t: _Topology, site: Site) -> Role:
    name = t.name("role", site, "backup")
    # Backups only: a restore is a person's decision, made with a role of their own.
    policies = (
        arn(
            "iam",
            site.region,
            "aws",
            "policy/service-role/AWSBackupServiceRolePolicyForBackup",
            regional=False,
        ),
    )
    return Role(
        "role:backup",
        name,
        role_arn(site.region, site.account_id, name),
        service_principal("backup", site.region),
        (),
        (),
        policies,
    )


# ---------------------------------------------------------------- alarms and outputs


def _alarm(
    t: _Topology,
    site: Site,
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


def _alarms(t: _Topology, site: Site) -> tuple[Alarm, ...]:
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
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", (("QueueName", _queue_name(t, site)),)),
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
                (("QueueName", f"{_queue_name(t, site)}-dlq"),),
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
    for fn in site.functions:
        if fn.key in ("function:txnproc", "function:failover"):
            alarms.append(
                _alarm(
                    t,
                    site,
                    f"{fn.key.split(':')[1]}-errors",
                    f"{fn.name} failed",
                    ("AWS/Lambda", "Errors", (("FunctionName", fn.name),)),
                    0.0,
                    "Count",
                    "Sum",
                )
            )
    for bucket in site.buckets:
        for r in bucket.replication:
            dims: tuple[tuple[str, Value], ...] = (
                ("SourceBucket", bucket.name),
                ("DestinationBucket", r.destination_bucket.rsplit(":", 1)[1]),
                ("RuleId", r.rule_id),
            )
            short = bucket.key.split(":", 1)[1]
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


def _queue_name(t: _Topology, site: Site) -> str:
    return t.name("queue", site, t.processing.queue)


def _outputs(t: _Topology, site: Site) -> tuple[tuple[str, Value], ...]:
    outputs: list[tuple[str, Value]] = [
        ("load_balancer_dns_name", Ref(site.id, "load_balancer", "dns_name")),
        ("regional_url", f"https://{t.regional(site)}"),
        ("cluster_endpoint", Ref(site.id, "cluster", "endpoint")),
        ("queue_url", _queue_url(site, _queue_name(t, site))),
    ]
    outputs += [
        (f"bucket_{b.key.split(':', 1)[1].replace('-', '_')}", b.name) for b in site.buckets
    ]
    outputs.append(("sessions_table", t.table))
    if site.primary:
        outputs += [
            ("url", f"https://{t.record}"),
            ("hosted_zone_id", Ref(site.id, "zone", "id")),
            ("zone_name_servers", Ref(site.id, "zone", "name_servers")),
            ("global_database", t.global_cluster),
        ]
    return tuple(outputs)
