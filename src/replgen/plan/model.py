"""The plan: everything that will be built, resolved and backend-neutral.

Backends translate this and nothing else. Values known only at deploy time
(an endpoint, a generated secret's ARN) are `Ref`s to a component of a site;
each backend maps a Ref to its own reference (a GetAtt, a stack parameter, a
Terraform expression). Every other value is final here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from replgen.plan.waivers import Waived, not_replicated

# Parts of an upload nobody completed within a week are debris: every bucket drops them.
ABORT_MULTIPART_DAYS = 7

SiteId = str  # "dev", or "prod/us-east-1" for an environment with several regions


@dataclass(frozen=True)
class Ref:
    """A deploy-time value: attribute `attr` of component `component` in `site`."""

    site: SiteId
    component: str  # "vpc", "key", "cluster", "secret", "peering:<id>", "bucket:<name>", ...
    attr: str  # "id", "arn", "endpoint", ...


Value = str | int | Ref


@dataclass(frozen=True)
class Join:
    """A string assembled from literals and refs (a connection string, a JSON document)."""

    parts: tuple[Value, ...]


# ---------------------------------------------------------------- network


@dataclass(frozen=True)
class Subnet:
    name: str
    cidr: str
    az_index: int  # backends pick the nth AZ the account offers; names differ per account
    public: bool


@dataclass(frozen=True)
class AclEntry:
    """A network ACL entry on the private subnets (ACLs are stateless: both directions)."""

    number: int
    egress: bool
    protocol: Literal["tcp", "all"]
    from_port: int
    to_port: int
    cidr: str
    allow: bool
    reason: str
    waivers: tuple[Waived, ...] = ()


@dataclass(frozen=True)
class SgRule:
    protocol: Literal["tcp"]
    from_port: int
    to_port: int
    cidr: str
    description: str


@dataclass(frozen=True)
class SecurityGroup:
    # "database", "functions", "endpoints", "alb"; "functions-db-<n>" where the functions'
    # database rules exceed one group's quota.
    role: str
    name: str
    description: str
    ingress: tuple[SgRule, ...]
    egress: tuple[SgRule, ...]


@dataclass(frozen=True)
class LogGroup:
    name: str
    retention_days: int
    kms_key: Ref  # the site key, which encrypts its events
    waivers: tuple[Waived, ...] = ()


@dataclass(frozen=True)
class Network:
    vpc_name: str
    cidr: str
    private_subnets: tuple[Subnet, ...]
    public_subnets: tuple[Subnet, ...]
    gateway_endpoints: tuple[str, ...]  # service short names: "s3", "dynamodb"
    interface_endpoints: tuple[str, ...]  # "secretsmanager", "ssm", "kms", "logs", ...
    endpoint_accounts: tuple[str, ...]  # every endpoint admits these accounts only
    acl_entries: tuple[AclEntry, ...]
    security_groups: tuple[SecurityGroup, ...]
    flow_logs: LogGroup
    flow_logs_role: str  # component key of the role VPC Flow Logs delivers with
    # Roles of the security groups functions in the VPC join: "functions", plus the groups
    # holding its database rules where those exceed one group's quota.
    function_groups: tuple[str, ...] = ("functions",)
    # A NAT gateway for the private subnets: only where txnproc must fetch the ALB's OIDC
    # signing keys, which no VPC endpoint serves. Everything else stays on endpoints.
    internet_egress: bool = False
    # The public subnet the NAT gateway stands in, where there is one (the first AZ's).
    nat_subnet: Subnet | None = None
    # Of the availability-zone lookup, where a backend reads the zones as a resource.
    az_waivers: tuple[Waived, ...] = ()

    @property
    def key(self) -> str:
        return "network"


@dataclass(frozen=True)
class Peering:
    id: str  # "dev-staging": stable, used for logical ids and names
    name: str
    requester: SiteId
    accepter: SiteId
    requester_cidr: str
    accepter_cidr: str
    accepter_account: str
    accepter_region: str
    cross_account: bool
    cross_region: bool
    accepter_role: str | None  # role in the accepter account the requester assumes to accept
    requester_account: str
    port: int
    requester_vpc: Ref
    accepter_vpc: Ref
    requester_route_table: Ref
    accepter_route_table: Ref


# ---------------------------------------------------------------- security


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Value | Join, ...]
    conditions: tuple[
        tuple[str, str, tuple[Value | Join, ...]], ...
    ] = ()  # (operator, key, values)
    reason: str = ""  # why a resource is "*" where one is


@dataclass(frozen=True)
class Role:
    key: str  # component key within the site: "role:sync", "role:flowlogs", ...
    name: str
    arn: str  # known in advance, so trust policies elsewhere can name it
    service: str | None  # "lambda.amazonaws.com" etc.
    trusted_roles: tuple[tuple[str, str], ...]  # (account id, role ARN) that may assume it
    statements: tuple[Statement, ...]
    managed_policies: tuple[str, ...] = ()
    # Conditions on the service's AssumeRole (aws:SourceAccount, aws:SourceArn): the service
    # may assume the role only for this account's resources (confused-deputy prevention).
    service_conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    waivers: tuple[Waived, ...] = ()


@dataclass(frozen=True)
class Key:
    """The site's customer-managed key, or one created beforehand (`external_arn`)."""

    alias: str
    description: str
    external_arn: str | None
    service_principals: tuple[str, ...]  # services that encrypt with it in this site
    log_group_arns: tuple[str, ...]  # encryption-context condition for CloudWatch Logs
    # Days a deleted key waits before it is gone (7 to 30): the longest where it is protected,
    # since every snapshot and recovery point it encrypts is unreadable without it.
    deletion_window_days: int = 7
    rotation: bool = True  # a new key version every year, the old ones kept for decrypting
    # (role ARN, bucket ARN): a role outside the plan (CI) writing objects into a bucket of the
    # site, which S3 encrypts with this key on its behalf; named so another account's role can.
    s3_writers: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return "key"


# ---------------------------------------------------------------- database


@dataclass(frozen=True)
class Instance:
    id: str  # RDS spreads instances over the subnet group's AZs


@dataclass(frozen=True)
class Database:
    engine: Literal["aurora-mysql", "aurora-postgresql"]
    engine_version: str
    parameter_family: str
    cluster_id: str
    subnet_group: str
    parameter_group: str
    cluster_parameters: tuple[tuple[str, str], ...]
    instances: tuple[Instance, ...]
    instance_class: str  # "db.serverless" for Serverless v2
    serverless: tuple[float, float] | None
    port: int
    database_name: str
    master_username: str
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    log_exports: tuple[str, ...]
    monitoring_interval: int
    monitoring_role: str  # component key of the Enhanced Monitoring role
    performance_insights_days: int
    ca_certificate: str  # the CA that signs the instances' TLS certificates
    global_cluster_id: str | None
    global_role: Literal["primary", "secondary"] | None
    managed_password: bool  # False where RDS cannot manage it (Global Database members)
    secret: MasterSecret | None  # the generated secret of a Global Database's primary
    # A secondary joins the global cluster its primary created: read from that stack, so
    # the secondary is deployed after it.
    global_cluster: Ref | None
    replica_lag_alarm: Alarm | None
    # Encrypts the storage, Performance Insights and the master password's secret.
    kms_key: Ref
    # The snapshot deleting the cluster leaves behind, where the site is protected (None:
    # deleted without one). Derived from the cluster's identity, so it is known in advance.
    final_snapshot: str | None = None
    waivers: tuple[Waived, ...] = ()  # of the cluster

    @property
    def key(self) -> str:
        return "cluster"


@dataclass(frozen=True)
class MasterSecret:
    """A generated master password with a rotation schedule, replicated to the secondaries.

    Rotation runs in AWS's single-user rotation function for the engine (the Serverless
    Application Repository app `rotation_app` of the site's partition, at `rotation_version`)
    in the site's private subnets, with `security_group`: it must reach both the cluster and
    the Secrets Manager endpoint.
    """

    name: str
    description: str
    username: str
    rotation_days: int
    rotation_function: str
    rotation_app: str  # the application's ARN in the site's partition
    rotation_version: str  # pinned: a new version is a reviewed change
    exclude_characters: str  # characters the engines refuse in a password
    password_length: int
    security_group: str  # role of a SecurityGroup of the site's network
    replicas: tuple[tuple[str, Ref], ...]  # (region, key ARN) of each secondary
    kms_key: Ref


@dataclass(frozen=True)
class Parameter:
    name: str
    arn: str
    description: str
    value: Join
    kms_key: Ref  # a SecureString, encrypted with the site key

    @property
    def key(self) -> str:
        return f"parameter:{self.name}"


# ---------------------------------------------------------------- storage


@dataclass(frozen=True)
class Bucket:
    key: str  # component key: "bucket:migrations", "bucket:access-logs", "bucket:<name>"
    name: str
    purpose: str
    # None only for the access-log bucket: S3 server logs can only go to an SSE-S3 bucket.
    kms_key: Ref | None
    expire_days: int | None
    noncurrent_expire_days: int | None
    access_log_bucket: str | None  # component key of the bucket receiving access logs
    access_log_prefix: str
    replication: tuple[Replication, ...] = ()  # one rule per destination region
    replica_of: str | None = None  # the bucket replicating into this one
    abort_multipart_days: int = ABORT_MULTIPART_DAYS
    # The one role (outside the plan: CI) that writes objects, under `write_prefix`; every
    # other principal but `write_exempt` (the deployer) is denied object writes and deletes.
    # None: no deny, and nothing the plan builds is granted writes (administrators only).
    writer: str | None = None
    write_prefix: str = ""
    write_exempt: tuple[str, ...] = ()
    waivers: tuple[Waived, ...] = ()

    def not_replicated(self, site: SiteId) -> str | None:
        """Why this bucket replicates nowhere, or None where it does."""
        return not_replicated(self.name, self.purpose, site, self.replication, self.replica_of)


@dataclass(frozen=True)
class Replication:
    """Cross-region replication of every object version, delete markers included."""

    rule_id: str  # also a dimension of the replication metrics
    destination_bucket: str  # ARN; the bucket is created in an earlier stack
    destination_region: str
    destination_key: Ref  # KMS key ARN in the destination region
    role: str  # component key of the replication role
    time_minutes: int  # S3 Replication Time Control: the replication-time SLA (15 min)


# ---------------------------------------------------------------- functions


@dataclass(frozen=True)
class Code:
    artifact: str  # "replsync"
    filename: str  # "replsync-<sha12>.zip"
    sha256: str
    base64_sha256: str


@dataclass(frozen=True)
class Function:
    key: str  # "function:replsync"
    name: str
    description: str
    code: Code
    handler: str
    runtime: str
    timeout: int
    memory_mb: int
    reserved_concurrency: int
    role: str  # component key of its Role
    environment: tuple[tuple[str, Value | Join], ...]
    log_group: LogGroup
    dead_letter_queue: Queue
    vpc: bool  # in the site's private subnets, with the functions security group
    kms_key: Ref  # encrypts its environment
    waivers: tuple[Waived, ...] = ()  # of the function (its log group has its own)


@dataclass(frozen=True)
class Queue:
    key: str
    name: str
    retention_seconds: int
    visibility_timeout: int
    kms_key: Ref
    dead_letter: Queue | None = None
    max_receives: int = 5


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    target: str  # component key: a state machine or function
    role: str | None  # None for a function, which a Permission lets EventBridge invoke
    input: str | None = None  # constant JSON event, where the target needs one

    @property
    def key(self) -> str:
        return f"schedule:{self.name}"


@dataclass(frozen=True)
class Permission:
    """A service allowed to invoke a function, from one source only."""

    key: str  # "permission:failover-schedule"
    function: str  # component key
    principal: str  # "events.amazonaws.com"
    source_arn: str


@dataclass(frozen=True)
class EventSource:
    """A function reading a queue, reporting failures per message (`ReportBatchItemFailures`)."""

    key: str  # "events:transactions"
    queue: str  # component key
    function: str  # component key
    batch_size: int
    batching_window_seconds: int
    max_concurrency: int  # at most the function's reserved concurrency


@dataclass(frozen=True)
class StateMachine:
    key: str
    name: str
    role: str
    definition: str  # Amazon States Language; every ARN in it is known in advance
    log_group: LogGroup


# ---------------------------------------------------------------- monitoring


@dataclass(frozen=True)
class Invocation:
    """A function the deployment itself invokes, again whenever `payload` changes (replsync's
    bootstrap of the sync's own database user). CloudFormation: a custom resource;
    Terraform: aws_lambda_invocation."""

    key: str  # "invocation:bootstrap-dev"
    function: str  # component key of a function of the same site
    payload: str  # the JSON event; it carries a revision of what the step depends on


@dataclass(frozen=True)
class Alarm:
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, Value], ...]
    statistic: Literal["Maximum", "Sum", "Average"]
    period: int
    evaluation_periods: int
    threshold: float
    unit: str  # the metric's own unit; threshold is expressed in it
    comparison: Literal[
        "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"
    ]
    treat_missing: Literal["notBreaching", "breaching", "missing"]
    topic: str  # component key of the site topic

    @property
    def key(self) -> str:
        return f"alarm:{self.name}"


@dataclass(frozen=True)
class Topic:
    key: str
    name: str
    emails: tuple[str, ...]
    kms_key: Ref
    # Subscribed functions, in any region: (function name, ARN).
    functions: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- disaster recovery


@dataclass(frozen=True)
class OidcAuth:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    user_info_endpoint: str
    client_id: str
    client_secret_arn: str  # read by the deploy: ELB takes the secret itself
    on_unauthenticated: Literal["deny"] = "deny"  # an API answers 401, it does not redirect


@dataclass(frozen=True)
class TrustStore:
    name: str
    bucket: str  # the spec's S3 object holding the client CAs (PEM)
    key: str


@dataclass(frozen=True)
class ApiAuth:
    """How the ALB admits callers. ``mtls`` verifies client certificates against a trust
    store; Route 53's checkers carry none, so ``/health`` (shallow: no data behind it) is
    also served on ``health_port`` without mutual TLS. ``oidc`` authenticates every path but
    ``/health``. ``none`` is an explicit choice; every mode gets the web ACL."""

    mode: Literal["mtls", "oidc", "none"]
    trust_store: TrustStore | None = None  # verified ("verify" mode), never passed through
    oidc: OidcAuth | None = None
    health_port: int = 443
    # What reaches the function without authentication: this method on the health path;
    # anything else on the health port is answered by the ALB itself with this status.
    health_method: str = "GET"
    health_port_default_status: str = "404"


@dataclass(frozen=True)
class WebAcl:
    """AWS WAF in front of an ALB: a rate limit per source IP, then AWS's managed rule groups
    (the common rule set; known bad inputs, which covers Log4Shell); logs to CloudWatch."""

    name: str
    rate_limit: int  # requests per source IP per 5 minutes
    managed_rule_groups: tuple[str, ...]
    log_group: LogGroup  # named aws-waf-logs-*: WAF delivers only to such groups

    @property
    def key(self) -> str:
        return "web_acl"


@dataclass(frozen=True)
class LoadBalancer:
    """An internet-facing ALB in the public subnets, HTTPS only, forwarding to a function."""

    name: str
    target_group: str
    function: str  # component key of the target
    domain: str  # the certificate's domain: this site's regional record
    alternative_names: tuple[str, ...]  # the weighted record every region answers
    zone_id: Ref  # where the certificate is validated by DNS
    ssl_policy: str
    idle_timeout: int
    access_logs_bucket: str  # component key; ELB writes its logs with SSE-S3
    access_logs_prefix: str
    # Who writes access logs: ("AWS", the region's ELB account root), or ("Service", the
    # log-delivery service principal) in regions opened after August 2022.
    log_writer: tuple[Literal["AWS", "Service"], str]
    health_check_path: str
    permission: str  # component key of the Permission letting ELB invoke the function
    auth: ApiAuth
    web_acl: WebAcl
    health_check_matcher: str = "200"  # txnproc answers 503 when unhealthy
    certificate_key_algorithm: str = "RSA_2048"  # what every client still accepts
    waivers: tuple[Waived, ...] = ()  # of the load balancer

    @property
    def key(self) -> str:
        return "load_balancer"


@dataclass(frozen=True)
class HealthCheck:
    key: str  # "healthcheck:prod-us-east-1"
    name: str
    fqdn: str  # the site's regional record: known before its ALB exists
    path: str
    port: int
    interval: int
    failure_threshold: int
    protocol: Literal["HTTPS"] = "HTTPS"
    sni: bool = True  # the ALB picks the certificate by name


@dataclass(frozen=True)
class Zone:
    """The public hosted zone and the health checks of every region, built with the primary."""

    name: str
    comment: str
    health_checks: tuple[HealthCheck, ...]
    waivers: tuple[Waived, ...] = ()  # of the hosted zone

    @property
    def key(self) -> str:
        return "zone"


@dataclass(frozen=True)
class Record:
    """A site's records: its own regional name, and its weight in the shared name."""

    zone_id: Ref
    regional_name: str
    weighted_name: str
    set_identifier: str
    weight: int  # 100 for the primary, 0 for a secondary: traffic moves only on health
    health_check: Ref
    # The regional name answers whatever the ALB's health (the health check probes it); the
    # weighted name only while the ALB has healthy targets.
    regional_evaluates_health: bool = False
    weighted_evaluates_health: bool = True

    @property
    def key(self) -> str:
        return "record"


@dataclass(frozen=True)
class GlobalTable:
    """A DynamoDB global table, created in the primary's stack with a replica per region."""

    name: str
    hash_key: str
    ttl_attribute: str
    replicas: tuple[tuple[str, Ref], ...]  # (region, KMS key ARN), the primary's first
    billing_mode: Literal["PAY_PER_REQUEST"] = "PAY_PER_REQUEST"  # sessions come in bursts
    point_in_time_recovery: bool = True  # in every replica
    # Global tables replicate through streams, which need both images.
    stream_view: Literal["NEW_AND_OLD_IMAGES"] = "NEW_AND_OLD_IMAGES"

    @property
    def key(self) -> str:
        return "table"


@dataclass(frozen=True)
class BackupPlan:
    vault: str
    plan: str
    rule: str
    selection: str
    schedule: str  # cron() in UTC
    start_window_minutes: int
    completion_window_minutes: int
    retention_days: int
    role: str  # component key
    resources: tuple[Value, ...]  # the clusters it selects: a Ref to the site's own
    kms_key: Ref  # encrypts the vault's recovery points
    lock: VaultLock | None = None  # where the spec asks, on protected sites only

    @property
    def key(self) -> str:
        return "backup"


@dataclass(frozen=True)
class VaultLock:
    """AWS Backup Vault Lock in governance mode (no `changeable_for_days`: a user with
    `backup:DeleteBackupVaultLockConfiguration` can still remove it)."""

    min_retention_days: int
    max_retention_days: int


@dataclass(frozen=True)
class Emptier:
    """What must be emptied before the stack deleting it can: CloudFormation deletes neither a
    bucket holding objects nor a vault holding recovery points. Only on destroyable sites;
    Terraform empties both itself (`force_destroy`). A backend that needs a function for it
    logs to `log_group`, and acts only while the stack itself is deleted and only on
    resources carrying `tag`: removing the emptier from a stack (the site became protected,
    an identity changed) empties nothing."""

    foundation: bool  # in the site's foundation stack, else its main stack
    log_group: LogGroup
    buckets: tuple[str, ...]  # component keys
    vault: bool  # the site's backup vault
    statements: tuple[Statement, ...]  # what emptying them takes, on their exact ARNs
    # Lambda may assume its role only for this account (aws:SourceAccount).
    service_conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    tag: tuple[str, str] = ("replgen:empty-on-delete", "true")
    waivers: tuple[Waived, ...] = ()  # of its function (its log group has its own)

    @property
    def key(self) -> str:
        """One emptier per stack: the foundation's, or the site stack's."""
        return "emptier:foundation" if self.foundation else "emptier:stack"


@dataclass(frozen=True)
class ParameterWriter:
    """Writes the site's SecureString parameters at deploy time, for a backend whose language
    has no resource for them (CloudFormation: the function of a custom resource, logging to
    `log_group`). A backend that writes them itself renders nothing for it."""

    log_group: LogGroup
    key: str = "parameter-writer"
    waivers: tuple[Waived, ...] = ()  # of its function (its log group has its own)


@dataclass(frozen=True)
class Invoker:
    """Runs the site's invocations at deploy time and waits for each, for a backend that
    needs a function of its own for it (CloudFormation: a custom resource's, logging to
    `log_group`). A backend that invokes functions itself renders nothing for it."""

    log_group: LogGroup
    key: str = "invoker"
    waivers: tuple[Waived, ...] = ()  # of its function (its log group has its own)


# ---------------------------------------------------------------- the site and the plan


@dataclass(frozen=True)
class Place:
    """A site's identity: what every builder of its components may read before they exist."""

    id: SiteId
    slug: str  # "dev", "prod-us-east-1": usable in names and logical ids
    environment: str
    region: str
    account_id: str
    account_alias: str  # the spec's name for the account: stable, unlike the set of sites
    production: bool
    # Protected: clusters refuse deletion and leave a final snapshot; keys, buckets and the
    # backup vault are retained. Otherwise every stack deletes, emptying what it holds.
    deletion_protection: bool
    primary: bool


@dataclass(frozen=True)
class Site(Place):
    """A site is its identity plus its components, each made once and complete."""

    network: Network
    key: Key
    database: Database
    parameters: tuple[Parameter, ...]
    buckets: tuple[Bucket, ...]
    roles: tuple[Role, ...]
    topic: Topic
    alarms: tuple[Alarm, ...]
    functions: tuple[Function, ...] = ()
    queues: tuple[Queue, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    state_machines: tuple[StateMachine, ...] = ()
    invocations: tuple[Invocation, ...] = ()
    invoker: Invoker | None = None  # where the site has invocations
    parameter_writer: ParameterWriter | None = None  # where the site has parameters
    # The role a deployment assumes in this site's account; None where every site shares one.
    deploy_role_arn: str | None = None
    # Component keys ("key", "bucket:<name>", "zone", ...) deployed in a stack of their own
    # before every other stack: other regions' stacks need them first (replica keys,
    # replication targets), and the zone must be delegated before certificates validate.
    foundation: tuple[str, ...] = ()
    load_balancer: LoadBalancer | None = None
    event_sources: tuple[EventSource, ...] = ()
    permissions: tuple[Permission, ...] = ()
    zone: Zone | None = None
    record: Record | None = None
    table: GlobalTable | None = None
    backup: BackupPlan | None = None
    outputs: tuple[tuple[str, Value], ...] = ()  # (name, value) for the people deploying
    emptiers: tuple[Emptier, ...] = ()  # destroyable sites only


@dataclass(frozen=True)
class Bootstrap:
    """What must exist in an account and region before any stack of the topology."""

    slug: str  # "<account>-<region>": names its stack
    account_id: str
    region: str
    bucket: str  # holds the Lambda zips under `artifact_prefix`
    artifact_prefix: str
    noncurrent_days: int  # replaced zips are kept this long
    deploy_role: str | None  # the role deployments assume in this account (once per account)
    deploy_from: str | None = None  # the account the role trusts, where the spec names it
    abort_multipart_days: int = ABORT_MULTIPART_DAYS
    bucket_waivers: tuple[Waived, ...] = ()
    role_waivers: tuple[Waived, ...] = ()


@dataclass(frozen=True)
class Pause:
    """Deployment stops after the stack holding `component` of `site` until a human acts."""

    site: SiteId
    component: str
    reason: str
    show: tuple[Ref, ...]  # values the human needs (the name servers to delegate to)


@dataclass(frozen=True)
class StateBackend:
    kind: Literal["local", "s3"]
    bucket: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Plan:
    name: str
    suffix: str
    sites: tuple[Site, ...]
    peerings: tuple[Peering, ...]
    state: StateBackend
    tags: tuple[tuple[str, str], ...] = field(default=())
    bootstrap: tuple[Bootstrap, ...] = ()
    pauses: tuple[Pause, ...] = ()

    def bootstrap_for(self, site: Site) -> Bootstrap:
        """The bootstrap of the account and region `site` is deployed in."""
        return next(
            b for b in self.bootstrap if (b.account_id, b.region) == (site.account_id, site.region)
        )

    def site(self, site_id: SiteId) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)
