"""A site's Aurora cluster: its settings, the Global Database member's part, its replica-lag
alarm, its monitoring role and its connection parameter."""

from __future__ import annotations

from replgen.plan import dr as dr_plan
from replgen.plan import protection, waivers
from replgen.plan.arns import arn, role_arn, service_principal
from replgen.plan.components import site_key
from replgen.plan.context import Context, slug
from replgen.plan.iam import from_account
from replgen.plan.model import Alarm, Database, Instance, Join, Parameter, Place, Ref, Role
from replgen.spec.view import SiteEntry, database_settings

DEFAULT_LAG_SECONDS = 60


def monitoring_role(ctx: Context, entry: SiteEntry, db: Database) -> Role:
    region, account = ctx.region(entry), ctx.account(entry)
    managed = arn(
        "iam", region, "aws", "policy/service-role/AmazonRDSEnhancedMonitoringRole", regional=False
    )
    name = ctx.namer.make("role", slug(entry), "rds-monitoring")
    instances = tuple(arn("rds", region, account, f"db:{i.id}") for i in db.instances)
    return Role(
        db.monitoring_role,
        name,
        role_arn(region, account, name),
        service_principal("monitoring.rds", region),
        (),
        (),
        (managed,),
        service_conditions=from_account(account, *instances),
    )


MYSQL_PARAMETERS = (
    ("server_audit_logging", "1"),
    ("server_audit_events", "CONNECT,QUERY_DCL,QUERY_DDL"),
    ("require_secure_transport", "ON"),
)
POSTGRES_PARAMETERS = (("rds.force_ssl", "1"), ("log_connections", "1"))


# RSA 2048 / SHA-256, valid to 2061: the default CA (rds-ca-2019) expired in 2024.
CA_CERTIFICATE = "rds-ca-rsa2048-g1"


def parameter_family(engine: str, version: str) -> str:
    if engine == "aurora-mysql":
        return "aurora-mysql8.0" if version.startswith("8.0") else "aurora-mysql5.7"
    return f"aurora-postgresql{version.split('.')[0]}"


def database(
    ctx: Context, entry: SiteEntry, place: Place, recovery: dr_plan.Topology | None
) -> Database:
    """The site's cluster, complete: a Global Database member's global settings, and where
    a protected cluster's data goes when it is deleted."""
    db = {k: s.value for k, s in database_settings(ctx.spec, entry.environment).items()}
    s, engine = slug(entry), db["engine"]
    cluster_id = cluster_id_of(ctx, entry)
    serverless = db["serverless"]
    is_global = bool(db["global_"])
    regions = list(ctx.spec.environments[entry.environment].regions or {})
    count = db["instances"] if not serverless else max(1, db["instances"])
    instances = tuple(Instance(ctx.namer.make("instance", s, str(i + 1))) for i in range(count))
    cluster_parameters = MYSQL_PARAMETERS if engine == "aurora-mysql" else POSTGRES_PARAMETERS
    secret, global_cluster = (
        dr_plan.global_settings(recovery, place, cluster_id, engine, db["master_username"])
        if recovery is not None
        else (None, None)
    )
    alarm = _replica_lag_alarm(ctx, s, cluster_id, count)
    return Database(
        engine=engine,
        engine_version=db["engine_version"],
        parameter_family=parameter_family(engine, db["engine_version"]),
        cluster_id=cluster_id,
        subnet_group=ctx.namer.make("group", s, "db-subnets"),
        parameter_group=ctx.namer.make("group", s, "cluster-params"),
        cluster_parameters=cluster_parameters,
        instances=instances,
        instance_class="db.serverless" if serverless else db["instance_class"],
        serverless=(serverless.min_acu, serverless.max_acu) if serverless else None,
        port=ctx.port(entry.environment),
        database_name=db["database_name"],
        master_username=db["master_username"],
        backup_retention_days=db["backup_retention_days"],
        backup_window="03:00-04:00",
        maintenance_window="sun:05:00-sun:06:00",
        log_exports=("audit", "error", "slowquery")
        if engine == "aurora-mysql"
        else ("postgresql",),
        monitoring_interval=60,
        monitoring_role="role:monitoring",
        performance_insights_days=7,
        ca_certificate=CA_CERTIFICATE,
        global_cluster_id=dr_plan.global_cluster(ctx, entry.environment) if is_global else None,
        global_role=("primary" if entry.primary else "secondary")
        if is_global and len(regions) > 1
        else None,
        managed_password=not is_global,
        secret=secret,
        global_cluster=global_cluster,
        replica_lag_alarm=alarm,
        final_snapshot=protection.final_snapshot(ctx.namer, place, cluster_id),
        waivers=waivers.cluster(
            destroyable=not place.deletion_protection,
            # A member's backup plan selects it; no other cluster has one.
            backed_up=recovery is not None and ctx.spec.backup is not None,
            engine=engine,
            parameters=frozenset(name for name, _ in cluster_parameters),
        ),
        kms_key=site_key(entry.id),
    )


def _replica_lag_alarm(ctx: Context, s: str, cluster_id: str, count: int) -> Alarm | None:
    """Only readers lag, and a cluster without one never emits the metric: no alarm there."""
    if count < 2:
        return None
    lag = ctx.spec.sync.lag_alarm_seconds if ctx.spec.sync else DEFAULT_LAG_SECONDS
    return Alarm(
        name=ctx.namer.make("alarm", s, "replica-lag"),
        description=f"Aurora replica lag in {cluster_id} above {lag} s",
        namespace="AWS/RDS",
        metric="AuroraReplicaLagMaximum",  # cluster level; AuroraReplicaLag is per instance
        dimensions=(("DBClusterIdentifier", cluster_id),),
        statistic="Maximum",
        period=60,
        evaluation_periods=3,
        threshold=float(lag * 1000),  # reported in milliseconds
        unit="Milliseconds",
        comparison="GreaterThanThreshold",
        treat_missing="notBreaching",  # readers restarting or replaced report nothing
        topic="topic",
    )


def connection_parameter(ctx: Context, entry: SiteEntry, db: Database) -> Parameter:
    """The connection string; the password stays in Secrets Manager."""
    name = f"/{ctx.spec.name}/{ctx.spec.suffix}/{slug(entry)}/database/connection"
    ctx.namer.check("parameter", name)
    scheme = "mysql" if db.engine == "aurora-mysql" else "postgresql"
    endpoint = Ref(entry.id, "cluster", "endpoint")
    value = Join((f"{scheme}://{db.master_username}@", endpoint, f":{db.port}/{db.database_name}"))
    parameter_arn = arn("ssm", ctx.region(entry), ctx.account(entry), f"parameter{name}")
    return Parameter(
        name,
        parameter_arn,
        f"Connection string of {db.cluster_id} (password in Secrets Manager)",
        value,
        site_key(entry.id),
    )


def cluster_id_of(ctx: Context, entry: SiteEntry) -> str:
    return ctx.namer.make("cluster", slug(entry))
