"""Why a security check does not apply: the plan's own words for it, one fact per member.

A component carries its waivers as `Waived` records; each backend maps a waiver to the ids
of the checks its checker runs (`replgen.backends.checkov`) and writes the reason on the
resource. Which component needs which waiver is decided here and by the plan's builders;
no checker's vocabulary appears in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# The shortest retention a security review takes for an audit trail: below it, a log
# group's retention is a choice the plan states the reason for.
AUDIT_RETENTION_DAYS = 365


class Waiver(Enum):
    """A fact that makes a security check not apply; the value is the sentence a reader of
    the output sees (a member marked "detailed" takes its sentence from the record)."""

    FUNCTION_LOG_RETENTION = (
        "retention is the topology's functions.log_retention_days: operational logs, not an "
        "audit trail (what must be kept lives in the databases and buckets)"
    )
    FLOW_LOG_RETENTION = (
        "retention is the topology's network.flow_log_retention_days, set by its owner"
    )
    EMPTIER_LOG_RETENTION = (
        "the emptier runs only while its stack is deleted: a month of its logs covers any "
        "look at that delete"
    )
    PACKAGE_NOT_SIGNED = (
        "replgen package builds the zip reproducibly and the stack pins it by content hash; "
        "there is no signing profile to verify it against"
    )
    INLINE_CODE_NOT_SIGNED = (
        "inline code written into the template by replgen (ZipFile): there is no package to "
        "sign, and code signing does not apply to inline code"
    )
    PROBES_FROM_OUTSIDE_VPC = (
        "the plan keeps this function out of the VPC: it probes the primary region over the "
        "internet and calls regional AWS APIs, whatever broke in this region's VPC"
    )
    WRITER_OUTSIDE_VPC = (
        "outside the VPC on purpose: it must reach CloudFormation's presigned S3 response URL "
        "and the SSM API; the private subnets have no NAT, and only the sync site has an SSM "
        "endpoint"
    )
    EMPTIER_OUTSIDE_VPC = (
        "outside the VPC on purpose: it must reach CloudFormation's presigned S3 response URL "
        "and the S3 and AWS Backup APIs; the private subnets have no NAT and no AWS Backup "
        "endpoint"
    )
    INVOKER_OUTSIDE_VPC = (
        "outside the VPC on purpose: it must reach CloudFormation's presigned S3 response URL, "
        "which the VPC's S3 endpoint policy does not admit; it only calls the Lambda API"
    )
    ACCESS_LOG_BUCKET_NOT_LOGGED = (
        "this is the access-log bucket; logging it into itself would loop"
    )
    ARTIFACTS_NOT_LOGGED = (
        "holds only build output that `replgen package` reproduces bit for bit; CloudTrail "
        "records who changed it"
    )
    SSE_S3_FOR_ACCESS_LOGS = "S3 server access logs can only be delivered to SSE-S3 buckets"
    NOT_REPLICATED = "detailed: why this bucket replicates nowhere"
    ARTIFACTS_NOT_REPLICATED = (
        "the zips are rebuilt from source in any region: nothing to replicate"
    )
    NO_EVENT_NOTIFICATIONS = (
        "nothing in the topology reacts to object events: replsync reads the migration "
        "scripts when it runs, and access logs are read on demand"
    )
    DEPLOY_ROLE_ADMINISTERS = (
        "the deploy role creates every resource of the topology (IAM, VPC, RDS, KMS, ...), as "
        "`cdk bootstrap`'s execution role does; only the deploying account may assume it"
    )
    ACCOUNT_TRUST = "detailed: which account the trust policy names, and what narrows it"
    DEPLOYING_ACCOUNT_TRUST = "trusts exactly one account: the one deployments start from"
    DESTROYABLE_CLUSTER = (
        "environments must be destroyable with their stacks; while it exists, the cluster "
        "keeps automated backups for its retention period instead"
    )
    DESTROYABLE_LOAD_BALANCER = (
        "the load balancer holds no data and its stack recreates it: deletion protection "
        "would only make it outlive its stack"
    )
    WAF_BY_ASSOCIATION = (
        "the web ACL associated with this ALB runs AWSManagedRulesKnownBadInputsRuleSet, checked "
        "on the ACL itself; the association is a resource of its own, which a check that reads "
        "the load balancer's references does not follow back to it"
    )
    NO_DNSSEC = (
        "the plan signs no zone: DNSSEC needs a key-signing key in us-east-1 and a DS record "
        "at the parent domain's registrar, neither of which the topology owns"
    )
    NO_QUERY_LOGS = (
        "the plan logs no DNS queries: the zone answers only the regional and weighted "
        "records, and the ALBs' access logs record every request that follows a lookup"
    )
    NO_BACKUP_PLAN = (
        "the plan protects the cluster with RDS automated backups (point-in-time recovery for "
        "the backup retention period); it defines no AWS Backup plan"
    )
    NO_BACKTRACK = (
        "the plan sets no backtrack window: recovery is a point-in-time restore from automated "
        "backups; backtracking can only be chosen when the cluster is created and does not "
        "work with binlog replication"
    )
    NO_STATEMENT_LOGS = (
        "the plan's cluster parameters log connections (log_connections) and force TLS; it "
        "chooses no statement logging (log_statement, log_min_duration_statement), which would "
        "write statement text, and the values in it, to the exported postgresql log"
    )
    NTH_ZONE = (
        "subnets take the nth zone the account offers, as CloudFormation's Fn::GetAZs does: "
        "zone names map to different zones in each account, so the plan cannot name them, and "
        "a zone AWS adds sorts after the ones already in use"
    )
    ACL_ALL_PORTS_IN_VPC = (
        "only the VPC's own CIDR: inside it, security groups decide what may connect"
    )
    ACL_DENY_ALL_PORTS = "a deny rule: closing every port to this peer is its purpose"


@dataclass(frozen=True)
class Waived:
    """One waiver on one resource; `detail` is the sentence of a detailed waiver."""

    waiver: Waiver
    detail: str | None = None

    @property
    def reason(self) -> str:
        return self.detail if self.detail is not None else self.waiver.value


def waive(*waivers: Waiver) -> tuple[Waived, ...]:
    return tuple(Waived(w) for w in waivers)


def retention(days: int, why: Waiver) -> tuple[Waived, ...]:
    """A log group's waiver: `why` where its retention is shorter than an audit trail's."""
    return () if days >= AUDIT_RETENTION_DAYS else waive(why)


def function(vpc: bool) -> tuple[Waived, ...]:
    """A packaged function's: unsigned, and outside the VPC where the plan keeps it there."""
    return waive(Waiver.PACKAGE_NOT_SIGNED, *(() if vpc else (Waiver.PROBES_FROM_OUTSIDE_VPC,)))


def account_trust(trusted_roles: tuple[tuple[str, str], ...]) -> tuple[Waived, ...]:
    """Of a role whose trust policy names accounts (a checker flags any account principal,
    whatever condition narrows it): the reason says what narrows each."""
    detail = "; ".join(
        f"the plan trusts account {account} itself: it names no narrower principal there"
        if arn.endswith(":root")
        else f"account {account} is trusted only for {arn} (aws:PrincipalArn condition): IAM "
        "rejects a role principal that does not exist yet, and that role is created elsewhere"
        for account, arn in trusted_roles
    )
    return (Waived(Waiver.ACCOUNT_TRUST, detail),)


def not_replicated(
    name: str, purpose: str, site: str, replication: tuple[object, ...], replica_of: str | None
) -> str | None:
    """Why a bucket replicates nowhere, or None where it does."""
    if replication:
        return None
    if replica_of is not None:
        return (
            f"{name} is the replica {replica_of} writes into: it replicates nowhere itself, "
            "so that a failover region serves the same objects"
        )
    return stays_in_region(purpose, site)


def stays_in_region(purpose: str, site: str) -> str:
    """Why a bucket that is no replica replicates nowhere."""
    return (
        f"{purpose} of {site} stay in its region: the topology replicates only buckets it "
        "marks for disaster recovery"
    )


def bucket(*, log_target: bool, logged: bool, kms: bool, local: str | None) -> tuple[Waived, ...]:
    """A bucket's: no event notifications anywhere; where it receives access logs, not logged
    into itself and SSE-S3 encrypted; and why it replicates nowhere (`local`), if it does not."""
    out = [Waived(Waiver.NO_EVENT_NOTIFICATIONS)]
    if log_target and not logged:
        out.append(Waived(Waiver.ACCESS_LOG_BUCKET_NOT_LOGGED))
    if log_target and not kms:
        out.append(Waived(Waiver.SSE_S3_FOR_ACCESS_LOGS))
    if local is not None:
        out.append(Waived(Waiver.NOT_REPLICATED, local))
    return tuple(out)


def cluster(
    *, destroyable: bool, backed_up: bool, engine: str, parameters: frozenset[str]
) -> tuple[Waived, ...]:
    """A cluster's: what it does without, where the plan chose so; engine-specific checks only
    for the engine they concern."""
    statement_logs = {"log_statement", "log_min_duration_statement"}
    return waive(
        *((Waiver.DESTROYABLE_CLUSTER,) if destroyable else ()),
        # Otherwise the site's backup selection names the cluster.
        *(() if backed_up else (Waiver.NO_BACKUP_PLAN,)),
        *((Waiver.NO_BACKTRACK,) if engine == "aurora-mysql" else ()),
        *(
            (Waiver.NO_STATEMENT_LOGS,)
            if engine == "aurora-postgresql" and not parameters >= statement_logs
            else ()
        ),
    )
