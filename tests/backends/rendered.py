"""Both backends' resources with the components they were rendered for, and the key
properties of each in one vocabulary (the plan's): what the structural parity test
compares with what the plan says each component is.

The backends record the component each resource was rendered for (`Rendered.provenance`);
this module only reads properties: a resource type neither table knows is structure one
backend spells as a resource of its own (a bucket's versioning in Terraform, a subnet's
route table association in CloudFormation), still attributed, never compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replgen.backends.provenance import Origin, Provenance

Found = tuple[str, tuple[Any, ...]]  # (category, key properties)
Props = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    file: str
    address: str
    type: str
    origin: Origin | None  # None: attributed to nothing
    found: tuple[Found, ...]  # what it is, in the plan's vocabulary


def _one(value: Any) -> Any:
    """A nested block: Terraform JSON may write it as a one-element list."""
    return value[0] if isinstance(value, list) else value


def _name(text: str) -> str:
    return text.rstrip(".")  # Route 53 answers with the root dot; the plan writes none


def _last(service: Any) -> str:
    text = service if isinstance(service, str) else service["Fn::Sub"]
    return text.rsplit(".", 1)[-1]


def _protocol(code: str) -> str:
    return {"-1": "all", "6": "tcp"}[code]


def _values(condition: Props) -> list[Any]:
    """A listener rule condition's values (in `PathPatternConfig`, ...)."""
    return [v for k, block in condition.items() if k.endswith("Config") for v in block["Values"]]


# ---------------------------------------------------------------- CloudFormation

CfnRead = Callable[[Props], list[Found]]


def _cfn_security_group(p: Props) -> list[Found]:
    found: list[Found] = [("security_group", (p["GroupName"],))]
    for direction, key in (("ingress", "SecurityGroupIngress"), ("egress", "SecurityGroupEgress")):
        for r in p.get(key, []):
            if r.get("CidrIp") == "127.0.0.1/32":
                continue  # stands in for "no egress", which Terraform writes as no rule
            found.append(
                (
                    "security_rule",
                    (direction, r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]),
                )
            )
    return found


def _cfn_bucket(p: Props) -> list[Found]:
    found: list[Found] = [("bucket", (p["BucketName"],))]
    for rule in p.get("ReplicationConfiguration", {}).get("Rules", []):
        destination = rule["Destination"]
        minutes = destination["ReplicationTime"]["Time"]["Minutes"]
        markers = rule["DeleteMarkerReplication"]["Status"]
        found.append(("replication_rule", (rule["Id"], destination["Bucket"], markers, minutes)))
    return found


def _cfn_vault(p: Props) -> list[Found]:
    found: list[Found] = [("backup_vault", (p["BackupVaultName"],))]
    lock = p.get("LockConfiguration")
    if lock:
        found.append(("vault_lock", (lock["MinRetentionDays"], lock["MaxRetentionDays"])))
    return found


def _cfn_rules(p: Props) -> tuple[tuple[str, int], ...]:
    rules = p["BackupPlan"]["BackupPlanRule"]
    return tuple((r["ScheduleExpression"], r["Lifecycle"]["DeleteAfterDays"]) for r in rules)


CFN: dict[str, CfnRead] = {
    "AWS::EC2::VPC": lambda p: [("vpc", (p["CidrBlock"],))],
    "AWS::EC2::Subnet": lambda p: [("subnet", (p["CidrBlock"],))],
    "AWS::EC2::RouteTable": lambda p: [("route_table", ())],
    "AWS::EC2::Route": lambda p: [("route", (p["DestinationCidrBlock"],))],
    "AWS::EC2::InternetGateway": lambda p: [("internet_gateway", ())],
    "AWS::EC2::EIP": lambda p: [("elastic_ip", (p["Domain"],))],
    "AWS::EC2::NatGateway": lambda p: [("nat_gateway", ())],
    "AWS::EC2::NetworkAcl": lambda p: [("network_acl", ())],
    "AWS::EC2::VPCPeeringConnection": lambda p: [("peering", ())],
    "AWS::EC2::NetworkAclEntry": lambda p: [
        (
            "acl_rule",
            (
                p["RuleNumber"],
                p["Egress"],
                _protocol(p["Protocol"]),
                p.get("PortRange", {}).get("From"),
                p.get("PortRange", {}).get("To"),
                p["CidrBlock"],
                p["RuleAction"],
            ),
        )
    ],
    "AWS::EC2::SecurityGroup": _cfn_security_group,
    "AWS::EC2::VPCEndpoint": lambda p: [("endpoint", (_last(p["ServiceName"]),))],
    "AWS::EC2::FlowLog": lambda p: [("flow_log", (p["TrafficType"],))],
    "AWS::KMS::Key": lambda p: [("key", (p["EnableKeyRotation"],))],
    "AWS::KMS::Alias": lambda p: [("key_alias", (p["AliasName"],))],
    "AWS::IAM::Role": lambda p: [("role", (p.get("RoleName"),))],
    "AWS::RDS::DBCluster": lambda p: [
        (
            "cluster",
            (
                p["DBClusterIdentifier"],
                p["Engine"],
                p["EngineVersion"],
                p["BackupRetentionPeriod"],
                p["StorageEncrypted"],
            ),
        )
    ],
    "AWS::RDS::DBInstance": lambda p: [
        (
            "instance",
            (p["DBInstanceClass"], p.get("MonitoringInterval"), p["CACertificateIdentifier"]),
        )
    ],
    "AWS::RDS::DBSubnetGroup": lambda p: [("db_subnet_group", (p["DBSubnetGroupName"],))],
    "AWS::RDS::DBClusterParameterGroup": lambda p: [("db_parameter_group", (p["Family"],))],
    "AWS::RDS::GlobalCluster": lambda p: [
        (
            "global_cluster",
            (
                p["GlobalClusterIdentifier"],
                p["Engine"],
                p["EngineVersion"],
                p["StorageEncrypted"],
            ),
        )
    ],
    "AWS::SecretsManager::Secret": lambda p: [
        ("secret", (p["Name"], tuple(sorted(r["Region"] for r in p.get("ReplicaRegions", [])))))
    ],
    "AWS::SecretsManager::RotationSchedule": lambda p: [
        ("secret_rotation", (p["RotationRules"]["AutomaticallyAfterDays"],))
    ],
    "Custom::SecureStringParameter": lambda p: [("parameter", (p["Name"],))],
    "Custom::FunctionInvocation": lambda p: [("invocation", (p["Payload"],))],
    "AWS::S3::Bucket": _cfn_bucket,
    "AWS::S3::BucketPolicy": lambda p: [("bucket_policy", ())],
    "AWS::Lambda::Function": lambda p: [
        ("function", (p.get("FunctionName"), p["Runtime"], p["Timeout"], p.get("MemorySize")))
    ],
    "AWS::Logs::LogGroup": lambda p: [
        ("log_group", (p.get("LogGroupName"), p.get("RetentionInDays")))
    ],
    "AWS::SQS::Queue": lambda p: [("queue", (p.get("QueueName"), "KmsMasterKeyId" in p))],
    "AWS::Events::Rule": lambda p: [("schedule", (p["ScheduleExpression"],))],
    "AWS::StepFunctions::StateMachine": lambda p: [("state_machine", (p["StateMachineName"],))],
    "AWS::SNS::Topic": lambda p: [("topic", (p["TopicName"], "KmsMasterKeyId" in p))],
    "AWS::SNS::Subscription": lambda p: [("subscription", (p["Protocol"], p["Endpoint"]))],
    "AWS::CloudWatch::Alarm": lambda p: [
        (
            "alarm",
            (
                p["AlarmName"],
                p["MetricName"],
                float(p["Threshold"]),
                p.get("Unit"),
                p["ComparisonOperator"],
                p["EvaluationPeriods"],
            ),
        )
    ],
    "AWS::ElasticLoadBalancingV2::LoadBalancer": lambda p: [
        ("load_balancer", (p["Name"], p["Scheme"], p["Type"]))
    ],
    "AWS::ElasticLoadBalancingV2::TargetGroup": lambda p: [
        ("target_group", (p["Name"], p["TargetType"], p.get("HealthCheckPath")))
    ],
    "AWS::ElasticLoadBalancingV2::Listener": lambda p: [
        ("listener", (p["Port"], p["Protocol"], p.get("SslPolicy")))
    ],
    "AWS::ElasticLoadBalancingV2::ListenerRule": lambda p: [
        (
            "listener_rule",
            (p["Priority"], tuple(sorted(v for c in p["Conditions"] for v in _values(c)))),
        )
    ],
    "AWS::ElasticLoadBalancingV2::TrustStore": lambda p: [
        (
            "trust_store",
            (p["Name"], p["CaCertificatesBundleS3Bucket"], p["CaCertificatesBundleS3Key"]),
        )
    ],
    "AWS::WAFv2::WebACL": lambda p: [
        ("web_acl", (p["Name"], p["Scope"], tuple(r["Name"] for r in p["Rules"])))
    ],
    "AWS::WAFv2::WebACLAssociation": lambda p: [("web_acl_association", ())],
    "AWS::WAFv2::LoggingConfiguration": lambda p: [("web_acl_logging", ())],
    "AWS::CertificateManager::Certificate": lambda p: [
        (
            "certificate",
            (p["DomainName"], tuple(p.get("SubjectAlternativeNames", [])), p["ValidationMethod"]),
        )
    ],
    "AWS::Route53::HostedZone": lambda p: [("zone", (_name(p["Name"]),))],
    "AWS::Route53::HealthCheck": lambda p: [
        (
            "health_check",
            tuple(
                p["HealthCheckConfig"][k]
                for k in (
                    "FullyQualifiedDomainName",
                    "ResourcePath",
                    "Port",
                    "Type",
                    "RequestInterval",
                    "FailureThreshold",
                )
            ),
        )
    ],
    "AWS::Route53::RecordSet": lambda p: [
        ("record", (_name(p["Name"]), p["Type"], p.get("Weight"), p.get("SetIdentifier")))
    ],
    "AWS::Lambda::EventSourceMapping": lambda p: [
        (
            "event_source",
            (
                p["BatchSize"],
                tuple(p.get("FunctionResponseTypes", [])),
                p["ScalingConfig"]["MaximumConcurrency"],
            ),
        )
    ],
    "AWS::Lambda::Permission": lambda p: [("permission", (p["Principal"], p["SourceArn"]))],
    "AWS::DynamoDB::GlobalTable": lambda p: [
        (
            "table",
            (p["TableName"], p["BillingMode"], tuple(sorted(r["Region"] for r in p["Replicas"]))),
        )
    ],
    "AWS::Backup::BackupVault": _cfn_vault,
    "AWS::Backup::BackupPlan": lambda p: [
        ("backup_plan", (p["BackupPlan"]["BackupPlanName"], _cfn_rules(p)))
    ],
    "AWS::Backup::BackupSelection": lambda p: [
        ("backup_selection", (p["BackupSelection"]["SelectionName"],))
    ],
}


# Types read for no key property: structure CloudFormation spells as resources of its own
# where Terraform writes attributes, and the emptier's deploy-time resource (its function's
# log group is compared). Any other type fails: a new one is read or declared here.
CFN_STRUCTURE = {
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::VPCGatewayAttachment",
    # Terraform writes the host and port into the secret's version itself.
    "AWS::SecretsManager::SecretTargetAttachment",
    "Custom::EmptyOnDelete",
}


def _resolve(value: Any, template: Props) -> Any:
    """A parameter's default, or a mapping's value where the mapping has one key (the
    site's region): what the template deploys as, without deploying it."""
    if isinstance(value, dict) and value.get("Ref") in template.get("Parameters", {}):
        return template["Parameters"][value["Ref"]].get("Default")
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        name, _, attr = value["Fn::FindInMap"]
        (top,) = template["Mappings"][name].values()
        return top[attr]
    return value


def cloudformation(folder: Path, provenance: Provenance) -> list[Resource]:
    found = []
    for name in sorted(provenance):
        template = json.loads((folder / name).read_text())
        for lid, resource in template["Resources"].items():
            kind = resource["Type"]
            props = {k: _resolve(v, template) for k, v in resource.get("Properties", {}).items()}
            read = CFN[kind](props) if kind in CFN else []
            found.append(Resource(name, lid, kind, provenance[name].get(lid), tuple(read)))
    return found


# ---------------------------------------------------------------- Terraform

TfRead = Callable[[Props, Props], list[Found]]


def _tf_security_group(p: Props, _: Props) -> list[Found]:
    found: list[Found] = [("security_group", (p["name"],))]
    for direction in ("ingress", "egress"):
        for r in p.get(direction, []):
            for cidr in r["cidr_blocks"]:
                found.append(
                    (
                        "security_rule",
                        (direction, r["protocol"], r["from_port"], r["to_port"], cidr),
                    )
                )
    return found


def _tf_replication(p: Props, _: Props) -> list[Found]:
    found: list[Found] = []
    for rule in p["rule"]:
        destination = _one(rule["destination"])
        minutes = _one(_one(destination["replication_time"])["time"])["minutes"]
        markers = _one(rule["delete_marker_replication"])["status"]
        found.append(("replication_rule", (rule["id"], destination["bucket"], markers, minutes)))
    return found


def _tf_table(p: Props, stack: Props) -> list[Found]:
    """The table's own region is its provider's; replicas name theirs."""
    (provider,) = stack["provider"]["aws"]
    regions = [provider["region"], *(r["region_name"] for r in p.get("replica", []))]
    return [("table", (p["name"], p["billing_mode"], tuple(sorted(regions))))]


def _tf_record(p: Props, _: Props) -> list[Found]:
    if "alias" not in p:
        return []  # certificate validation: CloudFormation's certificate writes it itself
    weight = _one(p.get("weighted_routing_policy", {})).get("weight")
    return [("record", (_name(p["name"]), p["type"], weight, p.get("set_identifier")))]


def _tf_rules(p: Props) -> tuple[tuple[str, int], ...]:
    rules = p["rule"] if isinstance(p["rule"], list) else [p["rule"]]
    return tuple((r["schedule"], _one(r["lifecycle"])["delete_after"]) for r in rules)


TF: dict[str, TfRead] = {
    "aws_vpc": lambda p, _: [("vpc", (p["cidr_block"],))],
    "aws_subnet": lambda p, _: [("subnet", (p["cidr_block"],))],
    "aws_route_table": lambda p, _: [("route_table", ())],
    "aws_route": lambda p, _: [("route", (p["destination_cidr_block"],))],
    "aws_internet_gateway": lambda p, _: [("internet_gateway", ())],
    "aws_eip": lambda p, _: [("elastic_ip", (p["domain"],))],
    "aws_nat_gateway": lambda p, _: [("nat_gateway", ())],
    "aws_network_acl": lambda p, _: [("network_acl", ())],
    "aws_vpc_peering_connection": lambda p, _: [("peering", ())],
    "aws_network_acl_rule": lambda p, _: [
        (
            "acl_rule",
            (
                p["rule_number"],
                p["egress"],
                _protocol(p["protocol"]),
                p.get("from_port"),
                p.get("to_port"),
                p["cidr_block"],
                p["rule_action"],
            ),
        )
    ],
    "aws_security_group": _tf_security_group,
    "aws_vpc_endpoint": lambda p, _: [("endpoint", (_last(p["service_name"]),))],
    "aws_flow_log": lambda p, _: [("flow_log", (p["traffic_type"],))],
    "aws_kms_key": lambda p, _: [("key", (p["enable_key_rotation"],))],
    "aws_kms_alias": lambda p, _: [("key_alias", (p["name"],))],
    "aws_iam_role": lambda p, _: [("role", (p["name"],))],
    "aws_rds_cluster": lambda p, _: [
        (
            "cluster",
            (
                p["cluster_identifier"],
                p["engine"],
                p["engine_version"],
                p["backup_retention_period"],
                p["storage_encrypted"],
            ),
        )
    ],
    "aws_rds_cluster_instance": lambda p, _: [
        ("instance", (p["instance_class"], p.get("monitoring_interval"), p["ca_cert_identifier"]))
    ],
    "aws_db_subnet_group": lambda p, _: [("db_subnet_group", (p["name"],))],
    "aws_rds_cluster_parameter_group": lambda p, _: [("db_parameter_group", (p["family"],))],
    "aws_rds_global_cluster": lambda p, _: [
        (
            "global_cluster",
            (
                p["global_cluster_identifier"],
                p["engine"],
                p["engine_version"],
                p["storage_encrypted"],
            ),
        )
    ],
    "aws_secretsmanager_secret": lambda p, _: [
        ("secret", (p["name"], tuple(sorted(r["region"] for r in p.get("replica", [])))))
    ],
    "aws_secretsmanager_secret_rotation": lambda p, _: [
        ("secret_rotation", (_one(p["rotation_rules"])["automatically_after_days"],))
    ],
    "aws_ssm_parameter": lambda p, _: [("parameter", (p["name"],))],
    "aws_lambda_invocation": lambda p, _: [("invocation", (p["input"],))],
    "aws_s3_bucket": lambda p, _: [("bucket", (p["bucket"],))],
    "aws_s3_bucket_policy": lambda p, _: [("bucket_policy", ())],
    "aws_s3_bucket_replication_configuration": _tf_replication,
    "aws_lambda_function": lambda p, _: [
        ("function", (p["function_name"], p["runtime"], p["timeout"], p.get("memory_size")))
    ],
    "aws_cloudwatch_log_group": lambda p, _: [("log_group", (p["name"], p["retention_in_days"]))],
    "aws_sqs_queue": lambda p, _: [("queue", (p["name"], "kms_master_key_id" in p))],
    "aws_cloudwatch_event_rule": lambda p, _: [("schedule", (p["schedule_expression"],))],
    "aws_sfn_state_machine": lambda p, _: [("state_machine", (p["name"],))],
    "aws_sns_topic": lambda p, _: [("topic", (p["name"], "kms_master_key_id" in p))],
    "aws_sns_topic_subscription": lambda p, _: [("subscription", (p["protocol"], p["endpoint"]))],
    "aws_cloudwatch_metric_alarm": lambda p, _: [
        (
            "alarm",
            (
                p["alarm_name"],
                p["metric_name"],
                float(p["threshold"]),
                p.get("unit"),
                p["comparison_operator"],
                p["evaluation_periods"],
            ),
        )
    ],
    "aws_lb": lambda p, _: [
        (
            "load_balancer",
            (
                p["name"],
                "internal" if p.get("internal") else "internet-facing",
                p["load_balancer_type"],
            ),
        )
    ],
    "aws_lb_target_group": lambda p, _: [
        (
            "target_group",
            (p["name"], p["target_type"], _one(p.get("health_check", {})).get("path")),
        )
    ],
    "aws_lb_listener": lambda p, _: [("listener", (p["port"], p["protocol"], p.get("ssl_policy")))],
    "aws_lb_listener_rule": lambda p, _: [
        (
            "listener_rule",
            (
                p["priority"],
                tuple(sorted(v for c in p["condition"] for b in c.values() for v in b["values"])),
            ),
        )
    ],
    "aws_lb_trust_store": lambda p, _: [
        (
            "trust_store",
            (p["name"], p["ca_certificates_bundle_s3_bucket"], p["ca_certificates_bundle_s3_key"]),
        )
    ],
    "aws_wafv2_web_acl": lambda p, _: [
        ("web_acl", (p["name"], p["scope"], tuple(r["name"] for r in p["rule"])))
    ],
    "aws_wafv2_web_acl_association": lambda p, _: [("web_acl_association", ())],
    "aws_wafv2_web_acl_logging_configuration": lambda p, _: [("web_acl_logging", ())],
    "aws_acm_certificate": lambda p, _: [
        (
            "certificate",
            (
                p["domain_name"],
                tuple(p.get("subject_alternative_names", [])),
                p["validation_method"],
            ),
        )
    ],
    "aws_route53_zone": lambda p, _: [("zone", (_name(p["name"]),))],
    "aws_route53_health_check": lambda p, _: [
        (
            "health_check",
            tuple(
                p[k]
                for k in (
                    "fqdn",
                    "resource_path",
                    "port",
                    "type",
                    "request_interval",
                    "failure_threshold",
                )
            ),
        )
    ],
    "aws_route53_record": _tf_record,
    "aws_lambda_event_source_mapping": lambda p, _: [
        (
            "event_source",
            (
                p["batch_size"],
                tuple(p.get("function_response_types", [])),
                _one(p["scaling_config"])["maximum_concurrency"],
            ),
        )
    ],
    "aws_lambda_permission": lambda p, _: [("permission", (p["principal"], p["source_arn"]))],
    "aws_dynamodb_table": _tf_table,
    "aws_backup_vault": lambda p, _: [("backup_vault", (p["name"],))],
    # CloudFormation's is the vault's LockConfiguration.
    "aws_backup_vault_lock_configuration": lambda p, _: [
        ("vault_lock", (p["min_retention_days"], p["max_retention_days"]))
    ],
    "aws_backup_plan": lambda p, _: [("backup_plan", (p["name"], _tf_rules(p)))],
    "aws_backup_selection": lambda p, _: [("backup_selection", (p["name"],))],
}
# Types read for no key property: what Terraform spells as resources where CloudFormation
# nests it in another resource or does it itself, and the data sources. Any other type
# fails: a new one is read or declared here.
TF_STRUCTURE = {
    "aws_route_table_association",
    "aws_vpc_peering_connection_accepter",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls",
    "aws_cloudwatch_event_target",
    # CloudFormation cannot manage a VPC's default group; Terraform empties it of rules.
    "aws_default_security_group",
    "aws_lb_target_group_attachment",
    "aws_acm_certificate_validation",
    # CloudFormation's RotationSchedule deploys the hosted rotation app and writes the first
    # secret value itself; Terraform spells out both.
    "aws_serverlessapplicationrepository_cloudformation_stack",
    "aws_secretsmanager_secret_version",
    "aws_availability_zones",  # data: the AZs subnets are placed in by index
}
# The declared remote state of another stack: how the layout's cross-stack reads arrive,
# rendered for no component (tests/plan holds the layout).
LAYOUT = "terraform_remote_state"


def terraform(folder: Path, provenance: Provenance) -> list[Resource]:
    found = []
    for name in sorted(provenance):
        stack = json.loads((folder / name).read_text())
        for block, prefix in (("resource", ""), ("data", "data.")):
            for kind, resources in stack.get(block, {}).items():
                if kind == LAYOUT:
                    continue
                for lid, props in resources.items():
                    address = f"{prefix}{kind}.{lid}"
                    read = TF[kind](props, stack) if block == "resource" and kind in TF else []
                    origin = provenance[name].get(address)
                    found.append(Resource(name, address, kind, origin, tuple(read)))
    return found
