"""spec -> plan: every topology decision, made once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from replgen.errors import KeyPath, Problem, SpecError
from replgen.plan import database, deployment, protection, quotas, waivers
from replgen.plan import dr as dr_plan
from replgen.plan import sync as sync_plan
from replgen.plan import tags as plan_tags
from replgen.plan.arns import arn, partition, role_arn, service_principal
from replgen.plan.components import check_refs, site_key
from replgen.plan.context import Context, slug
from replgen.plan.dr import Member
from replgen.plan.iam import from_account
from replgen.plan.identities import assert_unique
from replgen.plan.model import (
    AclEntry,
    Bucket,
    Code,
    Join,
    Key,
    LogGroup,
    Network,
    ParameterWriter,
    Peering,
    Place,
    Plan,
    Ref,
    Role,
    SecurityGroup,
    Site,
    StateBackend,
    Statement,
    Topic,
)
from replgen.plan.names import Namer
from replgen.plan.network import (
    INTERFACE_ENDPOINTS,
    Flow,
    acl_entries,
    carve,
    health_port,
    security_groups,
)
from replgen.plan.parts import Parts
from replgen.plan.refs import refs_in
from replgen.plan.waivers import Waiver
from replgen.spec.models import Spec
from replgen.spec.view import (
    SiteEntry,
    deletion_protection,
    network_settings,
    site_entries,
)


def build(spec: Spec, artifacts: dict[str, Code]) -> Plan:
    """The plan for a validated spec; raises SpecError where a name breaks a service limit."""
    tags = _tags(spec)  # first: every name made below starts with these values
    namer = Namer(spec.name, spec.suffix, [])
    raised = tuple((k, v) for k, v in spec.quotas.model_dump().items() if v is not None)
    ctx = Context(spec, namer, tuple(site_entries(spec)), artifacts, quotas.Limits(raised))
    _check_peerings(ctx)
    flows = _flows(ctx)
    places = {e.id: _place(ctx, e) for e in ctx.entries}
    shared = _Shared(
        flows,
        dr_plan.topology(
            ctx,
            list(places.values()),
            {e.id: database.cluster_id_of(ctx, e) for e in ctx.entries},
            {e.id: _topic_name(ctx, e) for e in ctx.entries},
        ),
        _sync(ctx, places),
        tuple(_peering(ctx, a, b) for a, b in spec.peering),
    )
    sites = [_site(ctx, entry, places[entry.id], shared) for entry in ctx.entries]
    namer.raise_problems()
    _check_sites(ctx, sites)
    state = (
        StateBackend("s3", spec.state.bucket, spec.state.region)
        if spec.state.bucket
        else StateBackend("local")
    )
    multi_account = any(s.deploy_role_arn for s in sites)
    plan = Plan(
        spec.name,
        spec.suffix,
        tuple(sites),
        shared.peerings,
        state,
        tags,
        deployment.bootstraps(
            namer.prefix,
            sites,
            spec.state.deploy_role if multi_account else None,
            spec.accounts.get(spec.state.deploy_from or "", spec.state.deploy_from),
        ),
        deployment.pauses(sites),
    )
    check_refs(plan)
    return assert_unique(plan)


def _tags(spec: Spec) -> plan_tags.Tags:
    """The tags on every resource, from the spec's name and suffix: AWS must accept them."""
    pairs = (("name", "replgen:topology", spec.name), ("suffix", "replgen:suffix", spec.suffix))
    problems = [
        Problem((field,), f"{why} (it tags every resource)")
        for field, key, value in pairs
        if (why := plan_tags.pair_problem(key, value))
    ]
    if problems:
        raise SpecError(problems)
    return tuple((key, value) for _, key, value in pairs)


# ---------------------------------------------------------------- quotas


def _peers(ctx: Context, site_id: str) -> list[str]:
    return [b if a == site_id else a for a, b in ctx.spec.peering if site_id in (a, b)]


def _check_peerings(ctx: Context) -> None:
    """Peerings per VPC is a hard limit, and every peering adds a route to the private
    route table: no design fits more than either allows."""
    for entry in ctx.entries:
        count = len(_peers(ctx, entry.id))
        quotas.enforce(ctx.limits, quotas.PEERINGS, ("peering",), entry.id, count)
        # + the VPC's local route, and the default route where the subnets have a NAT
        routes = count + 1 + len(_gateway_endpoints(ctx, entry)) + _internet_egress(ctx, entry)
        subject = f"{entry.id}'s private route table"
        quotas.enforce(ctx.limits, quotas.ROUTES, ("peering",), subject, routes)


def _check_sites(ctx: Context, sites: list[Site]) -> None:
    """Function environments within Lambda's 4 KB, and no more values read from other
    stacks than a template takes parameters (each is one parameter in CloudFormation)."""
    by_id = {s.id: s for s in sites}
    for site in sites:
        entry = ctx.entry(site.id)
        for fn in site.functions:
            size = sum(len(k) + _estimate(v, by_id) for k, v in fn.environment)
            replsync = fn.key in ("function:replsync", "function:replsync-boot")
            path: KeyPath = ("sync",) if replsync else entry.path[:2]
            subject = f"the function {fn.name}"
            quotas.enforce(ctx.limits, quotas.LAMBDA_ENVIRONMENT, path, subject, size)
        # + the template's own parameters (artifact bucket, instance class, ...)
        reads = len({r for r in refs_in(site) if r.site != site.id}) + OWN_PARAMETERS
        subject = f"{site.id}'s stack"
        quotas.enforce(ctx.limits, quotas.TEMPLATE_PARAMETERS, entry.path[:2], subject, reads)


# Parameters a site's template declares besides the values it reads from other stacks.
OWN_PARAMETERS = 10


def _estimate(value: object, sites: dict[str, Site]) -> int:
    """The most bytes a value can take once deployed (see quotas.REF_BYTES)."""
    if isinstance(value, Join):
        return sum(_estimate(p, sites) for p in value.parts)
    if isinstance(value, Ref):
        if (value.component, value.attr) == ("cluster", "endpoint"):
            site = sites[value.site]
            return len(site.database.cluster_id) + len(site.region) + quotas.ENDPOINT_EXTRA
        return quotas.REF_BYTES
    return len(str(value))


def _internet_egress(ctx: Context, entry: SiteEntry) -> bool:
    """txnproc verifies the ALB's OIDC token with a key fetched from the region's public-keys
    endpoint, which has no VPC endpoint: only then do the private subnets reach the internet."""
    dr_member = entry.environment == dr_plan.environment(ctx.spec)
    return dr_member and ctx.spec.api is not None and ctx.spec.api.auth == "oidc"


def _gateway_endpoints(ctx: Context, entry: SiteEntry) -> tuple[str, ...]:
    dr_member = entry.environment == dr_plan.environment(ctx.spec)
    return ("s3", "dynamodb") if dr_member else ("s3",)


# ---------------------------------------------------------------- flows across peerings


def _private_cidrs(ctx: Context, entry: SiteEntry) -> tuple[str, ...]:
    azs = network_settings(ctx.spec, entry.environment)["azs"].value
    public = entry.environment == dr_plan.environment(ctx.spec)
    private, _ = carve(entry.cidr, azs, public, slug(entry), ctx.namer.prefix)
    return tuple(s.cidr for s in private)


def _flows(ctx: Context) -> list[Flow]:
    """Database traffic that is allowed: from the sync functions only, where there is sync."""
    if ctx.spec.sync:
        host = ctx.entry(ctx.spec.sync.runs_in)
        return [
            Flow(
                host.id,
                _private_cidrs(ctx, host),
                server.id,
                _private_cidrs(ctx, server),
                ctx.port(env),
            )
            for env in sync_plan.touched_environments(ctx.spec)
            for server in [ctx.primary_site(env)]
        ]
    flows = [
        Flow(e.id, _private_cidrs(ctx, e), e.id, _private_cidrs(ctx, e), ctx.port(e.environment))
        for e in ctx.entries
        if e.environment == dr_plan.environment(ctx.spec)  # txnproc and its regional cluster
    ]
    for a, b in ctx.spec.peering:
        for client, server in ((a, b), (b, a)):
            c, s = ctx.entry(client), ctx.entry(server)
            flows.append(
                Flow(
                    c.id,
                    _private_cidrs(ctx, c),
                    s.id,
                    _private_cidrs(ctx, s),
                    ctx.port(s.environment),
                )
            )
    return flows


# ---------------------------------------------------------------- one site


@dataclass(frozen=True)
class _Shared:
    """What the sites' builders share: the allowed flows, and the parts that span sites
    (disaster recovery's members, the sync's roles and names, the peerings)."""

    flows: list[Flow]
    recovery: dr_plan.Topology | None
    sync: sync_plan.Sync | None
    peerings: tuple[Peering, ...]


def _place(ctx: Context, entry: SiteEntry) -> Place:
    env = ctx.spec.environments[entry.environment]
    return Place(
        id=entry.id,
        slug=slug(entry),
        environment=entry.environment,
        region=ctx.region(entry),
        account_id=ctx.account(entry),
        account_alias=env.account,
        production=env.production,
        deletion_protection=deletion_protection(ctx.spec, entry.environment),
        primary=entry.primary,
    )


def _sync(ctx: Context, places: dict[str, Place]) -> sync_plan.Sync | None:
    return sync_plan.Sync(ctx, places) if ctx.spec.sync else None


def _site(ctx: Context, entry: SiteEntry, place: Place, shared: _Shared) -> Site:
    """A site, made once: its own components, then what each part of the plan adds."""
    recovery = shared.recovery
    member = recovery is not None and place.environment == recovery.primary.environment
    has_functions = bool(ctx.spec.sync and ctx.spec.sync.runs_in == entry.id) or member
    network = _network(ctx, entry, shared.flows, has_functions, member)
    db = database.database(ctx, entry, place, recovery if member else None)
    topic = Topic(
        "topic",
        _topic_name(ctx, entry),
        ctx.spec.notifications.emails,
        site_key(entry.id),
        dr_plan.subscribers(recovery, place),
    )
    writer_logs = LogGroup(
        ctx.namer.check("log", f"/replgen/{ctx.namer.prefix}/{slug(entry)}/parameter-writer"),
        365,
        site_key(entry.id),
    )
    parts = Parts(
        buckets=_migration_buckets(ctx, entry),
        roles=(_flow_logs_role(ctx, entry, network), database.monitoring_role(ctx, entry, db)),
        alarms=(db.replica_lag_alarm,) if db.replica_lag_alarm else (),
        log_groups=(network.flow_logs, writer_logs),
    )
    if shared.sync is not None:
        migrations = next(b for b in parts.buckets if b.key == "bucket:migrations")
        parts += shared.sync.parts(place, sync_plan.Host(migrations.name, topic.name))
    if member:
        assert recovery is not None
        as_member = Member(**_identity(place), database=db, topic=topic)
        parts += dr_plan.member_parts(recovery, as_member, parts)
    parts += protection.parts(ctx.namer, place, parts)
    parts += Parts(roles=_accept_roles(ctx, place, shared.peerings))
    return Site(
        **_identity(place),
        network=network,
        key=_key(ctx, entry, parts, protection.key_window(place)),
        database=db,
        parameters=(database.connection_parameter(ctx, entry, db),),
        topic=topic,
        parameter_writer=ParameterWriter(
            writer_logs,
            waivers=waivers.waive(Waiver.WRITER_OUTSIDE_VPC, Waiver.INLINE_CODE_NOT_SIGNED),
        ),
        deploy_role_arn=_deploy_role(ctx, place),
        **parts.components(),
    )


def _identity(place: Place) -> dict[str, Any]:
    return {f.name: getattr(place, f.name) for f in fields(Place)}


def _network(
    ctx: Context, entry: SiteEntry, flows: list[Flow], has_functions: bool, dr_member: bool
) -> Network:
    settings = network_settings(ctx.spec, entry.environment)
    s = slug(entry)
    private, public = carve(entry.cidr, settings["azs"].value, dr_member, s, ctx.namer.prefix)
    for subnet in private + public:
        ctx.namer.check("tag", subnet.name)
    peers = [(p, ctx.entry(p).cidr) for p in _peers(ctx, entry.id)]
    port = ctx.port(entry.environment)
    acl_limit = ctx.limits(quotas.NACL_RULES)
    acl = acl_entries(entry.id, entry.cidr, flows, peers, has_functions, acl_limit)
    groups = security_groups(
        entry.id,
        f"{ctx.namer.prefix}-{s}",
        entry.cidr,
        port,
        flows,
        has_functions,
        dr_member,
        health_port(ctx.spec.api.auth if ctx.spec.api else None),
        ctx.limits(quotas.SG_RULES),
    )
    _check_network(ctx, entry, acl, groups)
    return Network(
        vpc_name=ctx.namer.make("tag", s, "vpc"),
        cidr=entry.cidr,
        private_subnets=private,
        public_subnets=public,
        gateway_endpoints=_gateway_endpoints(ctx, entry),
        interface_endpoints=(INTERFACE_ENDPOINTS + (("sqs",) if dr_member else ()))
        if has_functions
        else (),
        endpoint_accounts=tuple(
            sorted({ctx.spec.accounts[e.account] for e in ctx.spec.environments.values()})
        ),
        acl_entries=acl,
        security_groups=groups,
        internet_egress=_internet_egress(ctx, entry),
        nat_subnet=public[0] if _internet_egress(ctx, entry) else None,
        flow_logs=LogGroup(
            ctx.namer.check("log", f"/replgen/{ctx.namer.prefix}/{s}/flow-logs"),
            settings["flow_log_retention_days"].value,
            site_key(entry.id),
            waivers.retention(settings["flow_log_retention_days"].value, Waiver.FLOW_LOG_RETENTION),
        ),
        flow_logs_role="role:flowlogs",
        function_groups=tuple(g.role for g in groups if g.role.startswith("functions")),
        az_waivers=waivers.waive(Waiver.NTH_ZONE),
    )


def _check_network(
    ctx: Context, entry: SiteEntry, acl: tuple[AclEntry, ...], groups: tuple[SecurityGroup, ...]
) -> None:
    """What even the fitted design cannot hold: refused with the quota named."""
    count = max(sum(1 for e in acl if e.egress == egress) for egress in (False, True))
    subject = f"{entry.id}'s network ACL"
    quotas.enforce(ctx.limits, quotas.NACL_RULES, entry.path, subject, count)
    for group in groups:
        subject = f"{entry.id}'s {group.role} security group"
        count = max(len(group.ingress), len(group.egress))
        quotas.enforce(ctx.limits, quotas.SG_RULES, entry.path, subject, count)
    count = sum(1 for g in groups if g.role.startswith("functions"))
    subject = f"{entry.id}'s functions"
    quotas.enforce(ctx.limits, quotas.SG_PER_INTERFACE, entry.path, subject, count)


def _key(ctx: Context, entry: SiteEntry, parts: Parts, deletion_window_days: int) -> Key:
    """The site key, made last: its policy names every log group of the site's parts."""
    region, account = ctx.region(entry), ctx.account(entry)
    p = partition(region)
    return Key(
        alias=ctx.namer.check("alias", f"alias/{ctx.namer.prefix}-{slug(entry)}"),
        description=f"replgen {ctx.namer.prefix} {entry.id}: databases, secrets, logs, topics",
        external_arn=entry.kms_key_arn,
        service_principals=tuple(
            service_principal(s, region) for s in ("cloudwatch", "events", "sns")
        ),
        log_group_arns=tuple(
            arn("logs", region, account, f"log-group:{g.name}") for g in parts.log_groups
        ),
        s3_writers=tuple((b.writer, f"arn:{p}:s3:::{b.name}") for b in parts.buckets if b.writer),
        deletion_window_days=deletion_window_days,
    )


def _flow_logs_role(ctx: Context, entry: SiteEntry, network: Network) -> Role:
    region, account = ctx.region(entry), ctx.account(entry)
    name = ctx.namer.make("role", slug(entry), "flow-logs")
    group = arn("logs", region, account, f"log-group:{network.flow_logs.name}")
    statement = Statement(
        "DeliverFlowLogs",
        ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
        (group, f"{group}:*"),
    )
    return Role(
        network.flow_logs_role,
        name,
        role_arn(region, account, name),
        service_principal("vpc-flow-logs", region),
        (),
        (statement,),
        service_conditions=from_account(account, arn("ec2", region, account, "vpc-flow-log/*")),
    )


def _bucket_name(ctx: Context, entry: SiteEntry, name: str) -> str:
    return ctx.namer.make("bucket", slug(entry), name, ctx.account(entry))


def _topic_name(ctx: Context, entry: SiteEntry) -> str:
    return ctx.namer.make("topic", slug(entry), "alerts")


def _migration_buckets(ctx: Context, entry: SiteEntry) -> tuple[Bucket, ...]:
    logs_purpose, scripts = "S3 access logs", "database migration scripts"

    def local(purpose: str) -> str:
        return waivers.stays_in_region(purpose, entry.id)

    logs = Bucket(
        "bucket:access-logs",
        _bucket_name(ctx, entry, "access-logs"),
        logs_purpose,
        kms_key=None,
        expire_days=365,
        noncurrent_expire_days=30,
        access_log_bucket=None,
        access_log_prefix="",
        waivers=waivers.bucket(log_target=True, logged=False, kms=False, local=local(logs_purpose)),
    )
    writer = ctx.spec.sync.migrations_writer if ctx.spec.sync else None
    migrations = Bucket(
        "bucket:migrations",
        _bucket_name(ctx, entry, "migrations"),
        scripts,
        kms_key=site_key(entry.id),
        expire_days=30,
        noncurrent_expire_days=30,
        access_log_bucket=logs.key,
        access_log_prefix="migrations/",
        writer=writer,
        write_prefix="migrations/",  # where replsync reads them
        write_exempt=_deployer(ctx, entry) if writer else (),
        waivers=waivers.bucket(log_target=False, logged=True, kms=True, local=local(scripts)),
    )
    return (logs, migrations)


def _deployer(ctx: Context, entry: SiteEntry) -> tuple[str, ...]:
    """The role deployments assume in the site's account, where the topology spans accounts
    (see _deploy_role): it may still empty a bucket it is deleting."""
    if len(set(ctx.spec.accounts[e.account] for e in ctx.spec.environments.values())) == 1:
        return ()
    return (role_arn(ctx.region(entry), ctx.account(entry), ctx.spec.state.deploy_role),)


# ---------------------------------------------------------------- peering


def _peering_id(a: str, b: str) -> str:
    return f"{a.replace('/', '-')}-{b.replace('/', '-')}"


def _peering(ctx: Context, a: str, b: str) -> Peering:
    req, acc = ctx.entry(a), ctx.entry(b)
    cross_account = ctx.account(req) != ctx.account(acc)
    role = ctx.namer.make("role", slug(acc), "accept", slug(req)) if cross_account else None
    return Peering(
        id=_peering_id(a, b),
        name=ctx.namer.make("tag", _peering_id(a, b)),
        requester=req.id,
        accepter=acc.id,
        requester_cidr=req.cidr,
        accepter_cidr=acc.cidr,
        accepter_account=ctx.account(acc),
        accepter_region=ctx.region(acc),
        cross_account=cross_account,
        cross_region=ctx.region(req) != ctx.region(acc),
        accepter_role=role,
        requester_account=ctx.account(req),
        port=ctx.port(acc.environment),
        requester_vpc=Ref(req.id, "vpc", "id"),
        accepter_vpc=Ref(acc.id, "vpc", "id"),
        requester_route_table=Ref(req.id, "private_route_table", "id"),
        accepter_route_table=Ref(acc.id, "private_route_table", "id"),
    )


def _accept_role(ctx: Context, peering: Peering) -> Role:
    """The role in the accepter account that the requester assumes to accept the connection."""
    assert peering.accepter_role is not None
    region, account = peering.accepter_region, peering.accepter_account
    requester_region = ctx.region(ctx.entry(peering.requester))
    own_vpc = Join((arn("ec2", region, account, "vpc/"), peering.accepter_vpc))
    # The requester's VPC id exists only once its site stack has run, and the accepter's
    # stack (holding this role) may deploy before it: the requester's account and region
    # are what is known here. The connection itself names the exact VPCs.
    requester_vpcs = arn("ec2", requester_region, peering.requester_account, "vpc/*")
    statement = Statement(
        "AcceptPeeringIntoThisVpc",
        ("ec2:AcceptVpcPeeringConnection",),
        (arn("ec2", region, account, "vpc-peering-connection/*"),),
        (
            ("ArnEquals", "ec2:AccepterVpc", (own_vpc,)),
            ("ArnLike", "ec2:RequesterVpc", (requester_vpcs,)),
        ),
    )
    # Who asks: the role deployments assume in the requester's account (CloudFormation
    # accepts with the credentials that deploy the requester's peering stack).
    requester = role_arn(requester_region, peering.requester_account, ctx.spec.state.deploy_role)
    trusted = ((peering.requester_account, requester),)
    return Role(
        f"role:accept:{peering.id}",
        peering.accepter_role,
        role_arn(region, account, peering.accepter_role),
        None,
        trusted,
        (statement,),
        waivers=waivers.account_trust(trusted),
    )


def _accept_roles(ctx: Context, site: Place, peerings: tuple[Peering, ...]) -> tuple[Role, ...]:
    return tuple(
        _accept_role(ctx, p) for p in peerings if p.accepter == site.id and p.accepter_role
    )


def _deploy_role(ctx: Context, site: Place) -> str | None:
    """The role a deployment assumes in the site's account, where the topology spans
    accounts; None where every site shares one."""
    if len({ctx.account(e) for e in ctx.entries}) == 1:
        return None
    return role_arn(site.region, site.account_id, ctx.spec.state.deploy_role)
