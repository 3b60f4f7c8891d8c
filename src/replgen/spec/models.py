"""The spec as the user writes it (format 1): pydantic models, unknown keys forbidden.

Field-level rules live beside the fields; rules that need the whole document
(references, overlaps, isolation) live in `rules.py`, which reports each with
the exact key path the user must edit.

The docstring under each field is its documentation: the JSON Schema's description
(what an editor shows on hover) and the spec reference are generated from it, by
`schema.py` (pydantic's `use_attribute_docstrings` would parse this file on every run).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from replgen.spec import catalog, schedule

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]{0,63}$"
NAME = r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$"
# An address SNS delivers to and no output format reads as code: a dot-atom local part
# (RFC 5322's characters less `$ % { }`, which Terraform and CloudFormation would evaluate),
# then a host name of dot-separated labels ending in a letters-only TLD.
EMAIL = (
    r"^[A-Za-z0-9!#&'*+/=?^_`|~-]+(\.[A-Za-z0-9!#&'*+/=?^_`|~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$"
ACCOUNT_ID = r"^\d{12}$"
ENV_NAME = r"^[a-z][a-z0-9]{0,15}$"
SITE_REF = r"^[a-z][a-z0-9]{0,15}(/[a-z0-9-]+)?$"
INSTANCE_CLASS = r"^db\.[a-z0-9]+\.[a-z0-9]+$"
DATABASE_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
USERNAME = r"^[A-Za-z][A-Za-z0-9_]{0,15}$"
DNS_ZONE = r"^([a-z0-9-]+\.)+[a-z]{2,}$"
DNS_LABEL = r"^[a-z0-9-]+$"
URL_PATH = r"^/[A-Za-z0-9/_-]*$"
SHORT_NAME = r"^[a-z][a-z0-9-]{0,31}$"
BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
ROLE_NAME = r"^[A-Za-z0-9+=,.@_-]{1,64}$"
ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$"
SUFFIX = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
ACCOUNT_ALIAS = SHORT_NAME  # aliases name Terraform stacks
HTTPS_URL = r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/-]*)?$"
S3_OBJECT = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*'()/-]{1,1024}$"
SECRET_ARN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"
# For editors only: validation parses the network itself and says what is wrong with it.
CIDR_SHAPE = (
    r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"/(1[6-9]|2[0-4])$"
)
SCHEDULE_SHAPE = (
    r"^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)"
    r"|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$"
)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _schema(**extra: object) -> Callable[[dict[str, Any]], None]:
    """Adds keywords to a field's JSON Schema only (validation says it in words instead);
    callables are read when the schema is generated, so catalogs load only then."""

    def update(schema: dict[str, Any]) -> None:
        for key, value in extra.items():
            schema[key] = value() if callable(value) else value

    return update


def _cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 network ({exc})") from None
    if not 16 <= net.prefixlen <= 24:
        raise ValueError(f"{value} must be between /16 and /24 (VPC limits)")
    return str(net)


def _versions() -> list[str]:
    return sorted(
        catalog.engine_versions("aurora-mysql") | catalog.engine_versions("aurora-postgresql")
    )


Cidr = Annotated[str, AfterValidator(_cidr), Field(json_schema_extra=_schema(pattern=CIDR_SHAPE))]
Identifier = Annotated[str, Field(pattern=IDENTIFIER)]
EnvName = Annotated[str, Field(pattern=ENV_NAME)]
# Aliases name Terraform stacks (`<name>-<suffix>-<alias>-<region>`): stack-name characters.
AccountAlias = Annotated[str, Field(pattern=ACCOUNT_ALIAS)]
SiteRef = Annotated[str, Field(pattern=SITE_REF)]
Region = Annotated[str, Field(json_schema_extra=_schema(enum=lambda: sorted(catalog.regions())))]
EngineVersion = Annotated[str, Field(json_schema_extra=_schema(enum=_versions))]


def _quoted(what: str) -> Callable[[object], object]:
    """Refuse a YAML number where text is meant: `011111111111` unquoted is octal to YAML,
    `15.10` is 15.1. The message quotes what the user wrote (see spec/messages.py)."""

    def check(value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise PydanticCustomError("unquoted_number", "write it in quotes", {"what": what})
        return value

    return check


# The pattern is repeated for the schema: a before-validator hides the field's own.
AccountId = Annotated[
    str,
    BeforeValidator(_quoted("account id"), json_schema_input_type=str),
    Field(pattern=ACCOUNT_ID, json_schema_extra=_schema(pattern=ACCOUNT_ID)),
]
Schedule = Annotated[
    str,
    AfterValidator(schedule.check),
    Field(json_schema_extra=_schema(pattern=SCHEDULE_SHAPE)),
]
CronSchedule = Annotated[
    str,
    AfterValidator(schedule.check_cron),
    Field(json_schema_extra=_schema(pattern=r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")),
]


def _local_part(value: str) -> str:
    local = value.rpartition("@")[0]
    if len(local) > 64:
        raise ValueError(f"the name before @ in {value!r} is {len(local)} characters (at most 64)")
    return value


Email = Annotated[str, Field(pattern=EMAIL, max_length=254), AfterValidator(_local_part)]


class Serverless(Model):
    """Aurora Serverless v2 capacity, in Aurora capacity units."""

    min_acu: float = Field(ge=0, le=256, multiple_of=0.5)
    """Lowest capacity in ACUs (0 to 256, in steps of 0.5); 0 lets an idle cluster pause."""
    max_acu: float = Field(ge=1, le=256, multiple_of=0.5)
    """Highest capacity in ACUs (1 to 256, in steps of 0.5), at least `min_acu`."""

    @model_validator(mode="after")
    def _ordered(self) -> Serverless:
        if self.min_acu > self.max_acu:
            raise ValueError(f"min_acu ({self.min_acu}) is greater than max_acu ({self.max_acu})")
        return self


class DatabaseSettings(Model):
    """Database settings; every field optional so defaults and environments can layer."""

    engine: Literal["aurora-mysql", "aurora-postgresql"] | None = None
    """The Aurora engine: `aurora-mysql` or `aurora-postgresql`."""
    engine_version: EngineVersion | None = None
    """An engine version RDS offers, quoted: `"15.10"`, `"8.0.mysql_aurora.3.08.0"`."""
    instance_class: str | None = Field(None, pattern=INSTANCE_CLASS)
    """A provisioned cluster's instance class: memory-optimised, `db.r5.large` or larger."""
    instances: int | None = Field(None, ge=1, le=15)
    """Instances in the cluster (1 to 15); the first is the writer, the others readers."""
    backup_retention_days: int | None = Field(None, ge=1, le=35)
    """Days of automated backups (1 to 35)."""
    database_name: str | None = Field(None, pattern=DATABASE_NAME)
    """The database created in the cluster (default `appdb`)."""
    master_username: str | None = Field(None, pattern=USERNAME)
    """The master user's name (default `replgen_admin`); its password is generated and rotated."""
    port: int | None = Field(None, ge=1150, le=65535)
    """The database port (default 3306 MySQL, 5432 PostgreSQL); the only port a peering passes."""
    serverless: Serverless | None = None
    """Aurora Serverless v2 capacity instead of `instance_class`."""
    global_: bool | None = Field(None, alias="global")
    """One Aurora Global Database across the environment's regions (needs at least two)."""

    @field_validator("engine_version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        # `15.10` unquoted is the float 15.1 to YAML: refuse rather than guess.
        return _quoted("version")(value)


class NetworkSettings(Model):
    """Network settings of a site's VPC; layered like the database settings."""

    azs: int | None = Field(None, ge=2, le=6)
    """Availability zones (2 to 6): a private subnet in each, and a public one where an ALB is."""
    flow_log_retention_days: int | None = None
    """Days VPC flow logs are kept (default 90)."""


class RegionSite(Model):
    """One region of a multi-region environment."""

    cidr: Cidr
    """The VPC's IPv4 network in this region, /16 to /24, overlapping no other site."""
    kms_key_arn: str | None = Field(None, pattern=ARN)
    """A KMS key created beforehand in this region; none is created when given."""


class Environment(Model):
    """An environment: one account, one region (`cidr`) or several (`regions`)."""

    account: str
    """The alias of its account under `accounts`."""
    cidr: Cidr | None = None
    """The VPC's IPv4 network, /16 to /24, overlapping no other site (one-region environments)."""
    region: Region | None = None
    """Its region, where it differs from the top-level `region`."""
    regions: dict[Region, RegionSite] | None = None
    """Region -> its site, for an environment in several regions; the first is the primary."""
    production: bool = False
    """Production data never leaves it: never a reference-data source; deletion protection on."""
    deletion_protection: bool | None = None
    """Keep its data when its stacks are deleted (default: the value of `production`): clusters
    refuse deletion and leave a final snapshot; keys, buckets and backup vaults are retained.
    `false` makes every stack destroyable, emptying its buckets and vaults on delete."""
    kms_key_arn: str | None = Field(None, pattern=ARN)
    """A KMS key created beforehand in the environment's account; none is created when given."""
    database: DatabaseSettings = DatabaseSettings()
    """Database settings of this environment, over `defaults.database`."""
    network: NetworkSettings = NetworkSettings()
    """Network settings of this environment, over `defaults.network`."""


class Defaults(Model):
    """Settings merged under every environment."""

    database: DatabaseSettings = DatabaseSettings()
    """Database settings every environment starts from."""
    network: NetworkSettings = NetworkSettings()
    """Network settings every environment starts from."""


class Table(Model):
    """A reference-data table kept equal from the source to the targets."""

    name: Identifier
    """The table's name, an SQL identifier."""
    key: tuple[Identifier, ...] | None = Field(None, min_length=1)
    """Columns that identify a row; needed only when the table has no primary key."""
    exclude_columns: tuple[Identifier, ...] = ()
    """Columns never copied (they may differ per environment)."""


def _table(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


class ReferenceData(Model):
    """Reference data copied from one environment to later ones in the promotion order."""

    source: EnvName
    """The environment the data is read from; never a production one."""
    targets: tuple[EnvName, ...] = Field(min_length=1)
    """Environments made equal to the source, each after it in `sync.schema.promote`."""
    # `- currency` is short for `- {name: currency}`.
    tables: tuple[
        Annotated[Table, BeforeValidator(_table, json_schema_input_type=Identifier | Table)], ...
    ] = Field(min_length=1)
    """The tables synchronised: a name, or `{name, key, exclude_columns}`; no other is ever read."""


class SchemaPromotion(Model):
    """Schema migrations promoted from one environment to the next."""

    promote: tuple[EnvName, ...] = Field(min_length=2)
    """Environments in the order migration scripts are applied."""


class Sync(Model):
    """The replsync functions: schema migrations and reference data, on a schedule."""

    runs_in: SiteRef
    """The site whose VPC hosts the functions; every database they touch is peered with it."""
    schedule: Schedule = "rate(1 hour)"
    """EventBridge schedule: `rate(1 hour)`, `rate(15 minutes)`, `cron(0 3 * * ? *)` (6 fields)."""
    timeout_seconds: int = Field(300, ge=10, le=300)
    """Each function's timeout in seconds (10 to 300)."""
    lag_alarm_seconds: int = Field(60, ge=1)
    """Alarm when the targets lag the source by more than this many seconds."""
    memory_mb: int = Field(512, ge=128, le=10240)
    """Each function's memory in MB (128 to 10240)."""
    reserved_concurrency: int = Field(2, ge=1, le=100)
    """Concurrent executions reserved for each function (1 to 100)."""
    schema_: SchemaPromotion | None = Field(None, alias="schema")
    """Schema migrations and the order they are promoted in."""
    reference_data: ReferenceData | None = None
    """Reference-data tables kept equal across environments."""
    migrations_writer: str | None = Field(None, pattern=ROLE_ARN)
    """The IAM role (ARN) that alone may write and delete migration scripts, typically CI:
    every other principal is denied by the migrations buckets' policies, and the site keys let
    it encrypt through S3. The role must exist before the deploy. Unset, nothing the topology
    builds may write there: only the account's administrators can."""


class Notifications(Model):
    """Who hears about alarms and failed syncs."""

    emails: tuple[Email, ...] = ()
    """E-mail addresses subscribed to every site's alert topic."""


class Functions(Model):
    """Settings of every Lambda function replgen builds."""

    runtime: str = "python3.12"
    """The Python runtime (python3.12 or newer; a deprecated one compiles with a warning)."""
    log_retention_days: int = 30
    """Days the functions' logs are kept."""


class Dns(Model):
    """The Route 53 names that move traffic between regions."""

    zone: str = Field(pattern=DNS_ZONE)
    """The hosted zone created for the topology, delegated from its parent domain."""
    record: str = Field(pattern=DNS_LABEL)
    """The record clients use, in the zone; weighted: primary 100, secondary 0."""
    health_check_path: str = Field("/health", pattern=URL_PATH)
    """The path Route 53's health checks request on each region's load balancer."""


class DisasterRecovery(Model):
    """Recovery objectives and the names traffic moves by."""

    rpo_minutes: int = Field(ge=1, le=1440)
    """Recovery point objective: the Global Database lag alarm's threshold, in minutes."""
    rto_minutes: int = Field(ge=1, le=1440)
    """Recovery time objective: how soon the secondary must serve, in minutes."""
    dns: Dns
    """The hosted zone, the record and the health-check path."""
    failover: Literal["automatic", "manual"] = "manual"
    """automatic: the secondary's watchdog promotes itself on sustained evidence that every
    independent signal agrees on; manual: it alarms with the decision it would take and a
    human carries it out (a switchover when the primary still answers)."""


class Oidc(Model):
    """The identity provider the ALB authenticates callers with (authenticate-oidc)."""

    issuer: str = Field(pattern=HTTPS_URL)
    """The provider's issuer URL (https)."""
    authorization_endpoint: str = Field(pattern=HTTPS_URL)
    """Its authorization endpoint (https)."""
    token_endpoint: str = Field(pattern=HTTPS_URL)
    """Its token endpoint (https)."""
    user_info_endpoint: str = Field(pattern=HTTPS_URL)
    """Its user-info endpoint (https)."""
    client_id: str = Field(pattern=r"^[A-Za-z0-9._:/@-]{1,256}$")
    """The client id the ALB signs in as."""
    client_secret_arn: str = Field(pattern=SECRET_ARN)
    """The Secrets Manager secret holding the client secret (read at deploy time)."""
    account_claim: str = Field("account_id", pattern=r"^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$")
    """The claim that names the caller's account; a transaction for another is refused."""


class Api(Model):
    """How callers of the payments API prove who they are; every choice also gets AWS WAF."""

    auth: Literal["mtls", "oidc", "none"]
    """mtls: client certificates verified by the ALB; oidc: the ALB signs callers in; none:
    no authentication, chosen explicitly."""
    trust_store: str | None = Field(None, pattern=S3_OBJECT)
    """mtls: the s3:// object holding the client CAs (PEM)."""
    oidc: Oidc | None = None
    """oidc: the identity provider."""
    rate_limit: int = Field(2000, ge=10, le=2_000_000_000)
    """Requests one source IP may send in 5 minutes before the web ACL blocks it."""


class Processing(Model):
    """txnproc behind an ALB and an SQS queue, in every region."""

    queue: str = Field(pattern=SHORT_NAME)
    """The transaction queue's name (a dead-letter queue is added)."""
    batch_size: int = Field(10, ge=1, le=10)
    """Messages per invocation (1 to 10)."""
    timeout_seconds: int = Field(30, ge=3, le=300)
    """The function's timeout in seconds (3 to 300)."""
    queue_age_alarm_seconds: int = Field(300, ge=60)
    """Alarm when the oldest message waits longer than this (at least 60)."""


class Sessions(Model):
    """The DynamoDB global table txnproc records sessions in."""

    table: str = Field(pattern=SHORT_NAME)
    """The table's name; on demand, point-in-time recovery, a replica per region."""


class Bucket(Model):
    """A bucket in every region of the disaster-recovery environment."""

    name: str = Field(pattern=SHORT_NAME)
    """Its short name; the physical name adds the topology, suffix, region and account."""
    replicate: bool = False
    """Replicate objects (and delete markers) to the other regions."""
    expire_days: int = Field(365, ge=1)
    """Days before objects expire."""


class Storage(Model):
    """Buckets of the disaster-recovery environment."""

    buckets: tuple[Bucket, ...] = Field(min_length=1)
    """The buckets, each built in every region."""


class Backup(Model):
    """AWS Backup of the disaster-recovery clusters, per region."""

    retention_days: int = Field(ge=1, le=35)
    """Days each recovery point is kept (1 to 35)."""
    schedule: CronSchedule = "cron(0 5 * * ? *)"
    """When the daily backup runs: a cron expression with six fields."""
    vault_lock: bool = False
    """Lock each vault (AWS Backup Vault Lock, governance mode): no recovery point is deleted
    before `retention_days`, except by someone allowed to remove the lock. Needs the
    environment's deletion protection."""


class Quotas(Model):
    """Service quotas raised in every account of the topology (AWS's defaults otherwise)."""

    nacl_rules_per_direction: int | None = Field(None, ge=20, le=40)
    """Network ACL rules per direction (default 20, at most 40 on request)."""
    security_group_rules: int | None = Field(None, ge=60, le=1000)
    """Inbound, and separately outbound, rules per security group (default 60)."""
    security_groups_per_interface: int | None = Field(None, ge=5, le=16)
    """Security groups per network interface (default 5, at most 16)."""
    routes_per_route_table: int | None = Field(None, ge=50, le=1000)
    """Routes per route table (default 50, at most 1000)."""


class State(Model):
    """Where CDKTF keeps Terraform state: local unless a bucket is named."""

    bucket: str | None = Field(None, pattern=BUCKET_NAME)
    """An S3 bucket for Terraform state (with native locking); local state when absent."""
    region: Region | None = None
    """The state bucket's region."""
    # Assumed in each site's account where a topology spans several accounts.
    deploy_role: str = Field("replgen-deploy", pattern=ROLE_NAME)
    """The role Terraform assumes in each site's account when the topology spans accounts."""
    deploy_from: str | None = None
    """The account deployments start from (an alias of `accounts` or a 12-digit id): the
    deploy role trusts it. Unset, `replgen deploy` uses --deploy-from or its credentials'."""


class Spec(Model):
    """A replgen topology, format 1."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={"$id": "https://replgen.dev/schema/replgen.schema.json"},
    )

    replgen: Literal[1]
    """The spec format version: 1."""
    name: str = Field(pattern=NAME, max_length=24)
    """The topology's name: lowercase letters, digits and hyphens; starts every physical name."""
    suffix: str = Field(pattern=SUFFIX, max_length=16)
    """The environment suffix in every physical name (`--suffix` overrides it)."""
    region: Region | None = None
    """The default region of every environment."""
    accounts: dict[AccountAlias, AccountId] = Field(min_length=1)
    """Alias -> 12-digit AWS account id, quoted: `"011111111111"` (unquoted, YAML sees a number)."""
    defaults: Defaults = Defaults()
    """Database and network settings merged under every environment."""
    environments: dict[EnvName, Environment] = Field(
        min_length=1, json_schema_extra=_schema(propertyNames={"pattern": ENV_NAME})
    )
    """Name -> environment; each (environment, region) pair is a site."""
    peering: tuple[tuple[SiteRef, SiteRef], ...] = ()
    """Pairs of sites to peer, `[dev, staging]`; only the database port crosses. Not transitive."""
    sync: Sync | None = None
    """The schema and reference-data sync functions."""
    notifications: Notifications = Notifications()
    """Who is told about alarms."""
    functions: Functions = Functions()
    """Settings of every Lambda function."""
    disaster_recovery: DisasterRecovery | None = None
    """Multi-region disaster recovery of the one `global: true` environment."""
    processing: Processing | None = None
    """The txnproc transaction processor (disaster-recovery topologies)."""
    sessions: Sessions | None = None
    """The sessions table (disaster-recovery topologies)."""
    storage: Storage | None = None
    """Replicated buckets (disaster-recovery topologies)."""
    backup: Backup | None = None
    """AWS Backup plans (disaster-recovery topologies)."""
    api: Api | None = None
    """How callers of the API authenticate: required wherever processing serves one."""
    state: State = State()
    """Where CDKTF keeps Terraform state."""
    quotas: Quotas = Quotas()
    """AWS quotas this topology's accounts have had raised above the defaults."""


def is_identifier(text: str) -> bool:
    return re.fullmatch(IDENTIFIER, text) is not None
