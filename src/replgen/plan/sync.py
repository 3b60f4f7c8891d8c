"""The sync component: replsync in `runs_in`, a role per environment it touches, and its
promotion state machine. Every ARN a policy names is exact.

The sync logs in to each database as a user of its own (`SYNC_USER`, IAM database
authentication): its access role in the environment's account may `rds-db:connect` as that
user and nothing else, and reads no secret. A second function, `replsync-boot`, creates that
user at deploy time (one invocation per environment) and is the only reader of the master
secrets, through roles that trust it alone."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from replgen.plan import waivers
from replgen.plan.arns import arn, partition, role_arn, service_principal
from replgen.plan.components import site_key
from replgen.plan.context import Context, function_logs
from replgen.plan.iam import from_account, via
from replgen.plan.model import (
    Alarm,
    Function,
    Invocation,
    Invoker,
    Join,
    Place,
    Queue,
    Ref,
    Role,
    Schedule,
    StateMachine,
    Statement,
    Value,
)
from replgen.plan.parts import Parts
from replgen.spec import cadence
from replgen.spec.models import Spec
from replgen.spec.view import database_settings

XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
NO_RESOURCE_LEVEL = "the service does not support resource-level permissions for these actions"
TRANSIENT_ERRORS = ("TransientError", "Lambda.ServiceException", "Lambda.TooManyRequestsException")
# The sync's own database user, the same name in every environment (each has its own cluster).
SYNC_USER = "replgen_sync"
MIGRATE_VERSIONS = "$.results.step1.result.versions"  # the first migrate step's version set


def touched_environments(spec: Spec) -> list[str]:
    """Environments whose databases the sync functions connect to, in promotion order."""
    assert spec.sync is not None
    promote = list(spec.sync.schema_.promote) if spec.sync.schema_ else []
    ref = spec.sync.reference_data
    extra = [ref.source, *ref.targets] if ref else []
    return promote + [e for e in dict.fromkeys(extra) if e not in promote]


def reference_routes(spec: Spec) -> dict[str, str]:
    """Target -> the one environment it takes reference data from: the one before it in the
    chain `source, targets...` (in promote order), so data never skips an environment. A
    production environment is never a source: the target after it reads from the one before."""
    assert spec.sync is not None
    ref = spec.sync.reference_data
    if ref is None:
        return {}
    promote = list(spec.sync.schema_.promote) if spec.sync.schema_ else []
    order = {env: i for i, env in enumerate(promote)}
    routes: dict[str, str] = {}
    previous = ref.source
    for target in sorted(ref.targets, key=lambda env: order.get(env, len(order))):
        routes[target] = previous
        if not spec.environments[target].production:
            previous = target
    return routes


TOKEN = "@@replgen-ref@@"  # cannot occur in names or SQL identifiers


def json_join(document: Any) -> Join:
    """JSON text with Refs spliced in as deploy-time values (sorted keys: stable bytes)."""
    refs: list[Ref] = []

    def encode(node: Any) -> Any:
        if isinstance(node, Ref):
            refs.append(node)
            return f"{TOKEN}{len(refs) - 1}{TOKEN}"
        if isinstance(node, dict):
            return {k: encode(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [encode(v) for v in node]
        return node

    text = json.dumps(encode(document), sort_keys=True, separators=(",", ":"))
    parts: list[Value] = []
    for i, chunk in enumerate(text.split(TOKEN)):
        if i % 2:
            parts.append(refs[int(chunk)])
        elif chunk:
            parts.append(chunk)
    return Join(tuple(parts))


class Sync:
    """The sync's decisions that span sites, made once: the names it uses in the site it
    runs in, and the roles it assumes in each environment's database site."""

    def __init__(self, ctx: Context, places: dict[str, Place]) -> None:
        spec = ctx.spec
        assert spec.sync is not None
        self.ctx, self.host = ctx, places[spec.sync.runs_in]
        envs = touched_environments(spec)
        self.db_sites = {env: ctx.primary_site(env).id for env in envs}
        self.names = _Names(ctx, self.host)
        access = {env: _access_role(ctx, self.names, places[self.db_sites[env]]) for env in envs}
        boot = {env: _master_role(ctx, self.names, places[self.db_sites[env]]) for env in envs}
        self.roles = _Roles(access, boot)

    def parts(self, site: Place, own: Host) -> Parts:
        """What the sync adds to `site`: its roles where it holds a database the sync
        touches, and the functions where it runs (reading `own`, the site's components)."""
        access, boot = self.roles.access, self.roles.boot
        envs = [env for env, db in self.db_sites.items() if db == site.id]
        roles = tuple(r for env in envs for r in (access[env], boot[env]))
        roles_here = Parts(roles=roles)
        if site.id != self.host.id:
            return roles_here
        return roles_here + _host(self.ctx, self.names, site, own, self.roles, self.db_sites)


@dataclass(frozen=True)
class Host:
    """The names of the components of the sync's own site that it uses."""

    migrations_bucket: str
    topic: str


class _Roles:
    """The roles replsync assumes per environment: at run time, and for the bootstrap."""

    def __init__(self, access: dict[str, Role], boot: dict[str, Role]) -> None:
        self.access, self.boot = access, boot


class _Names:
    def __init__(self, ctx: Context, host: Place) -> None:
        make, s = ctx.namer.make, host.slug
        self.region = host.region
        self.function = make("function", s, "replsync")
        self.role = make("role", s, "replsync")
        self.boot_function = make("function", s, "replsync-boot")
        self.boot_role = make("role", s, "replsync-boot")
        self.states_role = make("role", s, "replsync-states")
        self.schedule_role = make("role", s, "replsync-schedule")
        self.state_machine = make("state", s, "promote")
        self.rule = make("rule", s, "replsync-schedule")
        self.dlq = make("queue", s, "replsync-dlq")
        self.prefix = ctx.namer.prefix
        log = f"/replgen/{self.prefix}/{s}"
        self.function_logs = ctx.namer.check("log", f"/aws/lambda/{self.function}")
        self.boot_logs = ctx.namer.check("log", f"/aws/lambda/{self.boot_function}")
        self.invoker_logs = ctx.namer.check("log", f"{log}/invoker")
        self.state_logs = ctx.namer.check("log", f"{log}/promote")
        self.sync_role_arn = role_arn(host.region, host.account_id, self.role)
        self.boot_role_arn = role_arn(host.region, host.account_id, self.boot_role)
        self._make = make

    def access_role(self, slug: str) -> str:
        return self._make("role", slug, "replsync-access")

    def master_role(self, slug: str) -> str:
        return self._make("role", slug, "replsync-master")


def db_user_arn(site: Place, user: str) -> Join:
    """`rds-db:connect` resource of one database user of the site's cluster."""
    prefix = arn("rds-db", site.region, site.account_id, "dbuser:")
    return Join((prefix, Ref(site.id, "cluster", "resource_id"), f"/{user}"))


def _access_role(ctx: Context, names: _Names, site: Place) -> Role:
    """In the environment's own account: log in as the sync's own database user, only."""
    name = names.access_role(site.slug)
    host = ctx.entry(ctx.spec.sync.runs_in)  # type: ignore[union-attr]
    statement = Statement("ConnectAsSyncUser", ("rds-db:connect",), (db_user_arn(site, SYNC_USER),))
    trusted = ((ctx.account(host), names.sync_role_arn),)
    return Role(
        "role:replsync-access",
        name,
        role_arn(site.region, site.account_id, name),
        None,
        trusted,
        (statement,),
        waivers=waivers.account_trust(trusted),
    )


def _master_role(ctx: Context, names: _Names, site: Place) -> Role:
    """In the environment's own account: read the master secret, for the bootstrap only
    (trusted by the bootstrap function's role, never by the run-time one)."""
    name = names.master_role(site.slug)
    host = ctx.entry(ctx.spec.sync.runs_in)  # type: ignore[union-attr]
    via = service_principal(f"secretsmanager.{site.region}", site.region)
    statements = (
        Statement(
            "ReadMasterSecret",
            ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
            (Ref(site.id, "cluster", "secret_arn"),),
        ),
        Statement(
            "DecryptMasterSecret",
            ("kms:Decrypt",),
            (Ref(site.id, "key", "arn"),),
            (("StringEquals", "kms:ViaService", (via,)),),
        ),
    )
    trusted = ((ctx.account(host), names.boot_role_arn),)
    return Role(
        "role:replsync-master",
        name,
        role_arn(site.region, site.account_id, name),
        None,
        trusted,
        statements,
        waivers=waivers.account_trust(trusted),
    )


def _config(
    ctx: Context,
    names: _Names,
    roles: dict[str, Role],
    db_sites: dict[str, str],
    own: Host | None,
) -> Join:
    """REPLSYNC_CONFIG: the run-time function's (`own`: the components of its site it reads)
    has no secret; the bootstrap's (None) names each master secret and the role that may
    read it."""
    boot = own is None
    spec = ctx.spec
    assert spec.sync is not None
    ref = spec.sync.reference_data
    engine = database_settings(spec, next(iter(roles)))["engine"].value

    def environment(env: str, role: Role) -> dict[str, Any]:
        region = ctx.region(ctx.primary_site(env))
        # The bootstrap needs the master secret and no production flag; the run time the
        # reverse. Each carries only what it reads (4 KB of environment per function).
        only = (
            {"secret_arn": Ref(db_sites[env], "cluster", "secret_arn")}
            if boot
            else {"production": spec.environments[env].production}
        )
        return {
            "host": Ref(db_sites[env], "cluster", "endpoint"),
            "port": ctx.port(env),
            "dbname": database_settings(spec, env)["database_name"].value,
            **({"region": region} if region != names.region else {}),
            **only,
            "role_arn": role.arn,
        }

    document = {
        "engine": "mysql" if engine == "aurora-mysql" else "postgres",
        "user": SYNC_USER,
        "region": names.region,
        "environments": {env: environment(env, role) for env, role in roles.items()},
        "promote": list(spec.sync.schema_.promote) if spec.sync.schema_ else [],
        "reference_data": {
            "source": ref.source,
            "targets": list(ref.targets),
            "routes": reference_routes(spec),
            "tables": [
                {
                    "name": t.name,
                    "key": list(t.key) if t.key else None,
                    "exclude_columns": list(t.exclude_columns),
                }
                for t in ref.tables
            ],
        }
        if ref
        else None,
        **({} if boot else _run_time_only(ctx, own)),
    }
    return json_join(document)


def _run_time_only(ctx: Context, own: Host | None) -> dict[str, Any]:
    assert own is not None  # the run-time function reads its site's migrations bucket
    return {
        "migrations": {"bucket": own.migrations_bucket, "prefix": "migrations/"},
        "metrics_namespace": f"replgen/{ctx.spec.name}",
    }


def _host(
    ctx: Context, names: _Names, site: Place, own: Host, roles: _Roles, db_sites: dict[str, str]
) -> Parts:
    sync = ctx.spec.sync
    assert sync is not None
    retention = ctx.spec.functions.log_retention_days
    key = site_key(site.id)
    dlq = Queue(
        "queue:replsync-dlq",
        names.dlq,
        retention_seconds=1209600,
        visibility_timeout=300,
        kms_key=key,
    )
    function = Function(
        key="function:replsync",
        name=names.function,
        description="replgen replsync: schema migrations and reference-data sync",
        code=ctx.artifacts["replsync"],
        handler="handler.handler",
        runtime=ctx.spec.functions.runtime,
        timeout=sync.timeout_seconds,
        memory_mb=sync.memory_mb,
        reserved_concurrency=sync.reserved_concurrency,
        role="role:replsync",
        environment=(("REPLSYNC_CONFIG", _config(ctx, names, roles.access, db_sites, own)),),
        log_group=function_logs(names.function_logs, retention, key),
        dead_letter_queue=dlq,
        vpc=True,
        kms_key=key,
        waivers=waivers.function(vpc=True),
    )
    boot = replace(
        function,
        key="function:replsync-boot",
        name=names.boot_function,
        description="replgen replsync bootstrap: creates the sync's own database users",
        # One invocation per environment, possibly all at once (the deployment's choice).
        reserved_concurrency=len(roles.boot),
        role="role:replsync-boot",
        environment=(("REPLSYNC_CONFIG", _config(ctx, names, roles.boot, db_sites, None)),),
        log_group=function_logs(names.boot_logs, retention, key),
    )
    machine = StateMachine(
        "state:promote",
        names.state_machine,
        "role:replsync-states",
        _definition(ctx, names, site, own),
        function_logs(names.state_logs, retention, key),
    )
    schedule = Schedule(names.rule, sync.schedule, machine.key, "role:replsync-schedule")
    host_roles = (
        _function_role(names, site, function, roles.access, own),
        _boot_role(names, site, boot, roles.boot),
        _states_role(names, site, function, machine, own),
        _schedule_role(names, site),
    )
    invoker_logs = function_logs(names.invoker_logs, retention, key)
    return Parts(
        functions=(function, boot),
        queues=(dlq,),
        schedules=(schedule,),
        state_machines=(machine,),
        roles=host_roles,
        alarms=_alarms(ctx, names, site, function, machine),
        invocations=_bootstraps(ctx, boot, roles.boot),
        invoker=Invoker(
            invoker_logs,
            waivers=waivers.waive(
                waivers.Waiver.INVOKER_OUTSIDE_VPC, waivers.Waiver.INLINE_CODE_NOT_SIGNED
            ),
        ),
        log_groups=(function.log_group, boot.log_group, machine.log_group, invoker_logs),
    )


def _bootstraps(ctx: Context, boot: Function, roles: dict[str, Role]) -> tuple[Invocation, ...]:
    """One bootstrap per environment, run again when what it decides changes: the user, the
    grants' inputs (in the function's configuration) or the code."""
    config = json.dumps(boot.environment[0][1], default=repr, sort_keys=True)
    revision = hashlib.sha256(f"{config}|{boot.code.sha256}".encode()).hexdigest()[:16]
    return tuple(
        Invocation(
            f"invocation:bootstrap-{ctx.primary_site(env).id.replace('/', '-')}",
            boot.key,
            json.dumps(
                {"action": "bootstrap", "target": env, "revision": revision},
                sort_keys=True,
                separators=(",", ":"),
            ),
        )
        for env in roles
    )


def _function_role(
    names: _Names, site: Place, fn: Function, access: dict[str, Role], own: Host
) -> Role:
    return _replsync_role(
        "role:replsync", names.role, names.sync_role_arn, site, fn, access, scripts=own
    )


def _boot_role(names: _Names, site: Place, fn: Function, boot: dict[str, Role]) -> Role:
    return _replsync_role(
        "role:replsync-boot", names.boot_role, names.boot_role_arn, site, fn, boot, scripts=None
    )


def _replsync_role(
    key: str,
    name: str,
    role_arn_: str,
    site: Place,
    fn: Function,
    access: dict[str, Role],
    scripts: Host | None,
) -> Role:
    """A replsync function's role: assume exactly its per-environment roles; read migration
    scripts (by version: one version set per run) only where it runs them (`scripts`: the
    site whose bucket holds them)."""
    r, a = site.region, site.account_id
    logs = arn("logs", r, a, f"log-group:{fn.log_group.name}")
    read: tuple[Statement, ...] = ()
    if scripts is not None:
        s3 = f"arn:{partition(r)}:s3:::{scripts.migrations_bucket}"
        read = (
            Statement(
                "ReadMigrationScripts",
                ("s3:GetObjectVersion", "s3:ListBucketVersions"),
                (s3, f"{s3}/migrations/*"),
            ),
        )
    statements = (
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (f"{logs}:*",)),
        Statement(
            "AssumeEnvironmentRoles",
            ("sts:AssumeRole",),
            tuple(role.arn for role in access.values()),
        ),
        *read,
        Statement(
            "UseSiteKey",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            (Ref(site.id, "key", "arn"),),
            # its environment, the scripts' objects, its dead letters
            via(r, "lambda", "s3", "sqs"),
        ),
        Statement(
            "DeadLetters", ("sqs:SendMessage",), (arn("sqs", r, a, fn.dead_letter_queue.name),)
        ),
        *network_statements(site),
        Statement("Tracing", XRAY, ("*",), reason=NO_RESOURCE_LEVEL),
    )
    return Role(
        key,
        name,
        role_arn_,
        service_principal("lambda", r),
        (),
        statements,
        # Lambda carries the account when it assumes an execution role; the function's ARN it
        # carries on the role's own calls instead (lambda:SourceFunctionArn).
        service_conditions=from_account(a),
    )


def network_statements(site: Place) -> tuple[Statement, ...]:
    """What a function in the site's private subnets needs: interfaces in its own VPC only."""
    r, a = site.region, site.account_id
    vpc = Join((arn("ec2", r, a, "vpc/"), Ref(site.id, "vpc", "id")))
    return (
        Statement(
            "NetworkInterfacesInOwnVpc",
            (
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ),
            (
                arn("ec2", r, a, "network-interface/*"),
                arn("ec2", r, a, "subnet/*"),
                arn("ec2", r, a, "security-group/*"),
            ),
            (("ArnEquals", "ec2:Vpc", (vpc,)),),
        ),
        Statement(
            "DescribeNetwork",
            (
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ),
            ("*",),
            reason=NO_RESOURCE_LEVEL,
        ),
    )


def _states_role(
    names: _Names, site: Place, fn: Function, machine: StateMachine, own: Host
) -> Role:
    r, a = site.region, site.account_id
    fn_arn = arn("lambda", r, a, f"function:{fn.name}")
    statements = (
        Statement("InvokeReplsync", ("lambda:InvokeFunction",), (fn_arn, f"{fn_arn}:*")),
        Statement("NotifyFailure", ("sns:Publish",), (arn("sns", r, a, own.topic),)),
        Statement(
            "UseSiteKey",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            (Ref(site.id, "key", "arn"),),
            via(r, "sns"),  # the failure notice, on the encrypted topic
        ),
        Statement(
            "DeliverExecutionLogs",
            (
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ),
            ("*",),
            reason=NO_RESOURCE_LEVEL,
        ),
        Statement(
            "Tracing",
            (*XRAY, "xray:GetSamplingRules", "xray:GetSamplingTargets"),
            ("*",),
            reason=NO_RESOURCE_LEVEL,
        ),
    )
    machine_arn = arn("states", r, a, f"stateMachine:{machine.name}")
    return Role(
        "role:replsync-states",
        names.states_role,
        role_arn(r, a, names.states_role),
        service_principal("states", r),
        (),
        statements,
        service_conditions=from_account(a, machine_arn),
    )


def _schedule_role(names: _Names, site: Place) -> Role:
    r, a = site.region, site.account_id
    machine = arn("states", r, a, f"stateMachine:{names.state_machine}")
    statement = Statement("StartPromotion", ("states:StartExecution",), (machine,))
    rule = arn("events", r, a, f"rule/{names.rule}")
    return Role(
        "role:replsync-schedule",
        names.schedule_role,
        role_arn(r, a, names.schedule_role),
        service_principal("events", r),
        (),
        (statement,),
        service_conditions=from_account(a, rule),
    )


def _definition(ctx: Context, names: _Names, site: Place, own: Host) -> str:
    """Migrate along `promote`, then sync reference data per target; stop at the first failure."""
    sync = ctx.spec.sync
    assert sync is not None
    steps: list[tuple[str, dict[str, Any]]] = []
    for i, env in enumerate(sync.schema_.promote if sync.schema_ else ()):
        # Later steps apply the object versions the first one listed: one set per run.
        versions = {"versions.$": MIGRATE_VERSIONS} if i else {}
        steps.append((f"Migrate {env}", {"action": "migrate", "target": env, **versions}))
    for target, source in reference_routes(ctx.spec).items():
        payload = {"action": "sync_reference_data", "source": source, "target": target}
        steps.append((f"Sync reference data to {target}", payload))
    topic = arn("sns", site.region, site.account_id, own.topic)
    states: dict[str, Any] = {}
    for i, (name, payload) in enumerate(steps):
        nxt = {"Next": steps[i + 1][0]} if i + 1 < len(steps) else {"End": True}
        states[name] = {
            "Type": "Task",
            "Resource": f"arn:{partition(site.region)}:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": names.function,
                "Payload": {**payload, "dry_run": False},
            },
            "ResultSelector": {"result.$": "$.Payload"},
            "ResultPath": f"$.results.step{i + 1}",
            "Retry": [
                {
                    "ErrorEquals": list(TRANSIENT_ERRORS),
                    "IntervalSeconds": 10,
                    "MaxAttempts": 3,
                    "BackoffRate": 2.0,
                }
            ],
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify failure"}
            ],
            **nxt,
        }
    states["Notify failure"] = {
        "Type": "Task",
        "Resource": f"arn:{partition(site.region)}:states:::sns:publish",
        "Parameters": {
            "TopicArn": topic,
            "Subject": f"replgen {names.prefix}: promotion failed",
            "Message.$": "States.JsonToString($.error)",
        },
        "Next": "Failed",
    }
    states["Failed"] = {
        "Type": "Fail",
        "Error": "PromotionFailed",
        "Cause": "a step failed; see the notification",
    }
    document = {
        "Comment": f"replgen {names.prefix}: promote schema and reference data",
        "StartAt": steps[0][0],
        "States": states,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _alarms(
    ctx: Context, names: _Names, site: Place, fn: Function, machine: StateMachine
) -> tuple[Alarm, ...]:
    sync = ctx.spec.sync
    assert sync is not None
    make = ctx.namer.make
    # Only reference-data targets are ever brought up to date, so only they report staleness.
    targets = sync.reference_data.targets if sync.reference_data else ()
    # Staleness is reported only when a run brings a target up to date, so silence is the
    # signal: the alarm fires when no refresh landed for lag_alarm_seconds + the schedule's
    # longest gap (missing data breaches), or a refresh ended that stale.
    gap = cadence.period_seconds(sync.schedule)
    budget = sync.lag_alarm_seconds + gap
    period, evaluations = cadence.alarm_window(budget)
    lag = tuple(
        Alarm(
            name=make("alarm", site.slug, "sync-lag", env),
            description=(
                f"{env} has not matched its source for over {budget} s "
                f"(lag_alarm_seconds {sync.lag_alarm_seconds} + schedule gap {gap})"
            ),
            namespace=f"replgen/{ctx.spec.name}",
            metric="TargetStalenessSeconds",
            dimensions=(("Target", env),),
            statistic="Maximum",
            period=period,
            evaluation_periods=evaluations,
            threshold=float(budget),
            unit="Seconds",
            comparison="GreaterThanThreshold",
            treat_missing="breaching",
            topic="topic",
        )
        for env in targets
    )
    errors = Alarm(
        name=make("alarm", site.slug, "replsync-errors"),
        description=f"{fn.name} failed",
        namespace="AWS/Lambda",
        metric="Errors",
        dimensions=(("FunctionName", fn.name),),
        statistic="Sum",
        period=300,
        evaluation_periods=1,
        threshold=1.0,
        unit="Count",
        comparison="GreaterThanOrEqualToThreshold",
        treat_missing="notBreaching",
        topic="topic",
    )
    failed = Alarm(
        name=make("alarm", site.slug, "promotion-failed"),
        description=f"{machine.name} execution failed",
        namespace="AWS/States",
        metric="ExecutionsFailed",
        dimensions=(
            (
                "StateMachineArn",
                arn("states", site.region, site.account_id, f"stateMachine:{machine.name}"),
            ),
        ),
        statistic="Sum",
        period=300,
        evaluation_periods=1,
        threshold=1.0,
        unit="Count",
        comparison="GreaterThanOrEqualToThreshold",
        treat_missing="notBreaching",
        topic="topic",
    )
    return (*lag, errors, failed)
