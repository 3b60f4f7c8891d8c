"""The disaster-recovery components in the synthesised CDKTF stacks (specs/dr.yaml and
the eu variant): foundations and deploy order, replication, the global database and its
secret, the ALB, DNS failover, the global table, backups, subscriptions and outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from outputs import ROOT
from test_cdktf_output import stacks

PRIMARY, SECONDARY = "txndr-dr01-prod-us-east-1", "txndr-dr01-prod-us-east-2"
STATE = "data.terraform_remote_state.state_"


def _stack(both: dict[str, Path], name: str, spec: str = "dr") -> dict[str, Any]:
    return stacks(both[spec])[name]


def _one(stack: dict[str, Any], kind: str, contains: str = "") -> dict[str, Any]:
    """The only resource of `kind` whose logical id contains `contains`."""
    (found,) = [r for rid, r in stack["resource"][kind].items() if contains in rid]
    return found


def _skipped(resource: dict[str, Any]) -> dict[str, str]:
    return {
        s["id"]: s["comment"] for s in resource.get("//", {}).get("checkov", {}).get("skip", [])
    }


def _remote(stack: str, output: str) -> str:
    return f"${{{STATE}{stack.replace('-', '_')}.outputs.{output}}}"


# ---------------------------------------------------------------- stacks and deploy order


def test_foundations_come_first_and_order_the_deployment(both: dict[str, Path]) -> None:
    assert sorted(stacks(both["dr"])) == sorted(
        [
            f"{PRIMARY}-foundation",
            f"{SECONDARY}-foundation",
            PRIMARY,
            SECONDARY,
            "txndr-dr01-peering-prod-us-east-1-prod-us-east-2",
        ]
    )
    manifest = json.loads((both["dr"] / "cdktf" / "manifest.json").read_text())
    deps = {name: s["dependencies"] for name, s in manifest["stacks"].items()}
    assert deps[f"{SECONDARY}-foundation"] == []
    assert deps[f"{PRIMARY}-foundation"] == [f"{SECONDARY}-foundation"]
    assert deps[PRIMARY] == [f"{PRIMARY}-foundation", f"{SECONDARY}-foundation"]
    # The secondary reads the global cluster from the primary and the zone and health
    # checks from the primary's foundation.
    assert deps[SECONDARY] == [PRIMARY, f"{PRIMARY}-foundation", f"{SECONDARY}-foundation"]


def test_a_foundation_holds_the_key_buckets_replication_role_and_zone_only(
    both: dict[str, Path],
) -> None:
    foundation = _stack(both, f"{PRIMARY}-foundation")
    assert sorted(foundation["resource"]) == [
        "aws_iam_role",
        "aws_kms_alias",
        "aws_kms_key",
        "aws_route53_health_check",
        "aws_route53_zone",
        "aws_s3_bucket",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_logging",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_replication_configuration",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
    ]
    assert _one(foundation, "aws_iam_role")["name"] == "txndr-dr01-prod-us-east-1-replication"
    assert len(foundation["resource"]["aws_s3_bucket"]) == 4
    # The provider is the site's, and what the site's stack reads is output here.
    assert foundation["provider"]["aws"][0]["region"] == "us-east-1"
    assert "prod_us_east_1_key_arn" in foundation["output"]
    main = _stack(both, PRIMARY)
    for kind in ("aws_kms_key", "aws_s3_bucket", "aws_s3_bucket_replication_configuration"):
        assert kind not in main["resource"]
    assert "txndr-dr01-prod-us-east-1-replication" not in [
        r["name"] for r in main["resource"]["aws_iam_role"].values()
    ]
    # The secondary's foundation has no replication role: nothing replicates out of it.
    assert "aws_iam_role" not in _stack(both, f"{SECONDARY}-foundation")["resource"]


def test_the_sites_stack_reads_its_own_key_from_the_foundation(both: dict[str, Path]) -> None:
    main = _stack(both, PRIMARY)
    key = _remote(f"{PRIMARY}-foundation", "prod_us_east_1_key_arn")
    assert _one(main, "aws_sqs_queue", "txnproc_dlq")["kms_master_key_id"] == key
    assert _one(main, "aws_backup_vault")["kms_key_arn"] == key


# ---------------------------------------------------------------- storage replication


def test_replicated_buckets_have_one_rule_per_destination(both: dict[str, Path]) -> None:
    foundation = _stack(both, f"{PRIMARY}-foundation")
    configs = foundation["resource"]["aws_s3_bucket_replication_configuration"]
    assert sorted(configs) == [
        rid for rid in sorted(configs) if "documents" in rid or "transaction_logs" in rid
    ]
    config = _one(foundation, "aws_s3_bucket_replication_configuration", "documents")
    assert config["role"].startswith("${aws_iam_role.prod-us-east-1_roles_role_replication_")
    assert config["depends_on"][0].startswith("aws_s3_bucket_versioning.")
    (rule,) = config["rule"]
    assert rule["id"] == "replicate-to-us-east-2"
    assert rule["priority"] == 0 and rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["delete_marker_replication"] == {"status": "Enabled"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert destination["bucket"] == (
        "arn:aws:s3:::txndr-dr01-prod-us-east-2-documents-444444444444"
    )
    assert destination["encryption_configuration"] == {
        "replica_kms_key_id": _remote(f"{SECONDARY}-foundation", "prod_us_east_2_key_arn")
    }
    assert destination["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "event_threshold": {"minutes": 15}}


def test_replication_skips_follow_the_bucket_role(both: dict[str, Path]) -> None:
    source = _one(_stack(both, f"{PRIMARY}-foundation"), "aws_s3_bucket", "documents")
    assert "CKV_AWS_144" not in _skipped(source)
    replica = _one(_stack(both, f"{SECONDARY}-foundation"), "aws_s3_bucket", "documents")
    assert "is the replica txndr-dr01-prod-us-east-1-documents" in _skipped(replica)["CKV_AWS_144"]
    local = _one(
        _stack(both, "paydr-eu02-live-eu-west-1-foundation", "dr-variant"),
        "aws_s3_bucket",
        "scratch",
    )
    assert "stay in its region" in _skipped(local)["CKV_AWS_144"]


@pytest.mark.parametrize(
    ("spec", "stack", "principal", "account"),
    [
        (
            "dr",
            f"{PRIMARY}-foundation",
            {"AWS": ["arn:aws:iam::127311923021:root"]},
            "444444444444",
        ),
        (
            "dr-variant",
            "paydr-eu02-live-eu-south-2-foundation",
            {"Service": ["logdelivery.elasticloadbalancing.amazonaws.com"]},
            "555555555555",
        ),
    ],
)
def test_the_access_log_bucket_admits_the_load_balancer_logs(
    both: dict[str, Path], spec: str, stack: str, principal: dict[str, str], account: str
) -> None:
    policy = _one(_stack(both, stack, spec), "aws_s3_bucket_policy", "access_logs")
    statements = json.loads(policy["policy"])["Statement"]
    (alb,) = [s for s in statements if s["Sid"] == "LoadBalancerAccessLogs"]
    assert alb["Principal"] == principal
    assert alb["Action"] == ["s3:PutObject"]
    (resource,) = alb["Resource"]
    assert resource.startswith(f"arn:aws:s3:::{stack.removesuffix('-foundation')}-access-logs-")
    assert resource.endswith(f"-{account}/alb/AWSLogs/{account}/*")


# ---------------------------------------------------------------- the global database


def test_the_primary_creates_the_global_cluster_and_joins_it(both: dict[str, Path]) -> None:
    main = _stack(both, PRIMARY)
    global_cluster = _one(main, "aws_rds_global_cluster")
    assert global_cluster == {
        **{k: v for k, v in global_cluster.items() if k == "//"},
        "global_cluster_identifier": "txndr-dr01-prod-global",
        "engine": "aurora-postgresql",
        "engine_version": "15.10",
        "storage_encrypted": True,
        "deletion_protection": False,
    }
    cluster = _one(main, "aws_rds_cluster")
    assert cluster["global_cluster_identifier"].startswith("${aws_rds_global_cluster.")
    assert cluster["master_username"] == "replgen_admin"
    # Write-only: the ephemeral password reaches RDS and never the state (rotation owns it
    # after the first apply: the version stays 1).
    assert cluster["master_password_wo"] == "${" + EPHEMERAL_PASSWORD + "}"
    assert cluster["master_password_wo_version"] == 1
    assert "master_password" not in cluster
    # Failovers change this outside Terraform; a plan must not undo it.
    assert cluster["lifecycle"] == {"ignore_changes": ["replication_source_identifier"]}
    assert "manage_master_user_password" not in cluster
    # Backed up by the site's plan: no CKV2_AWS_8 skip any more.
    assert set(_skipped(cluster)) == {"CKV_AWS_139", "CKV2_AWS_27"}
    assert main["output"]["prod_us_east_1_global_cluster_id"]["value"] == (
        "${"
        + global_cluster["//"]["metadata"]["uniqueId"].join(("aws_rds_global_cluster.", ".id"))
        + "}"
    )


def test_the_secondary_joins_the_primarys_global_cluster(both: dict[str, Path]) -> None:
    cluster = _one(_stack(both, SECONDARY), "aws_rds_cluster")
    assert cluster["global_cluster_identifier"] == _remote(
        PRIMARY, "prod_us_east_1_global_cluster_id"
    )
    for absent in (
        "master_username",
        "master_password",
        "database_name",
        "manage_master_user_password",
    ):
        assert absent not in cluster
    assert cluster["kms_key_id"] == _remote(f"{SECONDARY}-foundation", "prod_us_east_2_key_arn")
    assert cluster["lifecycle"] == {"ignore_changes": ["replication_source_identifier"]}
    assert cluster["serverlessv2_scaling_configuration"] == {
        "min_capacity": 0.5,
        "max_capacity": 16,
    }
    instances = _stack(both, SECONDARY)["resource"]["aws_rds_cluster_instance"].values()
    assert {i["instance_class"] for i in instances} == {"db.serverless"}
    assert "aws_rds_global_cluster" not in _stack(both, SECONDARY)["resource"]


def test_the_master_secret_is_generated_replicated_and_rotated(both: dict[str, Path]) -> None:
    main = _stack(both, PRIMARY)
    assert "aws_secretsmanager_random_password" not in main.get("data", {})
    (password,) = main["ephemeral"]["aws_secretsmanager_random_password"].values()
    assert password["password_length"] == 32
    assert password["exclude_characters"] == "\"'@/\\:?#[]%`"
    secret = _one(main, "aws_secretsmanager_secret")
    assert secret["name"] == "txndr-dr01-prod-us-east-1-master"
    assert secret["kms_key_id"] == _remote(f"{PRIMARY}-foundation", "prod_us_east_1_key_arn")
    assert secret["recovery_window_in_days"] == 7
    assert secret["replica"] == [
        {
            "region": "us-east-2",
            "kms_key_id": _remote(f"{SECONDARY}-foundation", "prod_us_east_2_key_arn"),
        }
    ]
    version = _one(main, "aws_secretsmanager_secret_version")
    assert "secret_string" not in version and version["secret_string_wo_version"] == 1
    contents = version["secret_string_wo"]
    assert contents.startswith("${jsonencode({") and contents.endswith("})}")
    assert '"username" = "replgen_admin"' in contents
    assert f'"password" = {EPHEMERAL_PASSWORD}' in contents
    assert '"engine" = "postgres"' in contents and '"port" = 5432' in contents
    assert re.search(r'"host" = aws_rds_cluster\.[\w-]+\.endpoint', contents)
    app = _one(main, "aws_serverlessapplicationrepository_cloudformation_stack")
    assert app["application_id"] == (
        "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
        "SecretsManagerRDSPostgreSQLRotationSingleUser"
    )
    assert app["semantic_version"] == "1.1.671"
    assert app["capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]
    parameters = app["parameters"]
    assert parameters["endpoint"] == "https://secretsmanager.us-east-1.amazonaws.com"
    assert parameters["functionName"] == "txndr-dr01-prod-us-east-1-rotate-master"
    assert parameters["vpcSubnetIds"].count("aws_subnet.") == 3
    assert "private_subnet" in parameters["vpcSubnetIds"]
    assert "functions_security_group" in parameters["vpcSecurityGroupIds"]
    assert parameters["kmsKeyArn"] == secret["kms_key_id"]
    rotation = _one(main, "aws_secretsmanager_secret_rotation")
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    assert rotation["rotation_lambda_arn"].endswith('.outputs["RotationLambdaARN"]}')
    # The first rotation runs at once: the host from the version, an instance answering.
    version, instance = rotation["depends_on"]
    assert version.startswith("aws_secretsmanager_secret_version.")
    assert instance.startswith("aws_rds_cluster_instance.")


EPHEMERAL_PASSWORD = (
    "ephemeral.aws_secretsmanager_random_password.prod_us_east_1_master_password.random_password"
)


def test_the_master_password_is_in_no_terraform_state(both: dict[str, Path]) -> None:
    """Nothing that Terraform stores (resource and data attributes, outputs) carries the
    password: only write-only arguments name the ephemeral value."""
    for spec in ("dr", "dr-variant"):
        for name, stack in stacks(both[spec]).items():
            text = json.dumps(stack)
            assert "data.aws_secretsmanager_random_password" not in text, name
            for kind, resources in stack.get("resource", {}).items():
                for resource in resources.values():
                    for field, value in resource.items():
                        if "ephemeral." in json.dumps(value):
                            assert field.endswith("_wo"), (name, kind, field)
            assert "ephemeral." not in json.dumps(stack.get("output", {})), name


# ---------------------------------------------------------------- processing


def test_the_load_balancer_is_public_https_only_and_logs(both: dict[str, Path]) -> None:
    main = _stack(both, SECONDARY)
    lb = _one(main, "aws_lb")
    assert lb["internal"] is False and lb["load_balancer_type"] == "application"
    assert all("public_subnet" in s for s in lb["subnets"])
    assert "alb_security_group" in lb["security_groups"][0]
    assert lb["drop_invalid_header_fields"] is True
    assert lb["enable_deletion_protection"] is False
    assert set(_skipped(lb)) == {"CKV_AWS_150", "CKV2_AWS_76"}
    assert lb["access_logs"] == {
        "bucket": "txndr-dr01-prod-us-east-2-access-logs-444444444444",  # as CloudFormation
        "prefix": "alb",
        "enabled": True,
    }
    listeners = {v["port"]: v for v in main["resource"]["aws_lb_listener"].values()}
    assert sorted(listeners) == [443, 8443]  # no port-80 listener
    listener = listeners[443]
    assert listener["protocol"] == "HTTPS"
    assert listener["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listener["certificate_arn"].startswith("${aws_acm_certificate_validation.")
    assert listener["default_action"][0]["type"] == "forward"
    store = _one(main, "aws_lb_trust_store")
    assert (store["ca_certificates_bundle_s3_bucket"], store["ca_certificates_bundle_s3_key"]) == (
        "txndr-api-trust",
        "clients-ca.pem",
    )
    store_lid = next(iter(main["resource"]["aws_lb_trust_store"]))
    assert listener["mutual_authentication"] == {
        "mode": "verify",
        "trust_store_arn": f"${{aws_lb_trust_store.{store_lid}.arn}}",
    }
    # Route 53's checkers carry no client certificate: /health alone, on 8443.
    health = listeners[8443]
    assert "mutual_authentication" not in health
    assert health["default_action"][0]["fixed_response"]["status_code"] == "404"
    (rule,) = main["resource"]["aws_lb_listener_rule"].values()
    assert rule["condition"] == [
        {"path_pattern": {"values": ["/health"]}},
        {"http_request_method": {"values": ["GET"]}},
    ]
    assert rule["action"][0]["type"] == "forward"
    group = _one(main, "aws_lb_target_group")
    assert group["target_type"] == "lambda" and group["name"] == "txndr-dr01-prod-us-east-2-tg"
    assert group["health_check"] == {"enabled": True, "path": "/health", "matcher": "200"}
    attachment = _one(main, "aws_lb_target_group_attachment")
    assert "function_txnproc" in attachment["target_id"]
    assert attachment["depends_on"] == [
        f"aws_lambda_permission.{rid}"
        for rid in main["resource"]["aws_lambda_permission"]
        if "txnproc_alb" in rid
    ]
    permission = _one(main, "aws_lambda_permission", "txnproc_alb")
    assert permission["principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["source_arn"] == (
        "arn:aws:elasticloadbalancing:us-east-2:444444444444:targetgroup/"
        "txndr-dr01-prod-us-east-2-tg/*"
    )


def test_the_certificate_is_validated_in_the_primarys_zone(both: dict[str, Path]) -> None:
    main = _stack(both, SECONDARY)
    certificate = _one(main, "aws_acm_certificate")
    assert certificate["domain_name"] == "us-east-2.api.txn.example.com"
    assert certificate["subject_alternative_names"] == ["api.txn.example.com"]
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"] == {"create_before_destroy": True}
    records = _one(main, "aws_route53_record", "certificate_validation")
    assert "domain_validation_options" in records["for_each"]
    assert records["name"] == "${each.value.resource_record_name}"
    assert records["records"] == ["${each.value.resource_record_value}"]
    assert records["zone_id"] == _remote(f"{PRIMARY}-foundation", "prod_us_east_1_zone_id")
    assert records["allow_overwrite"] is True
    validation = _one(main, "aws_acm_certificate_validation")
    assert validation["certificate_arn"].startswith("${aws_acm_certificate.")
    assert validation["validation_record_fqdns"].endswith(": val.fqdn]}")


def test_txnproc_reads_its_queue_reporting_failures_per_message(both: dict[str, Path]) -> None:
    mapping = _one(
        _stack(both, "paydr-eu02-payments-eu-west-1", "dr-variant"),
        "aws_lambda_event_source_mapping",
    )
    assert mapping["batch_size"] == 5
    assert mapping["maximum_batching_window_in_seconds"] == 0
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["scaling_config"] == {"maximum_concurrency": 40}
    assert "queue_txnproc_" in mapping["event_source_arn"]
    assert "function_txnproc" in mapping["function_name"]


# ---------------------------------------------------------------- failover


def test_the_primary_foundation_holds_the_zone_and_every_health_check(
    both: dict[str, Path],
) -> None:
    # Deployed first, so the zone can be delegated before certificates validate in it.
    main = _stack(both, f"{PRIMARY}-foundation")
    zone = _one(main, "aws_route53_zone")
    assert zone["name"] == "txn.example.com" and zone["force_destroy"] is True
    assert set(_skipped(zone)) == {"CKV2_AWS_38", "CKV2_AWS_39"}
    checks = main["resource"]["aws_route53_health_check"]
    assert sorted(c["fqdn"] for c in checks.values()) == [
        "us-east-1.api.txn.example.com",
        "us-east-2.api.txn.example.com",
    ]
    check = _one(main, "aws_route53_health_check", "prod_us_east_2")
    assert check["type"] == "HTTPS" and check["port"] == 8443 and check["enable_sni"] is True
    assert check["resource_path"] == "/health"
    assert check["request_interval"] == 10 and check["failure_threshold"] == 3
    assert check["tags"] == {"Name": "txndr-dr01-prod-us-east-2-health"}
    zone_lid = next(iter(main["resource"]["aws_route53_zone"]))
    assert main["output"]["prod_us_east_1_zone_name_servers"]["value"] == (
        f'${{join(",", aws_route53_zone.{zone_lid}.name_servers)}}'
    )
    for stack in (PRIMARY, SECONDARY):
        assert "aws_route53_zone" not in _stack(both, stack)["resource"]
        assert "aws_route53_health_check" not in _stack(both, stack)["resource"]


def test_every_site_has_a_regional_and_a_weighted_alias(both: dict[str, Path]) -> None:
    main = _stack(both, SECONDARY)
    regional = _one(main, "aws_route53_record", "regional")
    weighted = _one(main, "aws_route53_record", "weighted")
    zone = _remote(f"{PRIMARY}-foundation", "prod_us_east_1_zone_id")
    assert regional["zone_id"] == weighted["zone_id"] == zone
    assert regional["name"] == "us-east-2.api.txn.example.com" and regional["type"] == "A"
    assert weighted["name"] == "api.txn.example.com"
    assert weighted["set_identifier"] == "prod-us-east-2"
    assert weighted["weighted_routing_policy"] == {"weight": 0}
    assert weighted["health_check_id"] == _remote(
        f"{PRIMARY}-foundation", "prod_us_east_1_healthcheck_prod_us_east_2_id"
    )
    # The regional name is this region alone; only the shared name weighs target health.
    assert regional["alias"] == {**weighted["alias"], "evaluate_target_health": False}
    assert weighted["alias"]["evaluate_target_health"] is True
    assert regional["alias"]["name"].endswith(".dns_name}")
    primary = _one(_stack(both, PRIMARY), "aws_route53_record", "weighted")
    assert primary["weighted_routing_policy"] == {"weight": 100}


def test_the_failover_function_runs_on_a_schedule_outside_the_vpc(both: dict[str, Path]) -> None:
    main = _stack(both, SECONDARY)
    function = _one(main, "aws_lambda_function", "failover")
    assert "vpc_config" not in function
    assert "CKV_AWS_117" in _skipped(function)
    assert "CKV_AWS_117" not in _skipped(_one(main, "aws_lambda_function", "txnproc"))
    target = _one(main, "aws_cloudwatch_event_target", "failover")
    assert "role_arn" not in target  # EventBridge invokes through the permission
    assert "function_failover" in target["arn"] and "input" not in target
    # txnproc's private deep check, every minute in every region, with its constant event.
    deep = _one(main, "aws_cloudwatch_event_target", "txnproc")
    assert deep["input"] == '{"action":"deep_health"}' and "function_txnproc" in deep["arn"]
    schedule = _one(main, "aws_lambda_permission", "failover_schedule")
    assert schedule["principal"] == "events.amazonaws.com"
    assert schedule["source_arn"].endswith(":rule/txndr-dr01-prod-us-east-2-failover")


def test_the_primarys_topic_invokes_the_secondarys_failover(both: dict[str, Path]) -> None:
    subscription = _one(_stack(both, PRIMARY), "aws_sns_topic_subscription", "failover")
    assert subscription["protocol"] == "lambda"
    assert subscription["endpoint"] == (
        "arn:aws:lambda:us-east-2:444444444444:function:txndr-dr01-prod-us-east-2-failover"
    )
    assert "aws_sns_topic_subscription" in _stack(both, SECONDARY)["resource"]
    secondary = _stack(both, SECONDARY)["resource"]["aws_sns_topic_subscription"]
    assert all(s["protocol"] == "email" for s in secondary.values())


# ---------------------------------------------------------------- sessions and backup


def test_the_sessions_table_is_global_and_encrypted_per_region(both: dict[str, Path]) -> None:
    main = _stack(both, "paydr-eu02-payments-eu-west-1", "dr-variant")
    table = _one(main, "aws_dynamodb_table")
    assert table["name"] == "paydr-eu02-live-carts"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == "session_id"
    assert table["attribute"] == [{"name": "session_id", "type": "S"}]
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["stream_enabled"] is True
    assert table["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert table["point_in_time_recovery"] == {"enabled": True}
    foundation = "paydr-eu02-live-eu-west-1-foundation"
    assert table["server_side_encryption"] == {
        "enabled": True,
        "kms_key_arn": _remote(foundation, "live_eu_west_1_key_arn"),
    }
    assert table["replica"] == [
        {
            "region_name": "eu-south-2",
            "kms_key_arn": _remote(
                "paydr-eu02-live-eu-south-2-foundation", "live_eu_south_2_key_arn"
            ),
            "point_in_time_recovery": True,
            "deletion_protection_enabled": True,  # live is production
        }
    ]
    assert (
        "aws_dynamodb_table"
        not in _stack(both, "paydr-eu02-payments-eu-south-2", "dr-variant")["resource"]
    )


def test_backups_select_the_sites_cluster(both: dict[str, Path]) -> None:
    main = _stack(both, "paydr-eu02-payments-eu-south-2", "dr-variant")
    vault = _one(main, "aws_backup_vault")
    assert vault["force_destroy"] is False  # live is production: its recovery points stay
    assert vault["kms_key_arn"] == _remote(
        "paydr-eu02-live-eu-south-2-foundation", "live_eu_south_2_key_arn"
    )
    (rule,) = _one(main, "aws_backup_plan")["rule"]
    assert rule["rule_name"] == "daily"
    assert rule["schedule"] == "cron(30 2 * * ? *)"
    assert rule["start_window"] == 60 and rule["completion_window"] == 180
    assert rule["lifecycle"] == {"delete_after": 14}
    assert rule["target_vault_name"].startswith("${aws_backup_vault.")
    selection = _one(main, "aws_backup_selection")
    assert selection["name"] == "paydr-eu02-live-eu-south-2-clusters"
    assert "roles_role_backup" in selection["iam_role_arn"]
    assert len(selection["resources"]) == 1
    assert selection["resources"][0].startswith("${aws_rds_cluster.")
    assert selection["resources"][0].endswith(".arn}")


# ---------------------------------------------------------------- outputs


def test_site_outputs_are_the_plans(both: dict[str, Path]) -> None:
    outputs = _stack(both, PRIMARY)["output"]
    assert outputs["url"]["value"] == "https://api.txn.example.com"
    assert outputs["regional_url"]["value"] == "https://us-east-1.api.txn.example.com"
    assert outputs["global_database"]["value"] == "txndr-dr01-prod-global"
    assert outputs["load_balancer_dns_name"]["value"].startswith("${aws_lb.")
    assert outputs["hosted_zone_id"]["value"] == _remote(
        f"{PRIMARY}-foundation", "prod_us_east_1_zone_id"
    )
    assert (
        outputs["bucket_documents"]["value"] == "txndr-dr01-prod-us-east-1-documents-444444444444"
    )
    assert "url" not in _stack(both, SECONDARY)["output"]


# ---------------------------------------------------------------- without synthesis


def test_a_key_created_beforehand_is_registered_not_built() -> None:
    """Constructs only (no synthesis): the key's ARN is the plan's, and nothing is built."""
    from dataclasses import replace

    from cdktf import App, TerraformStack

    from replgen import compiler
    from replgen.backends.cdktf.context import Ctx
    from replgen.backends.cdktf.keys import Keys

    plan = compiler.plan_for(compiler.load_spec(ROOT / "specs" / "prod.yaml"))
    external = "arn:aws:kms:us-east-1:111111111111:key/abcd-1234"
    site = replace(plan.sites[0], key=replace(plan.sites[0].key, external_arn=external))
    stack = TerraformStack(App(), "s")
    ctx = Ctx(plan, stack, "s", lambda site_id, component: "s")
    keys = Keys(stack, "keys", ctx, site)
    assert ctx.value(site.topic.kms_key) == external  # what every encrypted part reads
    assert keys.node.children == []


def test_oidc_sites_reach_the_alb_signing_keys_through_a_nat(both: dict[str, Path]) -> None:
    main = _stack(both, "paydr-eu02-payments-eu-west-1", "dr-variant")
    nat = _one(main, "aws_nat_gateway")
    assert nat["allocation_id"].startswith("${aws_eip.") and "public_subnet_1" in nat["subnet_id"]
    route = _one(main, "aws_route", "private_default_route")
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["nat_gateway_id"].startswith("${aws_nat_gateway.")
    assert "aws_nat_gateway" not in _stack(both, SECONDARY)["resource"]
