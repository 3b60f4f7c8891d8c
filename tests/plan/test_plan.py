"""The plan makes every decision: assert the decisions, on the example and a four-env spec."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from replgen.plan.build import build
from replgen.plan.layout import PER_SITE, lay_out
from replgen.plan.model import Code, Join, Plan, Ref
from replgen.plan.sync import reference_routes
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {n: Code(n, f"{n}-0123456789ab.zip", "0" * 64, "AAAA") for n in ("replsync", "txnproc")}


def plan_of(path: Path) -> Plan:
    return build(load(path).spec, CODE)


@pytest.fixture(scope="module")
def prod() -> Plan:
    return plan_of(ROOT / "specs" / "prod.yaml")


@pytest.fixture(scope="module")
def four() -> Plan:
    return plan_of(ROOT / "tests" / "specs" / "valid" / "four-envs.yaml")


def test_sites_accounts_and_cidrs(prod: Plan) -> None:
    got = {s.id: (s.account_id, s.region, s.network.cidr) for s in prod.sites}
    assert got == {
        "dev": ("111111111111", "us-east-1", "10.1.0.0/16"),
        "staging": ("222222222222", "us-east-1", "10.2.0.0/16"),
        "prod": ("333333333333", "us-east-1", "10.3.0.0/16"),
    }
    assert [s.production for s in prod.sites] == [False, False, True]


def test_subnets_are_carved_inside_the_vpc_one_per_az(prod: Plan) -> None:
    for site in prod.sites:
        vpc = ipaddress.IPv4Network(site.network.cidr)
        subnets = [ipaddress.IPv4Network(s.cidr) for s in site.network.private_subnets]
        assert [s.az_index for s in site.network.private_subnets] == [0, 1]
        assert all(s.subnet_of(vpc) for s in subnets)
        assert not subnets[0].overlaps(subnets[1])


def test_names_carry_the_suffix_and_fit(prod: Plan) -> None:
    dev = prod.site("dev")
    assert dev.database.cluster_id == "dbrepl-prod01-dev"
    assert dev.key.alias == "alias/dbrepl-prod01-dev"
    assert [i.id for i in prod.site("prod").database.instances] == [
        "dbrepl-prod01-prod-1",
        "dbrepl-prod01-prod-2",
    ]
    for site in prod.sites:
        for bucket in site.buckets:
            assert "prod01" in bucket.name and len(bucket.name) <= 63
        for role in site.roles:
            assert "prod01" in role.name and len(role.name) <= 64


def test_database_settings_follow_the_seed_requirements(prod: Plan) -> None:
    for site in prod.sites:
        db = site.database
        assert (db.engine, db.engine_version) == ("aurora-mysql", "5.7.mysql_aurora.2.12.4")
        assert db.instance_class == "db.r5.large" and db.port == 3306
        assert db.backup_retention_days == 7 and db.managed_password
        assert db.parameter_family == "aurora-mysql5.7"
        assert "audit" in db.log_exports and db.monitoring_interval > 0


def test_replica_lag_threshold_is_in_milliseconds(prod: Plan) -> None:
    alarm = prod.site("prod").database.replica_lag_alarm  # two instances: a reader lags
    assert alarm is not None
    assert (alarm.metric, alarm.unit, alarm.threshold) == (
        "AuroraReplicaLagMaximum",
        "Milliseconds",
        60000.0,
    )


def test_only_clusters_with_readers_alarm_on_replica_lag(prod: Plan) -> None:
    """AuroraReplicaLagMaximum exists only where a reader replicates: single-instance dev and
    staging would never emit it, and an alarm on it would say nothing."""
    assert {s.id: s.database.replica_lag_alarm is not None for s in prod.sites} == {
        "dev": False,
        "staging": False,
        "prod": True,
    }


def test_every_endpoint_admits_only_the_topologys_accounts(prod: Plan) -> None:
    accounts = ("111111111111", "222222222222", "333333333333")
    assert {s.network.endpoint_accounts for s in prod.sites} == {accounts}


def test_only_the_database_port_crosses_peerings_from_sync_subnets(prod: Plan) -> None:
    staging_private = [s.cidr for s in prod.site("staging").network.private_subnets]
    dev = prod.site("dev").network
    db_sg = next(g for g in dev.security_groups if g.role == "database")
    assert {(r.from_port, r.to_port, r.cidr) for r in db_sg.ingress} == {
        (3306, 3306, c) for c in staging_private
    }
    inbound_from_staging = [
        e for e in dev.acl_entries if not e.egress and e.allow and e.cidr in staging_private
    ]
    assert {(e.from_port, e.to_port) for e in inbound_from_staging} == {(3306, 3306)}
    denies = [e for e in dev.acl_entries if not e.allow]
    assert {e.cidr for e in denies} == {"10.2.0.0/16"}
    allowed_numbers = [e.number for e in inbound_from_staging]
    assert all(n < d.number for n in allowed_numbers for d in denies if not d.egress)
    # dev hosts no functions: no interface endpoints, no route to the internet at all
    assert dev.interface_endpoints == () and "0.0.0.0/0" not in {e.cidr for e in dev.acl_entries}


def test_acl_never_admits_rdp_from_anywhere(prod: Plan) -> None:
    for site in prod.sites:
        for e in site.network.acl_entries:
            if e.cidr == "0.0.0.0/0" and not e.egress and e.allow:
                assert not e.from_port <= 3389 <= e.to_port


def test_peerings_are_cross_account_with_accepter_roles(prod: Plan) -> None:
    first, second = prod.peerings
    assert (first.requester, first.accepter) == ("dev", "staging")
    assert first.cross_account and not first.cross_region
    assert first.accepter_role == "dbrepl-prod01-staging-accept-dev"
    staging_roles = {r.name: r for r in prod.site("staging").roles}
    accept = staging_roles["dbrepl-prod01-staging-accept-dev"]
    # Only the requester account's deploy role, which deploys the requester's peering stack.
    assert accept.trusted_roles == (
        ("111111111111", "arn:aws:iam::111111111111:role/replgen-deploy"),
    )
    assert second.requester_vpc == Ref("staging", "vpc", "id")


def test_sync_roles_name_exact_arns(prod: Plan) -> None:
    staging = prod.site("staging")
    sync_role = next(r for r in staging.roles if r.key == "role:replsync")
    assume = next(s for s in sync_role.statements if s.sid == "AssumeEnvironmentRoles")
    assert set(assume.resources) == {
        "arn:aws:iam::111111111111:role/dbrepl-prod01-dev-replsync-access",
        "arn:aws:iam::222222222222:role/dbrepl-prod01-staging-replsync-access",
        "arn:aws:iam::333333333333:role/dbrepl-prod01-prod-replsync-access",
    }
    for statement in sync_role.statements:
        assert statement.resources != ("*",) or statement.reason
    access = next(r for r in prod.site("prod").roles if r.key == "role:replsync-access")
    assert access.trusted_roles == (("222222222222", sync_role.arn),)
    # At run time: log in as the sync's own database user, nothing else (no secret, no key).
    (connect,) = access.statements
    assert connect.actions == ("rds-db:connect",)
    assert connect.resources == (
        Join(
            (
                "arn:aws:rds-db:us-east-1:333333333333:dbuser:",
                Ref("prod", "cluster", "resource_id"),
                "/replgen_sync",
            )
        ),
    )
    assert not any(
        "secretsmanager:GetSecretValue" in s.actions
        for site in prod.sites
        for r in site.roles
        if r.key in ("role:replsync", "role:replsync-access")
        for s in r.statements
    )


def test_only_the_bootstrap_reads_the_master_secret(prod: Plan) -> None:
    staging = prod.site("staging")
    boot_role = next(r for r in staging.roles if r.key == "role:replsync-boot")
    assume = next(s for s in boot_role.statements if s.sid == "AssumeEnvironmentRoles")
    assert set(assume.resources) == {
        f"arn:aws:iam::{a}:role/dbrepl-prod01-{e}-replsync-master"
        for a, e in (("111111111111", "dev"), ("222222222222", "staging"), ("333333333333", "prod"))
    }
    assert not any(s.sid == "ReadMigrationScripts" for s in boot_role.statements)
    boot_access = next(r for r in prod.site("prod").roles if r.key == "role:replsync-master")
    assert boot_access.trusted_roles == (("222222222222", boot_role.arn),)
    secret = next(s for s in boot_access.statements if s.sid == "ReadMasterSecret")
    assert secret.resources == (Ref("prod", "cluster", "secret_arn"),)
    decrypt = next(s for s in boot_access.statements if s.sid == "DecryptMasterSecret")
    assert decrypt.conditions == (
        ("StringEquals", "kms:ViaService", ("secretsmanager.us-east-1.amazonaws.com",)),
    )
    run, boot = staging.functions
    assert (run.key, boot.key) == ("function:replsync", "function:replsync-boot")
    assert Ref("prod", "cluster", "secret_arn") in boot.environment[0][1].parts  # type: ignore[union-attr]
    assert Ref("prod", "cluster", "secret_arn") not in run.environment[0][1].parts  # type: ignore[union-attr]
    invocations = {i.key: json.loads(i.payload) for i in staging.invocations}
    assert sorted(invocations) == [f"invocation:bootstrap-{e}" for e in ("dev", "prod", "staging")]
    assert {(p["action"], p["target"]) for p in invocations.values()} == {
        ("bootstrap", "dev"),
        ("bootstrap", "staging"),
        ("bootstrap", "prod"),
    }
    assert all(i.function == boot.key for i in staging.invocations)


def test_reference_data_follows_the_chain() -> None:
    spec = load(ROOT / "specs" / "prod.yaml").spec
    assert reference_routes(spec) == {"staging": "dev", "prod": "staging"}


def test_sync_function_config_and_state_machine(prod: Plan) -> None:
    staging = prod.site("staging")
    fn, _boot = staging.functions
    assert (fn.timeout, fn.vpc, fn.runtime) == (300, True, "python3.12")
    config = fn.environment[0][1]
    refs = [p for p in config.parts if isinstance(p, Ref)]  # type: ignore[union-attr]
    assert Ref("dev", "cluster", "endpoint") in refs
    (machine,) = staging.state_machines
    definition = json.loads(machine.definition)
    states, order, name = definition["States"], [], definition["StartAt"]
    while name:
        order.append(name)
        name = states[name].get("Next")
    assert order == [
        "Migrate dev",
        "Migrate staging",
        "Migrate prod",
        "Sync reference data to staging",
        "Sync reference data to prod",
    ]
    assert all(states[n]["Catch"][0]["Next"] == "Notify failure" for n in order)
    payloads = [states[n]["Parameters"]["Payload"] for n in order]
    assert "versions.$" not in payloads[0]  # the first step lists the bucket, once
    assert {p["versions.$"] for p in payloads[1:3]} == {"$.results.step1.result.versions"}
    assert [(p.get("source"), p["target"]) for p in payloads[3:]] == [
        ("dev", "staging"),
        ("staging", "prod"),
    ]
    lag = [a for a in staging.alarms if a.metric == "TargetStalenessSeconds"]
    # lag_alarm_seconds 60 + rate(1 hour): silent for 61 one-minute periods, or a refresh
    # that ended over 3660 s stale; no refresh at all is missing data, which breaches.
    assert {
        (a.dimensions, a.threshold, a.unit, a.period, a.evaluation_periods, a.treat_missing)
        for a in lag
    } == {
        ((("Target", "staging"),), 3660.0, "Seconds", 60, 61, "breaching"),
        ((("Target", "prod"),), 3660.0, "Seconds", 60, 61, "breaching"),
    }


def test_a_stack_outputs_what_other_stacks_read(prod: Plan) -> None:
    layout = lay_out(prod, PER_SITE)
    dev = {(r.component, r.attr) for r in layout.outputs(layout.stack_of("dev", "cluster"))}
    assert dev == {
        ("cluster", "endpoint"),
        ("cluster", "secret_arn"),
        ("vpc", "id"),
        ("private_route_table", "id"),
    }


def test_four_environments_over_two_accounts(four: Plan) -> None:
    assert [s.id for s in four.sites] == ["dev", "qa", "staging", "prod"]
    assert {s.account_id for s in four.sites} == {"555555555555", "666666666666"}
    dev_qa, qa_staging, qa_prod = four.peerings
    assert not dev_qa.cross_account and dev_qa.accepter_role is None
    assert qa_staging.cross_region and not qa_staging.cross_account
    assert qa_prod.cross_account
    assert four.site("prod").database.port == 5432
    assert len(four.site("prod").database.instances) == 3
    assert four.site("qa").functions[0].name == "ledger-t4-qa-replsync"


def test_plan_is_deterministic() -> None:
    path = ROOT / "specs" / "prod.yaml"
    assert plan_of(path) == plan_of(path)


def test_reference_chain_follows_promote_order_not_list_order(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "specs" / "valid" / "four-envs.yaml").read_text()
    path = tmp_path / "four.yaml"
    path.write_text(text.replace("targets: [qa, staging, prod]", "targets: [prod, qa, staging]"))
    assert reference_routes(load(path).spec) == {"qa": "dev", "staging": "qa", "prod": "staging"}


def _kms_keys(node: object) -> Iterator[tuple[str, Ref | None]]:
    """(owner type, kms_key) of every part of `node` that says which key encrypts it."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if field.name == "kms_key":
                yield type(node).__name__, value
            else:
                yield from _kms_keys(value)
    elif isinstance(node, tuple):
        for item in node:
            yield from _kms_keys(item)


@pytest.mark.parametrize("spec", ["prod.yaml", "dr.yaml"])
def test_everything_encrypted_names_its_own_sites_key(spec: str) -> None:
    plan = plan_of(ROOT / "specs" / spec)
    owners = set()
    for site in plan.sites:
        keys = list(_kms_keys(site))
        owners |= {owner for owner, _ in keys}
        unencrypted = [o for o, key in keys if key is None]
        assert unencrypted == ["Bucket"]  # the access-log bucket: S3 server logs need SSE-S3
        assert {key for _, key in keys if key is not None} == {Ref(site.id, "key", "arn")}
    assert {"LogGroup", "Queue", "Function", "Topic", "Parameter", "Database"} <= owners
