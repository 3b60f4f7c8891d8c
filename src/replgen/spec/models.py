"""The spec as the user writes it (format 1): pydantic models, unknown keys forbidden.

Field-level rules live beside the fields; rules that need the whole document
(references, overlaps, isolation) live in `rules.py`, which reports each with
the exact key path the user must edit.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]{0,63}$"
NAME = r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 network ({exc})") from None
    if not 16 <= net.prefixlen <= 24:
        raise ValueError(f"{value} must be between /16 and /24 (VPC limits)")
    return str(net)


Cidr = Annotated[str, AfterValidator(_cidr)]
Identifier = Annotated[str, Field(pattern=IDENTIFIER)]
EnvName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,15}$")]
SiteRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,15}(/[a-z0-9-]+)?$")]


def _account_text(value: object) -> object:
    # An unquoted id is a YAML integer and loses leading zeros: make the user quote it.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'quote the account id ("{value:012d}")')
    return value


AccountId = Annotated[str, BeforeValidator(_account_text), Field(pattern=r"^\d{12}$")]


class Serverless(Model):
    """Aurora Serverless v2 capacity, in Aurora capacity units."""

    min_acu: float = Field(ge=0, le=256, multiple_of=0.5)
    max_acu: float = Field(ge=1, le=256, multiple_of=0.5)

    @model_validator(mode="after")
    def _ordered(self) -> Serverless:
        if self.min_acu > self.max_acu:
            raise ValueError(f"min_acu ({self.min_acu}) is greater than max_acu ({self.max_acu})")
        return self


class DatabaseSettings(Model):
    """Database settings; every field optional so defaults and environments can layer."""

    engine: Literal["aurora-mysql", "aurora-postgresql"] | None = None
    engine_version: str | None = None
    instance_class: str | None = Field(None, pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    instances: int | None = Field(None, ge=1, le=15)
    backup_retention_days: int | None = Field(None, ge=1, le=35)
    database_name: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
    master_username: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
    port: int | None = Field(None, ge=1150, le=65535)
    serverless: Serverless | None = None
    global_: bool | None = Field(None, alias="global")

    @field_validator("engine_version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        # `15.10` unquoted is the float 15.1 to YAML: refuse rather than guess.
        if isinstance(value, float | int) and not isinstance(value, bool):
            raise ValueError(f'write the version as a quoted string, e.g. "{value}"')
        return value


class NetworkSettings(Model):
    azs: int | None = Field(None, ge=2, le=6)
    flow_log_retention_days: int | None = None


class RegionSite(Model):
    cidr: Cidr
    kms_key_arn: str | None = Field(None, pattern=ARN)


class Environment(Model):
    account: str
    cidr: Cidr | None = None
    region: str | None = None
    regions: dict[str, RegionSite] | None = None
    production: bool = False
    kms_key_arn: str | None = Field(None, pattern=ARN)
    database: DatabaseSettings = DatabaseSettings()
    network: NetworkSettings = NetworkSettings()


class Defaults(Model):
    database: DatabaseSettings = DatabaseSettings()
    network: NetworkSettings = NetworkSettings()


class Table(Model):
    name: Identifier
    key: tuple[Identifier, ...] | None = Field(None, min_length=1)
    exclude_columns: tuple[Identifier, ...] = ()


def _table(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


class ReferenceData(Model):
    source: EnvName
    targets: tuple[EnvName, ...] = Field(min_length=1)
    # `- currency` is short for `- {name: currency}`.
    tables: tuple[
        Annotated[Table, BeforeValidator(_table, json_schema_input_type=Identifier | Table)], ...
    ] = Field(min_length=1)


class SchemaPromotion(Model):
    promote: tuple[EnvName, ...] = Field(min_length=2)


SCHEDULE = r"^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\([^)]+\))$"


class Sync(Model):
    runs_in: SiteRef
    schedule: str = Field("rate(1 hour)", pattern=SCHEDULE)
    timeout_seconds: int = Field(300, ge=10, le=300)
    lag_alarm_seconds: int = Field(60, ge=1)
    memory_mb: int = Field(512, ge=128, le=10240)
    reserved_concurrency: int = Field(2, ge=1, le=100)
    schema_: SchemaPromotion | None = Field(None, alias="schema")
    reference_data: ReferenceData | None = None


class Notifications(Model):
    emails: tuple[Annotated[str, Field(pattern=EMAIL)], ...] = ()


class Functions(Model):
    runtime: str = "python3.12"
    log_retention_days: int = 30


class Dns(Model):
    zone: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    record: str = Field(pattern=r"^[a-z0-9-]+$")
    health_check_path: str = Field("/health", pattern=r"^/[A-Za-z0-9/_-]*$")


class DisasterRecovery(Model):
    rpo_minutes: int = Field(ge=1, le=1440)
    rto_minutes: int = Field(ge=1, le=1440)
    dns: Dns


class Processing(Model):
    queue: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    batch_size: int = Field(10, ge=1, le=10)
    timeout_seconds: int = Field(30, ge=3, le=300)
    queue_age_alarm_seconds: int = Field(300, ge=60)


class Sessions(Model):
    table: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")


class Bucket(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    replicate: bool = False
    expire_days: int = Field(365, ge=1)


class Storage(Model):
    buckets: tuple[Bucket, ...] = Field(min_length=1)


class Backup(Model):
    retention_days: int = Field(ge=1, le=35)
    schedule: str = Field("cron(0 5 * * ? *)", pattern=r"^cron\([^)]+\)$")


class State(Model):
    """Where CDKTF keeps Terraform state: local unless a bucket is named."""

    bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    region: str | None = None
    # Assumed in each site's account where a topology spans several accounts.
    deploy_role: str = Field("replgen-deploy", pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")
    # The account deployments start from (an alias of `accounts` or a 12-digit id): the
    # deploy role trusts it. Unset, `replgen deploy` uses --deploy-from or its credentials'.
    deploy_from: str | None = None


class Spec(Model):
    """A replgen topology, format 1."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={"$id": "https://replgen.dev/schema/replgen.schema.json"},
    )

    replgen: Literal[1]
    name: str = Field(pattern=NAME, max_length=24)
    suffix: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", max_length=16)
    region: str | None = None
    accounts: dict[str, AccountId] = Field(min_length=1)
    defaults: Defaults = Defaults()
    environments: dict[EnvName, Environment] = Field(min_length=1)
    peering: tuple[tuple[SiteRef, SiteRef], ...] = ()
    sync: Sync | None = None
    notifications: Notifications = Notifications()
    functions: Functions = Functions()
    disaster_recovery: DisasterRecovery | None = None
    processing: Processing | None = None
    sessions: Sessions | None = None
    storage: Storage | None = None
    backup: Backup | None = None
    state: State = State()


def is_identifier(text: str) -> bool:
    return re.fullmatch(IDENTIFIER, text) is not None
