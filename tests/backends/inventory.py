"""What a compiled output builds, read back from the files, in one vocabulary for both backends.

Each resource type maps to a category and a function giving its key properties; a type in
neither table fails the parity test, so a component one backend renders and the other does
not cannot slip by.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

Inventory = dict[str, Counter[tuple[Any, ...]]]
Props = dict[str, Any]


def _literal(value: Any) -> Any:
    """A value both backends can write the same way; references compare as a marker."""
    if isinstance(value, str) and "${" in value:
        return "<ref>"
    if isinstance(value, dict | list):
        return "<ref>"
    return value


def _one(value: Any) -> Any:
    """A nested block: Terraform JSON may write it as a one-element list."""
    return value[0] if isinstance(value, list) else value


def _name(text: str) -> str:
    return text.rstrip(".")  # Route 53 answers with the root dot; specs write none


def _last(service: Any) -> str:
    text = service if isinstance(service, str) else service["Fn::Sub"]
    return text.rsplit(".", 1)[-1]


# ---------------------------------------------------------------- CloudFormation

CFN: dict[str, tuple[str, Callable[[Props, Props], tuple[Any, ...]]]] = {
    "AWS::EC2::VPC": ("vpc", lambda p, _: (p["CidrBlock"],)),
    "AWS::EC2::Subnet": ("subnet", lambda p, _: (p["CidrBlock"],)),
    "AWS::EC2::RouteTable": ("route_table", lambda p, _: ()),
    "AWS::EC2::Route": ("route", lambda p, _: (p["DestinationCidrBlock"],)),
    "AWS::EC2::InternetGateway": ("internet_gateway", lambda p, _: ()),
    "AWS::EC2::EIP": ("elastic_ip", lambda p, _: (p["Domain"],)),
    "AWS::EC2::NatGateway": ("nat_gateway", lambda p, _: ()),
    "AWS::EC2::VPCPeeringConnection": ("peering", lambda p, _: ()),
    "AWS::EC2::NetworkAcl": ("network_acl", lambda p, _: ()),
    "AWS::EC2::NetworkAclEntry": (
        "acl_rule",
        lambda p, _: (
            p["RuleNumber"],
            p["Egress"],
            {"-1": "all", "6": "tcp"}[p["Protocol"]],
            p.get("PortRange", {}).get("From"),
            p.get("PortRange", {}).get("To"),
            p["CidrBlock"],
            p["RuleAction"],
        ),
    ),
    "AWS::EC2::SecurityGroup": ("security_group", lambda p, _: (p["GroupName"],)),
    "AWS::EC2::VPCEndpoint": ("endpoint", lambda p, _: (_last(p["ServiceName"]),)),
    "AWS::EC2::FlowLog": ("flow_log", lambda p, _: (p["TrafficType"],)),
    "AWS::KMS::Key": ("key", lambda p, _: (p["EnableKeyRotation"],)),
    "AWS::KMS::Alias": ("key_alias", lambda p, _: (p["AliasName"],)),
    "AWS::IAM::Role": ("role", lambda p, _: (p["RoleName"],)),
    "AWS::RDS::DBCluster": (
        "cluster",
        lambda p, _: (
            p["DBClusterIdentifier"],
            p["Engine"],
            p["EngineVersion"],
            p["StorageEncrypted"],
            p["BackupRetentionPeriod"],
        ),
    ),
    "AWS::RDS::DBInstance": (
        "instance",
        lambda p, _: (
            p["DBInstanceClass"],
            p.get("MonitoringInterval"),
            p["CACertificateIdentifier"],
        ),
    ),
    "AWS::RDS::DBSubnetGroup": ("db_subnet_group", lambda p, _: (p["DBSubnetGroupName"],)),
    "AWS::RDS::DBClusterParameterGroup": ("db_parameter_group", lambda p, _: (p["Family"],)),
    "Custom::SecureStringParameter": ("parameter", lambda p, _: (p["Name"],)),
    "Custom::FunctionInvocation": ("invocation", lambda p, _: (p["Payload"],)),
    "AWS::S3::Bucket": ("bucket", lambda p, _: (p["BucketName"],)),
    "AWS::S3::BucketPolicy": ("bucket_policy", lambda p, _: ()),
    "AWS::Lambda::Function": (
        "function",
        lambda p, _: (p["FunctionName"], p["Runtime"], p["Timeout"], p.get("MemorySize")),
    ),
    "AWS::Logs::LogGroup": ("log_group", lambda p, _: (p["LogGroupName"], p["RetentionInDays"])),
    "AWS::SQS::Queue": ("queue", lambda p, _: (p["QueueName"], "KmsMasterKeyId" in p)),
    "AWS::Events::Rule": ("schedule", lambda p, _: (p["ScheduleExpression"],)),
    "AWS::StepFunctions::StateMachine": ("state_machine", lambda p, _: (p["StateMachineName"],)),
    "AWS::SNS::Topic": ("topic", lambda p, _: (p["TopicName"], "KmsMasterKeyId" in p)),
    "AWS::SNS::Subscription": ("subscription", lambda p, _: (p["Protocol"], p["Endpoint"])),
    "AWS::CloudWatch::Alarm": (
        "alarm",
        lambda p, _: (
            p["AlarmName"],
            p["MetricName"],
            float(p["Threshold"]),
            p.get("Unit"),
            p["ComparisonOperator"],
            p["EvaluationPeriods"],
        ),
    ),
    "AWS::RDS::GlobalCluster": (
        "global_cluster",
        lambda p, _: (
            p["GlobalClusterIdentifier"],
            p["Engine"],
            p["EngineVersion"],
            p["StorageEncrypted"],
        ),
    ),
    "AWS::SecretsManager::Secret": (
        "secret",
        lambda p, _: (p["Name"], tuple(sorted(r["Region"] for r in p.get("ReplicaRegions", [])))),
    ),
    "AWS::SecretsManager::RotationSchedule": (
        "secret_rotation",
        lambda p, _: (p["RotationRules"]["AutomaticallyAfterDays"],),
    ),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        "load_balancer",
        lambda p, _: (p["Name"], p["Scheme"], p["Type"]),
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        "target_group",
        lambda p, _: (p["Name"], p["TargetType"], p.get("HealthCheckPath")),
    ),
    "AWS::ElasticLoadBalancingV2::Listener": (
        "listener",
        lambda p, _: (p["Port"], p["Protocol"], p.get("SslPolicy")),
    ),
    "AWS::ElasticLoadBalancingV2::ListenerRule": (
        "listener_rule",
        lambda p, _: (
            p["Priority"],
            tuple(v for c in p["Conditions"] for conf in _configs(c) for v in conf["Values"]),
        ),
    ),
    "AWS::ElasticLoadBalancingV2::TrustStore": (
        "trust_store",
        lambda p, _: (
            p["Name"],
            p["CaCertificatesBundleS3Bucket"],
            p["CaCertificatesBundleS3Key"],
        ),
    ),
    "AWS::WAFv2::WebACL": (
        "web_acl",
        lambda p, _: (p["Name"], p["Scope"], tuple(r["Name"] for r in p["Rules"])),
    ),
    "AWS::WAFv2::WebACLAssociation": ("web_acl_association", lambda p, _: ()),
    "AWS::WAFv2::LoggingConfiguration": ("web_acl_logging", lambda p, _: ()),
    "AWS::CertificateManager::Certificate": (
        "certificate",
        lambda p, _: (
            p["DomainName"],
            tuple(p.get("SubjectAlternativeNames", [])),
            p["ValidationMethod"],
        ),
    ),
    "AWS::Route53::HostedZone": ("zone", lambda p, _: (_name(p["Name"]),)),
    "AWS::Route53::HealthCheck": (
        "health_check",
        lambda p, _: (
            p["HealthCheckConfig"]["FullyQualifiedDomainName"],
            p["HealthCheckConfig"]["ResourcePath"],
            p["HealthCheckConfig"]["Port"],
            p["HealthCheckConfig"]["Type"],
            p["HealthCheckConfig"]["RequestInterval"],
            p["HealthCheckConfig"]["FailureThreshold"],
        ),
    ),
    "AWS::Route53::RecordSet": (
        "record",
        lambda p, _: (_name(p["Name"]), p["Type"], p.get("Weight"), p.get("SetIdentifier")),
    ),
    "AWS::Lambda::EventSourceMapping": (
        "event_source",
        lambda p, _: (
            p["BatchSize"],
            tuple(p.get("FunctionResponseTypes", [])),
            p.get("ScalingConfig", {}).get("MaximumConcurrency"),
        ),
    ),
    "AWS::Lambda::Permission": ("permission", lambda p, _: (p["Principal"], p["SourceArn"])),
    "AWS::DynamoDB::GlobalTable": (
        "table",
        lambda p, _: (
            p["TableName"],
            p["BillingMode"],
            tuple(sorted(r["Region"] for r in p["Replicas"])),
        ),
    ),
    "AWS::Backup::BackupVault": ("backup_vault", lambda p, _: (p["BackupVaultName"],)),
    "AWS::Backup::BackupPlan": (
        "backup_plan",
        lambda p, _: (
            p["BackupPlan"]["BackupPlanName"],
            tuple(
                (r["ScheduleExpression"], r["Lifecycle"]["DeleteAfterDays"])
                for r in p["BackupPlan"]["BackupPlanRule"]
            ),
        ),
    ),
    "AWS::Backup::BackupSelection": (
        "backup_selection",
        lambda p, _: (p["BackupSelection"]["SelectionName"],),
    ),
}
# Structure CloudFormation spells as separate resources and Terraform as attributes.
CFN_ONLY = {
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::VPCGatewayAttachment",
    # Terraform writes the host and port into the secret's version itself.
    "AWS::SecretsManager::SecretTargetAttachment",
}
# CloudFormation writes SecureStrings, invokes functions at deploy time, and empties a
# destroyable site's buckets and vault on delete, through functions of its own; Terraform
# needs none of them (force_destroy empties buckets and vaults itself).
CFN_WRITER = ("ParameterWriter", "Emptier", "FoundationEmptier", "Invoker")


def _sg_rules(props: Props) -> list[tuple[Any, ...]]:
    rules = []
    for direction, key in (("ingress", "SecurityGroupIngress"), ("egress", "SecurityGroupEgress")):
        for r in props.get(key, []):
            if r.get("CidrIp") == "127.0.0.1/32":
                continue  # stands in for "no egress", which Terraform writes as no rule
            rules.append((direction, r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]))
    return rules


def _resolve(value: Any, template: Props) -> Any:
    """A parameter's default, or a mapping's value where the mapping has one key (the
    site's region): what the template deploys as, without deploying it."""
    if (
        isinstance(value, dict)
        and "Ref" in value
        and value["Ref"] in template.get("Parameters", {})
    ):
        return template["Parameters"][value["Ref"]].get("Default")
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        name, _, attr = value["Fn::FindInMap"]
        (top,) = template["Mappings"][name].values()
        return top[attr]
    return value


def cloudformation(folder: Path) -> Inventory:
    inventory: Inventory = {}
    manifest = json.loads((folder / "manifest.json").read_text())
    # The bootstrap (artifact bucket, deploy role) is deployment machinery both backends
    # share through CloudFormation, not part of the topology they each build.
    skipped = {"manifest.json"} | {s["template"] for s in manifest["stacks"] if s["bootstrap"]}
    for path in sorted(folder.glob("*.json")):
        if path.name in skipped:
            continue
        template = json.loads(path.read_text())
        params = template.get("Parameters", {})
        for lid, resource in template["Resources"].items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if lid.startswith(CFN_WRITER) or kind in CFN_ONLY:
                continue
            if kind not in CFN:
                raise AssertionError(f"{path.name}: {lid} is a {kind}, which parity does not know")
            category, key = CFN[kind]
            values = key(props, params)
            _add(inventory, category, tuple(_literal(_resolve(v, template)) for v in values))
            if kind == "AWS::EC2::SecurityGroup":
                for rule in _sg_rules(props):
                    _add(inventory, "security_rule", rule)
            lock = props.get("LockConfiguration") if kind == "AWS::Backup::BackupVault" else None
            if lock:
                _add(inventory, "vault_lock", (lock["MinRetentionDays"], lock["MaxRetentionDays"]))
            for rule in props.get("ReplicationConfiguration", {}).get("Rules", []):
                _add(inventory, "replication_rule", _cfn_replication(rule))
    return inventory


def _cfn_replication(rule: Props) -> tuple[Any, ...]:
    return (
        rule["Id"],
        rule["Destination"]["Bucket"],
        rule["DeleteMarkerReplication"]["Status"],
        rule["Destination"]["ReplicationTime"]["Time"]["Minutes"],
    )


# ---------------------------------------------------------------- Terraform

TF: dict[str, tuple[str, Callable[[Props], tuple[Any, ...]]]] = {
    "aws_vpc": ("vpc", lambda p: (p["cidr_block"],)),
    "aws_subnet": ("subnet", lambda p: (p["cidr_block"],)),
    "aws_route_table": ("route_table", lambda p: ()),
    "aws_route": ("route", lambda p: (p["destination_cidr_block"],)),
    "aws_internet_gateway": ("internet_gateway", lambda p: ()),
    "aws_eip": ("elastic_ip", lambda p: (p["domain"],)),
    "aws_nat_gateway": ("nat_gateway", lambda p: ()),
    "aws_vpc_peering_connection": ("peering", lambda p: ()),
    "aws_network_acl": ("network_acl", lambda p: ()),
    "aws_network_acl_rule": (
        "acl_rule",
        lambda p: (
            p["rule_number"],
            p["egress"],
            {"-1": "all", "6": "tcp"}[p["protocol"]],
            p.get("from_port"),
            p.get("to_port"),
            p["cidr_block"],
            p["rule_action"],
        ),
    ),
    "aws_security_group": ("security_group", lambda p: (p["name"],)),
    "aws_vpc_endpoint": ("endpoint", lambda p: (_last(p["service_name"]),)),
    "aws_flow_log": ("flow_log", lambda p: (p["traffic_type"],)),
    "aws_kms_key": ("key", lambda p: (p["enable_key_rotation"],)),
    "aws_kms_alias": ("key_alias", lambda p: (p["name"],)),
    "aws_iam_role": ("role", lambda p: (p["name"],)),
    "aws_rds_cluster": (
        "cluster",
        lambda p: (
            p["cluster_identifier"],
            p["engine"],
            p["engine_version"],
            p["storage_encrypted"],
            p["backup_retention_period"],
        ),
    ),
    "aws_rds_cluster_instance": (
        "instance",
        lambda p: (p["instance_class"], p.get("monitoring_interval"), p["ca_cert_identifier"]),
    ),
    "aws_db_subnet_group": ("db_subnet_group", lambda p: (p["name"],)),
    "aws_rds_cluster_parameter_group": ("db_parameter_group", lambda p: (p["family"],)),
    "aws_ssm_parameter": ("parameter", lambda p: (p["name"],)),
    "aws_lambda_invocation": ("invocation", lambda p: (p["input"],)),
    "aws_s3_bucket": ("bucket", lambda p: (p["bucket"],)),
    "aws_s3_bucket_policy": ("bucket_policy", lambda p: ()),
    "aws_lambda_function": (
        "function",
        lambda p: (p["function_name"], p["runtime"], p["timeout"], p.get("memory_size")),
    ),
    "aws_cloudwatch_log_group": ("log_group", lambda p: (p["name"], p["retention_in_days"])),
    "aws_sqs_queue": ("queue", lambda p: (p["name"], "kms_master_key_id" in p)),
    "aws_cloudwatch_event_rule": ("schedule", lambda p: (p["schedule_expression"],)),
    "aws_sfn_state_machine": ("state_machine", lambda p: (p["name"],)),
    "aws_sns_topic": ("topic", lambda p: (p["name"], "kms_master_key_id" in p)),
    "aws_sns_topic_subscription": ("subscription", lambda p: (p["protocol"], p["endpoint"])),
    "aws_cloudwatch_metric_alarm": (
        "alarm",
        lambda p: (
            p["alarm_name"],
            p["metric_name"],
            float(p["threshold"]),
            p.get("unit"),
            p["comparison_operator"],
            p["evaluation_periods"],
        ),
    ),
    "aws_rds_global_cluster": (
        "global_cluster",
        lambda p: (
            p["global_cluster_identifier"],
            p["engine"],
            p["engine_version"],
            p["storage_encrypted"],
        ),
    ),
    "aws_secretsmanager_secret": (
        "secret",
        lambda p: (p["name"], tuple(sorted(r["region"] for r in p.get("replica", [])))),
    ),
    "aws_secretsmanager_secret_rotation": (
        "secret_rotation",
        lambda p: (_one(p["rotation_rules"])["automatically_after_days"],),
    ),
    "aws_lb": (
        "load_balancer",
        lambda p: (
            p["name"],
            "internal" if p.get("internal") else "internet-facing",
            p["load_balancer_type"],
        ),
    ),
    "aws_lb_target_group": (
        "target_group",
        lambda p: (p["name"], p["target_type"], _one(p.get("health_check", {})).get("path")),
    ),
    "aws_lb_listener": ("listener", lambda p: (p["port"], p["protocol"], p.get("ssl_policy"))),
    "aws_lb_listener_rule": (
        "listener_rule",
        lambda p: (
            p["priority"],
            tuple(v for c in p["condition"] for block in c.values() for v in block["values"]),
        ),
    ),
    "aws_lb_trust_store": (
        "trust_store",
        lambda p: (
            p["name"],
            p["ca_certificates_bundle_s3_bucket"],
            p["ca_certificates_bundle_s3_key"],
        ),
    ),
    "aws_wafv2_web_acl": (
        "web_acl",
        lambda p: (p["name"], p["scope"], tuple(r["name"] for r in p["rule"])),
    ),
    "aws_wafv2_web_acl_association": ("web_acl_association", lambda p: ()),
    "aws_wafv2_web_acl_logging_configuration": ("web_acl_logging", lambda p: ()),
    "aws_acm_certificate": (
        "certificate",
        lambda p: (
            p["domain_name"],
            tuple(p.get("subject_alternative_names", [])),
            p["validation_method"],
        ),
    ),
    "aws_route53_zone": ("zone", lambda p: (_name(p["name"]),)),
    "aws_route53_health_check": (
        "health_check",
        lambda p: (
            p["fqdn"],
            p["resource_path"],
            p["port"],
            p["type"],
            p["request_interval"],
            p["failure_threshold"],
        ),
    ),
    "aws_route53_record": (
        "record",
        lambda p: (
            _name(p["name"]),
            p["type"],
            _one(p.get("weighted_routing_policy", {})).get("weight"),
            p.get("set_identifier"),
        ),
    ),
    "aws_lambda_event_source_mapping": (
        "event_source",
        lambda p: (
            p["batch_size"],
            tuple(p.get("function_response_types", [])),
            _one(p.get("scaling_config", {})).get("maximum_concurrency"),
        ),
    ),
    "aws_lambda_permission": ("permission", lambda p: (p["principal"], p["source_arn"])),
    "aws_backup_vault": ("backup_vault", lambda p: (p["name"],)),
    # CloudFormation's is the vault's LockConfiguration.
    "aws_backup_vault_lock_configuration": (
        "vault_lock",
        lambda p: (p["min_retention_days"], p["max_retention_days"]),
    ),
    "aws_backup_plan": (
        "backup_plan",
        lambda p: (
            p["name"],
            tuple(
                (r["schedule"], _one(r["lifecycle"])["delete_after"])
                for r in (p["rule"] if isinstance(p["rule"], list) else [p["rule"]])
            ),
        ),
    ),
    "aws_backup_selection": ("backup_selection", lambda p: (p["name"],)),
    "aws_dynamodb_table": ("table", lambda p: ()),  # read by _tf_table, with its region
}
# Terraform spells these as resources where CloudFormation nests them in another resource.
TF_ONLY = {
    "aws_route_table_association",
    "aws_network_acl_association",
    "aws_vpc_peering_connection_accepter",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls",
    "aws_cloudwatch_event_target",
    "aws_lambda_function_event_invoke_config",
    # CloudFormation cannot manage a VPC's default group; Terraform empties it of rules.
    "aws_default_security_group",
    "aws_lb_target_group_attachment",
    "aws_acm_certificate_validation",
    # CloudFormation's RotationSchedule deploys the hosted rotation app and writes the
    # first secret value itself; Terraform spells out both.
    "aws_serverlessapplicationrepository_cloudformation_stack",
    "aws_secretsmanager_secret_version",
    "aws_s3_bucket_replication_configuration",  # its rules are compared below
}


def terraform(folder: Path) -> Inventory:
    inventory: Inventory = {}
    for path in sorted(folder.glob("stacks/*/cdk.tf.json")):
        stack = json.loads(path.read_text())
        for kind, resources in stack.get("resource", {}).items():
            if kind == "aws_s3_bucket_replication_configuration":
                for props in resources.values():
                    for rule in props["rule"]:
                        _add(inventory, "replication_rule", _tf_replication(rule))
            if kind in TF_ONLY:
                continue
            if kind not in TF:
                raise AssertionError(f"{path}: {kind} is a type parity does not know")
            category, key = TF[kind]
            for props in resources.values():
                if kind == "aws_route53_record" and "alias" not in props:
                    continue  # certificate validation: CloudFormation writes it itself
                if kind == "aws_dynamodb_table":
                    _add(inventory, "table", _tf_table(props, stack))
                    continue
                _add(inventory, category, tuple(_literal(v) for v in key(props)))
                if kind == "aws_security_group":
                    for direction in ("ingress", "egress"):
                        for r in props.get(direction, []):
                            for cidr in r["cidr_blocks"]:
                                rule = (
                                    direction,
                                    r["protocol"],
                                    r["from_port"],
                                    r["to_port"],
                                    cidr,
                                )
                                _add(inventory, "security_rule", rule)
    return inventory


def _tf_replication(rule: Props) -> tuple[Any, ...]:
    destination = _one(rule["destination"])
    return (
        rule["id"],
        destination["bucket"],
        _one(rule["delete_marker_replication"])["status"],
        _one(_one(destination["replication_time"])["time"])["minutes"],
    )


def _tf_table(props: Props, stack: Props) -> tuple[Any, ...]:
    """The table's own region is its provider's; replicas name theirs."""
    (provider,) = stack["provider"]["aws"]
    regions = [provider["region"], *(r["region_name"] for r in props.get("replica", []))]
    return (props["name"], props["billing_mode"], tuple(sorted(regions)))


def _add(inventory: Inventory, category: str, key: tuple[Any, ...]) -> None:
    inventory.setdefault(category, Counter())[key] += 1


def _configs(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """A listener rule condition's value blocks (``PathPatternConfig``, ...)."""
    return [v for k, v in condition.items() if k.endswith("Config")]
