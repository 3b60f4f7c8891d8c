"""The disaster-recovery plan: what each member builds, in which stack, with which numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from replgen.plan.build import build
from replgen.plan.dr.api import ELB_ACCOUNTS, LOG_DELIVERY
from replgen.plan.dr.failover import failover_evidence
from replgen.plan.layout import PER_SITE, lay_out
from replgen.plan.model import Alarm, Code, Function, Join, Plan, Ref, Site, TrustStore, Value
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {
    "replsync": Code("replsync", "replsync-0123456789ab.zip", "0" * 64, "AAAA"),
    "txnproc": Code("txnproc", "txnproc-0123456789ab.zip", "1" * 64, "BBBB"),
}
PRIMARY, SECONDARY = "prod/us-east-1", "prod/us-east-2"
LAMBDA = ROOT / "lambda" / "txnproc"
if str(LAMBDA) not in sys.path:
    sys.path.insert(0, str(LAMBDA))  # the Lambda's code root, as in its zip

from txnproc.config import load_failover, load_processor  # noqa: E402


@pytest.fixture(scope="module")
def dr() -> Plan:
    return build(load(ROOT / "specs" / "dr.yaml").spec, CODE)


@pytest.fixture(scope="module")
def variant() -> Plan:
    return build(load(ROOT / "tests" / "specs" / "valid" / "dr-variant.yaml").spec, CODE)


def alarms(site: Site) -> dict[str, Alarm]:
    prefix = f"{site.slug}-"
    return {a.name.split(prefix, 1)[1]: a for a in site.alarms}


def test_global_database_primary_and_secondary(dr: Plan) -> None:
    p, s = dr.site(PRIMARY).database, dr.site(SECONDARY).database
    assert (p.global_role, s.global_role) == ("primary", "secondary")
    assert p.global_cluster_id == s.global_cluster_id == "txndr-dr01-prod-global"
    assert s.global_cluster == Ref(PRIMARY, "global_cluster", "id")  # deployed after it
    assert p.global_cluster is None
    assert (p.instance_class, p.serverless) == ("db.serverless", (0.5, 16.0))
    assert not p.managed_password and not s.managed_password  # RDS cannot, for members
    assert p.backup_retention_days == s.backup_retention_days == 7


def test_master_secret_rotates_and_replicates_with_the_secondary_key(dr: Plan) -> None:
    secret = dr.site(PRIMARY).database.secret
    assert secret is not None and dr.site(SECONDARY).database.secret is None
    assert secret.name == "txndr-dr01-prod-us-east-1-master"
    assert (secret.rotation_app, secret.rotation_version) == (
        "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
        "SecretsManagerRDSPostgreSQLRotationSingleUser",
        "1.1.671",
    )
    assert secret.rotation_days == 30
    assert secret.replicas == (("us-east-2", Ref(SECONDARY, "key", "arn")),)
    assert "@" in secret.exclude_characters and "/" in secret.exclude_characters
    assert secret.password_length == 32  # both backends generate it at this length
    assert secret.security_group == "functions"  # reaches the cluster and the endpoints


def test_foundations_hold_keys_buckets_the_replication_role_and_the_zone(dr: Plan) -> None:
    primary, secondary = dr.site(PRIMARY), dr.site(SECONDARY)
    buckets = ("bucket:access-logs", "bucket:migrations")
    dr_buckets = ("bucket:transaction-logs", "bucket:documents")
    # The zone too: delegated before the certificates validate in it.
    zone = ("zone", "healthcheck:prod-us-east-1", "healthcheck:prod-us-east-2")
    # And, on a destroyable site, what empties its buckets when the foundation is deleted.
    emptier = ("emptier:foundation",)
    assert primary.foundation == ("key", *buckets, *dr_buckets, "role:replication", *zone, *emptier)
    assert secondary.foundation == ("key", *buckets, *dr_buckets, *emptier)


def test_non_dr_sites_have_no_dr_parts() -> None:
    prod = build(load(ROOT / "specs" / "prod.yaml").spec, CODE)
    for site in prod.sites:
        assert site.foundation == () and site.load_balancer is None and site.zone is None
        assert site.network.public_subnets == () and site.backup is None
        assert site.database.global_role is None and site.database.managed_password


def test_primary_buckets_replicate_every_version_to_the_secondary(dr: Plan) -> None:
    primary = dr.site(PRIMARY)
    logs = next(b for b in primary.buckets if b.key == "bucket:transaction-logs")
    (rule,) = logs.replication
    assert rule.destination_bucket == (
        "arn:aws:s3:::txndr-dr01-prod-us-east-2-transaction-logs-444444444444"
    )
    assert (rule.destination_region, rule.rule_id) == ("us-east-2", "replicate-to-us-east-2")
    assert rule.destination_key == Ref(SECONDARY, "key", "arn")
    assert logs.kms_key == Ref(PRIMARY, "key", "arn")
    assert logs.access_log_bucket == "bucket:access-logs"
    assert logs.expire_days == 365
    secondary = {b.key: b for b in dr.site(SECONDARY).buckets}
    assert all(not b.replication for b in secondary.values())
    assert secondary["bucket:transaction-logs"].replica_of == (
        "txndr-dr01-prod-us-east-1-transaction-logs-444444444444"
    )
    assert secondary["bucket:migrations"].replica_of is None
    assert all(b.replica_of is None for b in dr.site(PRIMARY).buckets)


def test_replication_role_names_exactly_the_buckets_and_keys(dr: Plan) -> None:
    role = next(r for r in dr.site(PRIMARY).roles if r.key == "role:replication")
    by_sid = {s.sid: s for s in role.statements}
    assert role.service == "s3.amazonaws.com"
    assert by_sid["WriteReplicas"].resources == (
        "arn:aws:s3:::txndr-dr01-prod-us-east-2-transaction-logs-444444444444/*",
        "arn:aws:s3:::txndr-dr01-prod-us-east-2-documents-444444444444/*",
    )
    assert by_sid["EncryptReplicas"].resources == (Ref(SECONDARY, "key", "arn"),)
    assert by_sid["DecryptSource"].resources == (Ref(PRIMARY, "key", "arn"),)
    assert all(r != "*" for s in role.statements for r in s.resources)


def test_a_bucket_not_marked_for_replication_stays_local(variant: Plan) -> None:
    primary = variant.site("live/eu-west-1")
    replicated = {b.key for b in primary.buckets if b.replication}
    assert replicated == {"bucket:ledger-logs", "bucket:receipts"}
    scratch = next(b for b in primary.buckets if b.key == "bucket:scratch")
    assert scratch.expire_days == 7


def test_txnproc_runs_in_every_region_on_its_own_queue(dr: Plan) -> None:
    for site_id in (PRIMARY, SECONDARY):
        site = dr.site(site_id)
        fn = next(f for f in site.functions if f.key == "function:txnproc")
        env = dict(fn.environment)
        assert env["DB_HOST"] == Ref(site_id, "cluster", "endpoint")
        assert env["DB_SECRET_ARN"] == "txndr-dr01-prod-us-east-1-master"  # replica by name
        assert env["QUEUE_URL"] == (
            f"https://sqs.{site.region}.amazonaws.com/444444444444/"
            f"txndr-dr01-{site.slug}-transactions"
        )
        assert env["SESSIONS_TABLE"] == "txndr-dr01-prod-sessions"
        assert env["LOG_BUCKET"] == f"txndr-dr01-{site.slug}-transaction-logs-444444444444"
        assert fn.vpc and fn.handler == "handler.handler" and fn.timeout == 30
        queue = next(q for q in site.queues if q.key == "queue:txnproc")
        assert queue.dead_letter is not None and queue.dead_letter.key == "queue:txnproc-dlq"
        assert queue.visibility_timeout == 180  # six times the function timeout
        (source,) = site.event_sources
        assert (source.queue, source.function, source.batch_size) == (
            "queue:txnproc",
            "function:txnproc",
            10,
        )
        assert source.max_concurrency < fn.reserved_concurrency  # room for the ALB


def test_txnproc_role_is_scoped_to_its_region(dr: Plan) -> None:
    site = dr.site(SECONDARY)
    role = next(r for r in site.roles if r.key == "role:txnproc")
    by_sid = {s.sid: s for s in role.statements}
    assert by_sid["ReadMasterSecret"].resources == (
        "arn:aws:secretsmanager:us-east-2:444444444444:secret:txndr-dr01-prod-us-east-1-master-??????",
    )
    assert by_sid["RecordSessions"].resources == (
        "arn:aws:dynamodb:us-east-2:444444444444:table/txndr-dr01-prod-sessions",
    )
    assert by_sid["ConsumeAndEnqueue"].resources == (
        "arn:aws:sqs:us-east-2:444444444444:txndr-dr01-prod-us-east-2-transactions",
    )
    assert by_sid["AppendTransactionLogs"].resources == (
        "arn:aws:s3:::txndr-dr01-prod-us-east-2-transaction-logs-444444444444/*",
    )
    wildcard = {s.sid for s in role.statements if "*" in s.resources}
    assert wildcard == {"DescribeNetwork", "Tracing"}
    assert all(s.reason for s in role.statements if s.sid in wildcard)


def test_network_has_public_subnets_https_only_alb_and_endpoints(dr: Plan) -> None:
    net = dr.site(PRIMARY).network
    assert [s.cidr for s in net.public_subnets] == [
        "10.10.96.0/19",
        "10.10.128.0/19",
        "10.10.160.0/19",
    ]
    alb = next(g for g in net.security_groups if g.role == "alb")
    # mTLS on 443; Route 53's checkers, which carry no client certificate, on 8443.
    assert [(r.from_port, r.cidr) for r in alb.ingress] == [(443, "0.0.0.0/0"), (8443, "0.0.0.0/0")]
    assert alb.egress == ()
    assert net.gateway_endpoints == ("s3", "dynamodb")
    assert "sqs" in net.interface_endpoints
    database = next(g for g in net.security_groups if g.role == "database")
    local = {r.cidr for r in database.ingress if "prod/us-east-1" in r.description}
    assert local == {s.cidr for s in net.private_subnets}  # txnproc reaches its own cluster


def test_load_balancer_certificate_and_log_writer(dr: Plan, variant: Plan) -> None:
    lb = dr.site(SECONDARY).load_balancer
    assert lb is not None
    assert (lb.name, lb.target_group) == (
        "txndr-dr01-prod-us-east-2",
        "txndr-dr01-prod-us-east-2-tg",
    )
    assert lb.domain == "us-east-2.api.txn.example.com"
    assert lb.alternative_names == ("api.txn.example.com",)
    assert lb.zone_id == Ref(PRIMARY, "zone", "id")
    assert lb.log_writer == ("AWS", f"arn:aws:iam::{ELB_ACCOUNTS['us-east-2']}:root")
    assert lb.ssl_policy.startswith("ELBSecurityPolicy-TLS13")
    spain = variant.site("live/eu-south-2").load_balancer
    assert spain is not None  # opened after 2022-08: no ELB account there
    assert spain.log_writer == ("Service", LOG_DELIVERY)


def test_zone_health_checks_and_weighted_records(dr: Plan) -> None:
    primary, secondary = dr.site(PRIMARY), dr.site(SECONDARY)
    assert primary.zone is not None and secondary.zone is None
    assert primary.zone.name == "txn.example.com"
    assert [(h.key, h.fqdn, h.path) for h in primary.zone.health_checks] == [
        ("healthcheck:prod-us-east-1", "us-east-1.api.txn.example.com", "/health"),
        ("healthcheck:prod-us-east-2", "us-east-2.api.txn.example.com", "/health"),
    ]
    records = {s.id: s.record for s in (primary, secondary)}
    assert {k: (r.weight, r.weighted_name) for k, r in records.items() if r} == {
        PRIMARY: (100, "api.txn.example.com"),
        SECONDARY: (0, "api.txn.example.com"),
    }
    assert secondary.record is not None
    assert secondary.record.health_check == Ref(PRIMARY, "healthcheck:prod-us-east-2", "id")


def test_failover_function_lives_in_the_secondary_outside_the_vpc(dr: Plan) -> None:
    secondary = dr.site(SECONDARY)
    fn = next(f for f in secondary.functions if f.key == "function:failover")
    env = dict(fn.environment)
    # Two: a human's promote is never throttled behind a scheduled run (the ledger in the
    # sessions table keeps concurrent runs from counting or acting twice).
    assert not fn.vpc and fn.handler == "handler.failover" and fn.reserved_concurrency == 2
    assert env["GLOBAL_CLUSTER_ID"] == "txndr-dr01-prod-global"
    assert env["TARGET_CLUSTER_ARN"] == (
        "arn:aws:rds:us-east-2:444444444444:cluster:txndr-dr01-prod-us-east-2"
    )
    # mTLS: the probe goes where Route 53's checks go, the port that needs no client cert.
    assert env["PRIMARY_HEALTH_URL"] == "https://us-east-1.api.txn.example.com:8443/health"
    assert env["HEALTH_CHECK_ID"] == Ref(PRIMARY, "healthcheck:prod-us-east-1", "id")
    assert {(s.target, s.expression, s.input, s.role) for s in secondary.schedules} == {
        ("function:txnproc", "rate(1 minute)", '{"action":"deep_health"}', None),
        ("function:failover", "rate(1 minute)", None, None),
    }
    principals = {p.key: (p.principal, p.source_arn) for p in secondary.permissions}
    assert principals["permission:failover-alerts"] == (
        "sns.amazonaws.com",
        "arn:aws:sns:us-east-1:444444444444:txndr-dr01-prod-us-east-1-alerts",
    )
    # The primary's alert topic reaches it across regions.
    assert dr.site(PRIMARY).topic.functions == (
        (
            "txndr-dr01-prod-us-east-2-failover",
            "arn:aws:lambda:us-east-2:444444444444:function:txndr-dr01-prod-us-east-2-failover",
        ),
    )
    assert all(f.key != "function:failover" for f in dr.site(PRIMARY).functions)


def test_failover_role_can_fail_over_only_this_global_cluster(dr: Plan) -> None:
    role = next(r for r in dr.site(SECONDARY).roles if r.key == "role:failover")
    by_sid = {s.sid: s for s in role.statements}
    assert by_sid["FailOverToThisRegion"].resources == (
        "arn:aws:rds::444444444444:global-cluster:txndr-dr01-prod-global",
        "arn:aws:rds:us-east-1:444444444444:cluster:txndr-dr01-prod-us-east-1",
        "arn:aws:rds:us-east-2:444444444444:cluster:txndr-dr01-prod-us-east-2",
    )
    assert "rds:SwitchoverGlobalCluster" in by_sid["FailOverToThisRegion"].actions


def test_sessions_global_table_with_a_replica_per_region(dr: Plan) -> None:
    table = dr.site(PRIMARY).table
    assert table is not None and dr.site(SECONDARY).table is None
    assert (table.name, table.hash_key, table.ttl_attribute) == (
        "txndr-dr01-prod-sessions",
        "session_id",
        "expires_at",
    )
    assert table.replicas == (
        ("us-east-1", Ref(PRIMARY, "key", "arn")),
        ("us-east-2", Ref(SECONDARY, "key", "arn")),
    )


def test_backup_plan_per_region(dr: Plan, variant: Plan) -> None:
    for site in dr.sites:
        plan = site.backup
        assert plan is not None
        assert (plan.retention_days, plan.schedule) == (7, "cron(0 5 * * ? *)")
        assert plan.resources == (Ref(site.id, "cluster", "arn"),)  # the site's own cluster
        role = next(r for r in site.roles if r.key == plan.role)
        assert role.service == "backup.amazonaws.com"
        assert role.managed_policies == (
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        )
    other = variant.site("live/eu-south-2").backup
    assert other is not None and (other.retention_days, other.schedule) == (
        14,
        "cron(30 2 * * ? *)",
    )


@pytest.mark.parametrize(("spec", "rpo"), [("dr", 5), ("variant", 2)])
def test_alarm_thresholds_follow_the_rpo(
    spec: str, rpo: int, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(spec)
    primary = next(s for s in plan.sites if s.primary)
    for site in plan.sites:
        lag = alarms(site)["global-lag"]
        assert (lag.metric, lag.unit, lag.threshold) == (
            "AuroraGlobalDBReplicationLag",
            "Milliseconds",
            rpo * 60_000,
        )
    latency = [a for a in primary.alarms if a.metric == "ReplicationLatency"]
    assert latency and all(a.threshold == rpo * 60 and a.unit == "Seconds" for a in latency)


def test_queue_age_alarm_follows_the_spec(variant: Plan) -> None:
    for site in variant.sites:
        age = alarms(site)["queue-age"]
        assert (age.metric, age.threshold, age.unit) == (
            "ApproximateAgeOfOldestMessage",
            120.0,
            "Seconds",
        )
        assert age.dimensions == (("QueueName", f"paydr-eu02-{site.slug}-payments"),)


def test_replication_alarms_name_the_rule_and_both_buckets(dr: Plan) -> None:
    failed = alarms(dr.site(PRIMARY))["documents-replication-failed"]
    assert dict(failed.dimensions) == {
        "SourceBucket": "txndr-dr01-prod-us-east-1-documents-444444444444",
        "DestinationBucket": "txndr-dr01-prod-us-east-2-documents-444444444444",
        "RuleId": "replicate-to-us-east-2",
    }


def test_outputs_name_the_endpoints(dr: Plan) -> None:
    primary = dict(dr.site(PRIMARY).outputs)
    assert primary["hosted_zone_id"] == Ref(PRIMARY, "zone", "id")
    assert primary["zone_name_servers"] == Ref(PRIMARY, "zone", "name_servers")
    assert primary["url"] == "https://api.txn.example.com"
    secondary = dict(dr.site(SECONDARY).outputs)
    assert secondary["load_balancer_dns_name"] == Ref(SECONDARY, "load_balancer", "dns_name")
    assert secondary["cluster_endpoint"] == Ref(SECONDARY, "cluster", "endpoint")
    assert secondary["sessions_table"] == "txndr-dr01-prod-sessions"
    assert "hosted_zone_id" not in secondary


def test_log_groups_of_dr_functions_may_use_the_site_key(dr: Plan) -> None:
    secondary = dr.site(SECONDARY)
    for fn in secondary.functions:
        assert any(
            a.endswith(f"log-group:{fn.log_group.name}") for a in secondary.key.log_group_arns
        )


def test_outputs_carry_what_the_secondary_reads(dr: Plan) -> None:
    layout = lay_out(dr, PER_SITE)

    def outputs(site: str) -> set[tuple[str, str]]:
        stacks = {layout.stack_of(site, "cluster"), layout.stack_of(site, "key")}
        return {(r.component, r.attr) for s in stacks for r in layout.outputs(s)}

    exported = outputs(PRIMARY)
    assert {
        ("global_cluster", "id"),
        ("zone", "id"),
        ("healthcheck:prod-us-east-1", "id"),
        ("healthcheck:prod-us-east-2", "id"),
    } <= exported
    assert ("key", "arn") in outputs(SECONDARY)


def test_backup_is_optional(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "dr.yaml").read_text().replace("backup: {retention_days: 7}\n", "")
    (tmp_path / "dr.yaml").write_text(text)
    plan = build(load(tmp_path / "dr.yaml").spec, CODE)
    assert all(s.backup is None for s in plan.sites)
    assert all(r.key != "role:backup" for s in plan.sites for r in s.roles)


def test_an_unknown_site_is_a_key_error(dr: Plan) -> None:
    with pytest.raises(KeyError):
        dr.site("nowhere")


def deployed(fn: Function, region: str) -> dict[str, str]:
    """The function's environment as Lambda would see it: deploy-time values stand in."""

    def text(value: Value | Join) -> str:
        if isinstance(value, Join):
            return "".join(text(p) for p in value.parts)
        if isinstance(value, Ref):
            return f"{value.component}-{value.attr}"
        return str(value)

    return {"AWS_REGION": region, **{k: text(v) for k, v in fn.environment}}


@pytest.mark.parametrize("spec", ["dr", "variant"])
def test_the_lambda_code_accepts_the_environment_the_plan_gives(
    spec: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(spec)
    loaders = {"handler.handler": load_processor, "handler.failover": load_failover}
    seen = set()
    for site in plan.sites:
        for fn in site.functions:
            if fn.code.artifact == "txnproc":
                loaders[fn.handler](deployed(fn, site.region))  # raises on a bad variable
                seen.add(fn.handler)
    assert seen == set(loaders)


def _table_calls(*modules: str) -> set[str]:
    """The DynamoDB item actions the named txnproc modules call."""
    names = {"get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem"}
    code = "".join((LAMBDA / "txnproc" / f"{m}.py").read_text() for m in modules)
    return {f"dynamodb:{action}" for call, action in names.items() if f".{call}(" in code}


def test_each_function_is_granted_what_its_code_calls_on_the_sessions_table(dr: Plan) -> None:
    """txnproc records sessions and shares its health verdict; the failover function keeps its
    streak and records its decisions: each grant is exactly the calls its modules make."""
    txnproc = next(r for r in dr.site(PRIMARY).roles if r.key == "role:txnproc")
    sessions = next(s for s in txnproc.statements if s.sid == "RecordSessions")
    assert set(sessions.actions) == _table_calls("sessions", "health", "process", "alb", "services")
    failover = next(r for r in dr.site(SECONDARY).roles if r.key == "role:failover")
    decisions = next(s for s in failover.statements if s.sid == "RecordDecisions")
    assert set(decisions.actions) == _table_calls("failover", "ledger", "announce")


def test_each_bucket_says_why_it_replicates_nowhere(dr: Plan) -> None:
    primary = {b.key: b for b in dr.site(PRIMARY).buckets}
    secondary = {b.key: b for b in dr.site(SECONDARY).buckets}
    assert primary["bucket:documents"].not_replicated(PRIMARY) is None  # it does
    replica = secondary["bucket:documents"].not_replicated(SECONDARY)
    assert replica is not None and "txndr-dr01-prod-us-east-1-documents" in replica
    local = primary["bucket:migrations"].not_replicated(PRIMARY)
    assert local is not None and "stay in its region" in local and PRIMARY in local


def test_mtls_api_verifies_clients_and_answers_health_checks_on_its_own_port(dr: Plan) -> None:
    for site in dr.sites:
        lb = site.load_balancer
        assert lb is not None
        assert lb.auth.mode == "mtls" and lb.auth.oidc is None
        assert lb.auth.trust_store == TrustStore(
            f"txndr-dr01-{site.slug}-trust", "txndr-api-trust", "clients-ca.pem"
        )
        assert lb.auth.health_port == 8443
    primary = dr.site(PRIMARY)
    assert primary.zone is not None
    assert {h.port for h in primary.zone.health_checks} == {8443}


def test_oidc_api_authenticates_every_path_but_health(variant: Plan) -> None:
    for site in variant.sites:
        lb = site.load_balancer
        assert lb is not None
        assert (lb.auth.mode, lb.auth.trust_store, lb.auth.health_port) == ("oidc", None, 443)
        assert lb.auth.oidc is not None
        assert lb.auth.oidc.client_id == "ledger-api"
        assert lb.auth.oidc.client_secret_arn.endswith(":secret:ledger-oidc-AbCdEf")
        alb = next(g for g in site.network.security_groups if g.role == "alb")
        assert [r.from_port for r in alb.ingress] == [443]
        txnproc = next(f for f in site.functions if f.key == "function:txnproc")
        env = dict(txnproc.environment)
        assert (env["API_AUTH"], env["API_ACCOUNT_CLAIM"]) == ("oidc", "custom:account")


def test_every_alb_gets_a_web_acl_logged_under_the_site_key(dr: Plan, variant: Plan) -> None:
    for plan, limit in ((dr, 2000), (variant, 500)):
        for site in plan.sites:
            lb = site.load_balancer
            assert lb is not None
            acl = lb.web_acl
            assert acl.rate_limit == limit
            assert acl.managed_rule_groups == (
                "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet",
            )
            assert acl.log_group.name == f"aws-waf-logs-{acl.name}"
            log_arn = f"arn:aws:logs:{site.region}:{site.account_id}:log-group:{acl.log_group.name}"
            assert log_arn in site.key.log_group_arns


def test_failover_mode_and_evidence_window_come_from_the_spec(dr: Plan, variant: Plan) -> None:
    """RTO 15: three evaluations over three minutes; RTO 10 is floored at the same; automatic
    only where the spec asks (dr.yaml), manual by default (the variant)."""
    for plan, mode in ((dr, "automatic"), (variant, "manual")):
        secondary = next(s for s in plan.sites if not s.primary)
        failover = next(f for f in secondary.functions if f.key == "function:failover")
        env = dict(failover.environment)
        assert (env["FAILOVER_MODE"], env["FAILOVER_EVALUATIONS"]) == (mode, "3")
        assert env["FAILOVER_SUSTAIN_SECONDS"] == "180"
    assert failover_evidence(15) == (180, 3, 180)
    assert failover_evidence(60) == (720, 12, 300)
    assert failover_evidence(8) == (180, 3, 120)


def test_an_explicit_none_still_gets_the_web_acl(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "dr.yaml").read_text()
    start = text.index("api:")
    end = text.index("processing:")
    spec = tmp_path / "open.yaml"
    spec.write_text(text[:start] + "api: {auth: none}\n" + text[end:])
    plan = build(load(spec).spec, CODE)
    for site in plan.sites:
        lb = site.load_balancer
        assert lb is not None
        assert (lb.auth.mode, lb.auth.trust_store, lb.auth.oidc, lb.auth.health_port) == (
            "none",
            None,
            None,
            443,
        )
        assert lb.web_acl.rate_limit == 2000


def test_only_oidc_gives_the_private_subnets_a_way_out(dr: Plan, variant: Plan) -> None:
    """txnproc verifies the ALB's OIDC token with a key no VPC endpoint serves: a NAT gateway
    then, and only then; mTLS needs nothing beyond the endpoints."""
    assert {s.network.internet_egress for s in variant.sites} == {True}
    assert {s.network.internet_egress for s in dr.sites} == {False}


def test_without_mutual_tls_the_primary_is_probed_on_its_api_port(variant: Plan) -> None:
    secondary = next(s for s in variant.sites if not s.primary)
    failover = next(f for f in secondary.functions if f.key == "function:failover")
    url = dict(failover.environment)["PRIMARY_HEALTH_URL"]
    assert url == "https://eu-west-1.ledger.pay.example.org/health"


CN = "arn:aws-cn:serverlessrepo:cn-north-1:193023089310"
GOV = "arn:aws-us-gov:serverlessrepo:us-gov-west-1:023102451235"


@pytest.mark.parametrize(
    ("regions", "app", "version"),
    [
        (("cn-north-1", "cn-northwest-1"), CN, "1.1.440"),
        (("us-gov-west-1", "us-gov-east-1"), GOV, "1.1.383"),
    ],
)
def test_rotation_app_is_the_one_published_in_the_sites_partition(
    tmp_path: Path, regions: tuple[str, str], app: str, version: str
) -> None:
    text = (ROOT / "specs" / "dr.yaml").read_text()
    text = text.replace("us-east-1", regions[0]).replace("us-east-2", regions[1])
    spec = tmp_path / "dr.yaml"
    spec.write_text(text.replace("name: txndr", "name: t").replace("suffix: dr01", "suffix: d1"))
    secret = build(load(spec).spec, CODE).sites[0].database.secret
    assert secret is not None
    assert (
        secret.rotation_app == f"{app}:applications/SecretsManagerRDSPostgreSQLRotationSingleUser"
    )
    assert secret.rotation_version == version
