"""CloudFormation: the disaster-recovery components of specs/dr.yaml (and its variant).

Primary prod/us-east-1, secondary prod/us-east-2, account 444444444444. Expected values
are written out from the spec or read from the plan, so a renderer that drops, invents or
bends a value fails here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import troposphere as t
from cfn_templates import (
    Template,
    getatt,
    of_type,
    plan_of,
    props,
    ref,
    render,
    res,
    skips,
    tag,
)

from replgen.backends import Options, Unsupported
from replgen.backends.cloudformation import BACKEND
from replgen.plan.model import Plan, Ref

PRIMARY, SECONDARY = "prod-us-east-1.json", "prod-us-east-2.json"
P_FOUNDATION, S_FOUNDATION = "prod-us-east-1-foundation.json", "prod-us-east-2-foundation.json"
TRANSFORM = "AWS::SecretsManager-2020-07-23"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_of("specs/dr.yaml")


@pytest.fixture(scope="module")
def out(plan: Plan) -> dict[str, Template]:
    return render(plan)


@pytest.fixture(scope="module")
def variant() -> dict[str, Template]:
    return render(plan_of("tests/specs/valid/dr-variant.yaml"))


# ---------------------------------------------------------------- foundations


def test_foundation_holds_exactly_the_plan_foundation(out: dict[str, Template]) -> None:
    assert set(out[P_FOUNDATION]["Resources"]) == {
        "Key",
        "KeyAlias",
        *(f"{b}Bucket{p}" for b in ("AccessLogs", "Migrations", "TransactionLogs", "Documents")
          for p in ("", "Policy")),
        "ReplicationRole",
        # Delegated before the certificates validate in it.
        "HostedZone", "ProdUsEast1HealthCheck", "ProdUsEast2HealthCheck",
        # Empties the buckets when the stack is deleted (the example is destroyable).
        *(f"FoundationEmptier{p}" for p in ("", "LogGroup", "Dlq", "Role", "Function")),
    }  # fmt: skip
    # The secondary replicates nothing: no replication role.
    assert "ReplicationRole" not in out[S_FOUNDATION]["Resources"]
    assert "Key" in out[S_FOUNDATION]["Resources"]
    for main in (PRIMARY, SECONDARY):
        resources = out[main]["Resources"]
        assert not of_type(out[main], "AWS::S3::Bucket")
        assert not of_type(out[main], "AWS::KMS::Key")
        assert "ReplicationRole" not in resources
        assert {"TxnprocRole", "BackupRole", "FlowlogsRole"} <= set(resources)


def test_foundation_outputs_what_other_stacks_read(out: dict[str, Template]) -> None:
    assert out[P_FOUNDATION]["Outputs"] == {
        "KeyArn": {"Value": getatt("Key", "Arn")},
        "ZoneId": {"Value": ref("HostedZone")},
        # What the parent domain delegates to, before the main stacks are deployed.
        "ZoneNameServers": {"Value": {"Fn::Join": [",", getatt("HostedZone", "NameServers")]}},
        "HealthcheckProdUsEast1Id": {"Value": ref("ProdUsEast1HealthCheck")},
        "HealthcheckProdUsEast2Id": {"Value": ref("ProdUsEast2HealthCheck")},
    }
    assert out[S_FOUNDATION]["Outputs"] == {"KeyArn": {"Value": getatt("Key", "Arn")}}
    # The secondary's key is the plan's export: from its foundation, not its main stack.
    assert "KeyArn" not in out[SECONDARY]["Outputs"]


def test_main_stacks_read_their_key_from_their_foundation(out: dict[str, Template]) -> None:
    manifest = {s["template"]: s for s in out["manifest.json"]["stacks"]}
    primary = manifest[PRIMARY]["inputs"]
    assert primary["ProdUsEast1KeyArn"] == {
        "stack": "txndr-dr01-prod-us-east-1-foundation",
        "output": "KeyArn",
    }
    assert props(out[PRIMARY], "TxnprocQueue")["KmsMasterKeyId"] == ref("ProdUsEast1KeyArn")
    assert props(out[SECONDARY], "Topic")["KmsMasterKeyId"] == ref("ProdUsEast2KeyArn")


def test_primary_foundation_reads_the_secondary_key(out: dict[str, Template]) -> None:
    manifest = {s["template"]: s for s in out["manifest.json"]["stacks"]}
    assert manifest[P_FOUNDATION]["inputs"] == {
        "ProdUsEast2KeyArn": {"stack": "txndr-dr01-prod-us-east-2-foundation", "output": "KeyArn"}
    }
    (policy,) = props(out[P_FOUNDATION], "ReplicationRole")["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["EncryptReplicas"]["Resource"] == [ref("ProdUsEast2KeyArn")]
    assert statements["DecryptSource"]["Resource"] == [getatt("Key", "Arn")]


# ---------------------------------------------------------------- storage


def test_replicated_bucket_rules(out: dict[str, Template]) -> None:
    bucket = res(out[P_FOUNDATION], "DocumentsBucket")
    config = bucket["Properties"]["ReplicationConfiguration"]
    assert config["Role"] == getatt("ReplicationRole", "Arn")
    assert config["Rules"] == [
        {
            "Id": "replicate-to-us-east-2",
            "Priority": 0,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {
                "Bucket": "arn:aws:s3:::txndr-dr01-prod-us-east-2-documents-444444444444",
                "EncryptionConfiguration": {"ReplicaKmsKeyID": ref("ProdUsEast2KeyArn")},
                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
            },
        }
    ]
    assert "CKV_AWS_144" not in skips(bucket)


def test_unreplicated_buckets_keep_the_cross_region_skip(
    out: dict[str, Template], variant: dict[str, Template]
) -> None:
    migrations = res(out[P_FOUNDATION], "MigrationsBucket")
    assert "ReplicationConfiguration" not in migrations["Properties"]
    assert "CKV_AWS_144" in skips(migrations)
    scratch = res(variant["live-eu-west-1-foundation.json"], "ScratchBucket")
    assert "ReplicationConfiguration" not in scratch["Properties"]
    assert "CKV_AWS_144" in skips(scratch)
    # Nothing replicates from the secondary.
    documents = props(out[S_FOUNDATION], "DocumentsBucket")
    assert "ReplicationConfiguration" not in documents


def _alb_statement(template: Template) -> dict[str, Any]:
    statements = props(template, "AccessLogsBucketPolicy")["PolicyDocument"]["Statement"]
    return next(s for s in statements if s["Sid"] == "LoadBalancerAccessLogs")  # type: ignore[no-any-return]


def test_elb_account_writes_alb_logs_under_the_prefix(out: dict[str, Template]) -> None:
    statement = _alb_statement(out[P_FOUNDATION])
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::127311923021:root"]}
    assert statement["Action"] == ["s3:PutObject"]
    assert statement["Resource"] == [
        "arn:aws:s3:::txndr-dr01-prod-us-east-1-access-logs-444444444444/alb/AWSLogs/444444444444/*"
    ]
    # us-east-2 has its own ELB account.
    assert _alb_statement(out[S_FOUNDATION])["Principal"] == {
        "AWS": ["arn:aws:iam::033677994240:root"]
    }


def test_newer_regions_deliver_alb_logs_with_the_service_principal(
    variant: dict[str, Template],
) -> None:
    statement = _alb_statement(variant["live-eu-south-2-foundation.json"])
    assert statement["Principal"] == {"Service": ["logdelivery.elasticloadbalancing.amazonaws.com"]}


def test_only_the_access_log_bucket_admits_the_load_balancer(out: dict[str, Template]) -> None:
    statements = props(out[P_FOUNDATION], "DocumentsBucketPolicy")["PolicyDocument"]["Statement"]
    assert "LoadBalancerAccessLogs" not in {s["Sid"] for s in statements}


# ---------------------------------------------------------------- database


def test_global_cluster_on_the_primary(out: dict[str, Template]) -> None:
    assert props(out[PRIMARY], "GlobalCluster") == {
        "GlobalClusterIdentifier": "txndr-dr01-prod-global",
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.10",
        "StorageEncrypted": True,
        "DeletionProtection": False,
        "Tags": props(out[PRIMARY], "GlobalCluster")["Tags"],
    }
    assert tag(props(out[PRIMARY], "GlobalCluster"), "Name") == "txndr-dr01-prod-global"
    assert res(out[PRIMARY], "GlobalCluster")["DeletionPolicy"] == "Delete"
    assert "GlobalCluster" not in out[SECONDARY]["Resources"]


def test_primary_cluster_joins_with_the_secret_password(out: dict[str, Template]) -> None:
    cluster = props(out[PRIMARY], "Cluster")
    assert cluster["GlobalClusterIdentifier"] == ref("GlobalCluster")
    assert cluster["DatabaseName"] == "appdb"
    assert cluster["MasterUsername"] == "replgen_admin"
    assert cluster["MasterUserPassword"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${MasterSecret}:SecretString:password}}"
    }
    assert "ManageMasterUserPassword" not in cluster
    assert cluster["KmsKeyId"] == ref("ProdUsEast1KeyArn")
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16.0}


def test_secondary_cluster_joins_the_primary_global_cluster(out: dict[str, Template]) -> None:
    cluster = props(out[SECONDARY], "Cluster")
    assert cluster["GlobalClusterIdentifier"] == ref("ProdUsEast1GlobalClusterId")
    for absent in (
        "DatabaseName",
        "MasterUsername",
        "MasterUserPassword",
        "ManageMasterUserPassword",
    ):
        assert absent not in cluster
    assert cluster["DBClusterIdentifier"] == "txndr-dr01-prod-us-east-2"
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["EngineVersion"] == "15.10"
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"] == ref("ProdUsEast2KeyArn")  # its own region's key
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16.0}
    instance = props(out[SECONDARY], "DatabaseInstance1")
    assert instance["DBInstanceClass"] == ref("DatabaseInstanceClass")
    assert out[SECONDARY]["Parameters"]["DatabaseInstanceClass"]["Default"] == "db.serverless"
    inputs = {s["template"]: s["inputs"] for s in out["manifest.json"]["stacks"]}[SECONDARY]
    assert inputs["ProdUsEast1GlobalClusterId"] == {
        "stack": "txndr-dr01-prod-us-east-1",
        "output": "GlobalClusterId",
    }
    assert out[PRIMARY]["Outputs"]["GlobalClusterId"] == {"Value": ref("GlobalCluster")}


def test_master_secret_is_generated_and_replicated(out: dict[str, Template]) -> None:
    secret = res(out[PRIMARY], "MasterSecret")
    p = secret["Properties"]
    assert p["Name"] == "txndr-dr01-prod-us-east-1-master"
    assert p["Description"].startswith("Master password of txndr-dr01-prod-us-east-1")
    assert p["KmsKeyId"] == ref("ProdUsEast1KeyArn")
    assert p["GenerateSecretString"] == {
        "SecretStringTemplate": '{"username": "replgen_admin"}',
        "GenerateStringKey": "password",
        "ExcludeCharacters": "\"'@/\\:?#[]%`",
        "PasswordLength": 32,
    }
    assert p["ReplicaRegions"] == [{"Region": "us-east-2", "KmsKeyId": ref("ProdUsEast2KeyArn")}]
    assert secret["DeletionPolicy"] == "Delete"
    assert not of_type(out[SECONDARY], "AWS::SecretsManager::Secret")


def test_secret_is_attached_to_the_cluster_and_rotated(out: dict[str, Template]) -> None:
    assert props(out[PRIMARY], "MasterSecretAttachment") == {
        "SecretId": ref("MasterSecret"),
        "TargetId": ref("Cluster"),
        "TargetType": "AWS::RDS::DBCluster",
    }
    rotation = res(out[PRIMARY], "MasterSecretRotation")
    # The first rotation runs at once: it needs the host and an instance answering there.
    assert rotation["DependsOn"] == ["MasterSecretAttachment", "DatabaseInstance1"]
    assert rotation["Properties"] == {
        "SecretId": ref("MasterSecret"),
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "HostedRotationLambda": {
            "RotationType": "PostgreSQLSingleUser",
            "RotationLambdaName": "txndr-dr01-prod-us-east-1-rotate-master",
            "VpcSubnetIds": {"Fn::Join": [",", [ref(f"PrivateSubnet{n}") for n in (1, 2, 3)]]},
            "VpcSecurityGroupIds": getatt("FunctionsSecurityGroup", "GroupId"),
            "KmsKeyArn": ref("ProdUsEast1KeyArn"),
            "ExcludeCharacters": "\"'@/\\:?#[]%`",
        },
    }


def test_only_the_primary_template_needs_the_rotation_transform(
    out: dict[str, Template],
) -> None:
    assert out[PRIMARY]["Transform"] == TRANSFORM
    for name in (SECONDARY, P_FOUNDATION, S_FOUNDATION):
        assert "Transform" not in out[name]


# ---------------------------------------------------------------- processing


def test_load_balancer_is_internet_facing_https_with_logs(out: dict[str, Template]) -> None:
    lb = res(out[PRIMARY], "LoadBalancer")
    p = lb["Properties"]
    assert p["Name"] == "txndr-dr01-prod-us-east-1"
    assert p["Type"] == "application"
    assert p["Scheme"] == "internet-facing"
    assert p["Subnets"] == [ref(f"PublicSubnet{n}") for n in (1, 2, 3)]
    assert p["SecurityGroups"] == [getatt("AlbSecurityGroup", "GroupId")]
    assert {a["Key"]: a["Value"] for a in p["LoadBalancerAttributes"]} == {
        "deletion_protection.enabled": "false",
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "idle_timeout.timeout_seconds": "60",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": "txndr-dr01-prod-us-east-1-access-logs-444444444444",
        "access_logs.s3.prefix": "alb",
    }
    assert lb["DependsOn"] == ["GatewayAttachment"]
    assert set(skips(lb)) == {"CKV_AWS_150"}


def test_certificate_is_validated_in_the_primary_zone(out: dict[str, Template]) -> None:
    primary = props(out[PRIMARY], "Certificate")
    assert primary["DomainName"] == "us-east-1.api.txn.example.com"
    assert primary["SubjectAlternativeNames"] == ["api.txn.example.com"]
    assert primary["ValidationMethod"] == "DNS"
    assert primary["DomainValidationOptions"] == [
        {"DomainName": "us-east-1.api.txn.example.com", "HostedZoneId": ref("ProdUsEast1ZoneId")},
        {"DomainName": "api.txn.example.com", "HostedZoneId": ref("ProdUsEast1ZoneId")},
    ]
    secondary = props(out[SECONDARY], "Certificate")
    assert secondary["DomainValidationOptions"][0] == {
        "DomainName": "us-east-2.api.txn.example.com",
        "HostedZoneId": ref("ProdUsEast1ZoneId"),
    }


def test_https_listener_verifies_client_certificates_and_forwards(
    out: dict[str, Template],
) -> None:
    listeners = of_type(out[PRIMARY], "AWS::ElasticLoadBalancingV2::Listener")
    assert sorted(listeners) == ["HealthListener", "HttpsListener"]  # no port-80 listener
    assert listeners["HttpsListener"]["Properties"] == {
        "LoadBalancerArn": ref("LoadBalancer"),
        "Port": 443,
        "Protocol": "HTTPS",
        "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "Certificates": [{"CertificateArn": ref("Certificate")}],
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
        "MutualAuthentication": {
            "Mode": "verify",
            "TrustStoreArn": getatt("TrustStore", "TrustStoreArn"),
        },
    }
    assert props(out[PRIMARY], "TrustStore") == {
        "Name": "txndr-dr01-prod-us-east-1-trust",
        "CaCertificatesBundleS3Bucket": "txndr-api-trust",
        "CaCertificatesBundleS3Key": "clients-ca.pem",
        "Tags": props(out[PRIMARY], "TrustStore")["Tags"],
    }


def test_health_checks_reach_only_health_on_their_own_port(out: dict[str, Template]) -> None:
    """Route 53's checkers present no client certificate, so mTLS would fail them all: a
    second listener on 8443 serves GET /health (shallow: nothing behind it) and 404s the rest."""
    health = props(out[PRIMARY], "HealthListener")
    assert health["Port"] == 8443 and "MutualAuthentication" not in health
    assert health["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"},
        }
    ]
    rule = props(out[PRIMARY], "HealthListenerRule")
    assert rule["ListenerArn"] == ref("HealthListener") and rule["Priority"] == 1
    assert rule["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/health"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
    ]
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}]
    alb = props(out[PRIMARY], "AlbSecurityGroup")
    assert [r["FromPort"] for r in alb["SecurityGroupIngress"]] == [443, 8443]


def test_oidc_authenticates_everything_but_health(variant: dict[str, Template]) -> None:
    template = variant["live-eu-west-1.json"]
    listener = props(template, "HttpsListener")
    auth, forward = listener["DefaultActions"]
    assert auth["Type"] == "authenticate-oidc" and auth["Order"] == 1
    config = auth["AuthenticateOidcConfig"]
    assert config["ClientSecret"] == (
        "{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:555555555555:"
        "secret:ledger-oidc-AbCdEf:SecretString}}"
    )
    assert config["OnUnauthenticatedRequest"] == "deny"
    assert forward["Type"] == "forward"
    rule = props(template, "HealthRule")
    assert rule["ListenerArn"] == ref("HttpsListener")
    assert "MutualAuthentication" not in listener


def test_oidc_sites_reach_the_alb_signing_keys_through_a_nat(
    out: dict[str, Template], variant: dict[str, Template]
) -> None:
    template = variant["live-eu-west-1.json"]
    nat = props(template, "NatGateway")
    assert nat["AllocationId"] == getatt("NatAddress", "AllocationId")
    assert nat["SubnetId"] == ref("PublicSubnet1")
    assert props(template, "PrivateDefaultRoute") == {
        "RouteTableId": ref("PrivateRouteTable"),
        "DestinationCidrBlock": "0.0.0.0/0",
        "NatGatewayId": ref("NatGateway"),
    }
    assert not of_type(out[PRIMARY], "AWS::EC2::NatGateway")  # mTLS needs no way out


def test_every_alb_is_behind_the_web_acl(out: dict[str, Template]) -> None:
    acl = props(out[PRIMARY], "WebAcl")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rate, common, bad_inputs = acl["Rules"]
    assert rate["Statement"] == {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}}
    assert rate["Action"] == {"Block": {}}
    assert [r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in (common, bad_inputs)] == [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    ]
    association = props(out[PRIMARY], "WebAclAssociation")
    assert association == {"ResourceArn": ref("LoadBalancer"), "WebACLArn": getatt("WebAcl", "Arn")}
    logs = props(out[PRIMARY], "WebAclLogGroup")
    assert logs["LogGroupName"].startswith("aws-waf-logs-")
    assert props(out[PRIMARY], "WebAclLogging")["ResourceArn"] == getatt("WebAcl", "Arn")


def test_target_group_invokes_txnproc_once_elb_may(out: dict[str, Template]) -> None:
    group = res(out[PRIMARY], "TargetGroup")
    p = group["Properties"]
    assert p["Name"] == "txndr-dr01-prod-us-east-1-tg"
    assert p["TargetType"] == "lambda"
    assert p["Targets"] == [{"Id": getatt("TxnprocFunction", "Arn")}]
    assert p["HealthCheckEnabled"] is True
    assert p["HealthCheckPath"] == "/health"
    assert group["DependsOn"] == ["TxnprocAlbPermission"]
    assert props(out[PRIMARY], "TxnprocAlbPermission") == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": getatt("TxnprocFunction", "Arn"),
        "Principal": "elasticloadbalancing.amazonaws.com",
        "SourceArn": "arn:aws:elasticloadbalancing:us-east-1:444444444444:"
        "targetgroup/txndr-dr01-prod-us-east-1-tg/*",
    }


def test_queue_feeds_txnproc_reporting_failures_per_message(out: dict[str, Template]) -> None:
    assert props(out[PRIMARY], "TxnprocEventSourceMapping") == {
        "EventSourceArn": getatt("TxnprocQueue", "Arn"),
        "FunctionName": ref("TxnprocFunction"),
        "Enabled": True,
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 40},
    }
    queue = props(out[PRIMARY], "TxnprocQueue")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": getatt("TxnprocDlqQueue", "Arn"),
        "maxReceiveCount": 5,
    }
    assert queue["VisibilityTimeout"] == 180


def test_txnproc_runs_in_the_vpc_and_failover_outside(out: dict[str, Template]) -> None:
    txnproc = res(out[SECONDARY], "TxnprocFunction")
    assert txnproc["Properties"]["VpcConfig"]["SecurityGroupIds"] == [
        getatt("FunctionsSecurityGroup", "GroupId")
    ]
    assert "CKV_AWS_117" not in skips(txnproc)
    failover = res(out[SECONDARY], "FailoverFunction")
    assert "VpcConfig" not in failover["Properties"]
    assert set(skips(failover)) == {"CKV_AWS_272", "CKV_AWS_117"}
    assert failover["Properties"]["Handler"] == "handler.failover"
    env = failover["Properties"]["Environment"]["Variables"]
    assert env["HEALTH_CHECK_ID"] == ref("ProdUsEast1HealthcheckProdUsEast1Id")
    assert "FailoverFunction" not in out[PRIMARY]["Resources"]


# ---------------------------------------------------------------- failover


@pytest.mark.parametrize("site", [PRIMARY, SECONDARY])
def test_deep_health_runs_privately_every_minute(out: dict[str, Template], site: str) -> None:
    """Not reachable through the ALB: EventBridge invokes txnproc with a constant event."""
    slug = site.removesuffix(".json")
    assert props(out[site], "TxnprocSchedule") == {
        "Name": f"txndr-dr01-{slug}-deep-health",
        "ScheduleExpression": "rate(1 minute)",
        "State": "ENABLED",
        "Targets": [
            {
                "Id": "target",
                "Arn": getatt("TxnprocFunction", "Arn"),
                "Input": '{"action":"deep_health"}',
            }
        ],
    }
    alarms = {
        a["Properties"]["MetricName"] for a in of_type(out[site], "AWS::CloudWatch::Alarm").values()
    }
    assert "DeepHealthFailures" in alarms
    assert ("FailoverRecommended" in alarms) == (site == SECONDARY)


def test_failover_schedule_invokes_the_function_without_a_role(
    out: dict[str, Template],
) -> None:
    assert props(out[SECONDARY], "FailoverSchedule") == {
        "Name": "txndr-dr01-prod-us-east-2-failover",
        "ScheduleExpression": "rate(1 minute)",
        "State": "ENABLED",
        "Targets": [{"Id": "target", "Arn": getatt("FailoverFunction", "Arn")}],
    }
    assert props(out[SECONDARY], "FailoverSchedulePermission") == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": getatt("FailoverFunction", "Arn"),
        "Principal": "events.amazonaws.com",
        "SourceArn": "arn:aws:events:us-east-2:444444444444:rule/"
        "txndr-dr01-prod-us-east-2-failover",
    }
    assert props(out[SECONDARY], "FailoverAlertsPermission")["SourceArn"] == (
        "arn:aws:sns:us-east-1:444444444444:txndr-dr01-prod-us-east-1-alerts"
    )


def test_primary_topic_alerts_the_secondary_failover_function(out: dict[str, Template]) -> None:
    subscriptions = of_type(out[PRIMARY], "AWS::SNS::Subscription")
    lambdas = [
        s["Properties"] for s in subscriptions.values() if s["Properties"]["Protocol"] == "lambda"
    ]
    assert lambdas == [
        {
            "TopicArn": ref("Topic"),
            "Protocol": "lambda",
            "Endpoint": "arn:aws:lambda:us-east-2:444444444444:function:"
            "txndr-dr01-prod-us-east-2-failover",
        }
    ]
    assert "AlertTxndrDr01ProdUsEast2FailoverSubscription" in subscriptions
    secondary = of_type(out[SECONDARY], "AWS::SNS::Subscription")
    assert {s["Properties"]["Protocol"] for s in secondary.values()} == {"email"}


def test_zone_and_a_health_check_per_region_with_the_primary(out: dict[str, Template]) -> None:
    zone = props(out[P_FOUNDATION], "HostedZone")
    assert zone["Name"] == "txn.example.com"
    assert zone["HostedZoneConfig"] == {"Comment": "replgen txndr-dr01: disaster recovery"}
    checks = of_type(out[P_FOUNDATION], "AWS::Route53::HealthCheck")
    assert sorted(checks) == ["ProdUsEast1HealthCheck", "ProdUsEast2HealthCheck"]
    check = checks["ProdUsEast2HealthCheck"]["Properties"]
    assert check["HealthCheckConfig"] == {
        "Type": "HTTPS",
        "FullyQualifiedDomainName": "us-east-2.api.txn.example.com",
        "ResourcePath": "/health",
        "Port": 8443,
        "RequestInterval": 10,
        "FailureThreshold": 3,
        "EnableSNI": True,
    }
    assert tag(check, "Name", "HealthCheckTags") == "txndr-dr01-prod-us-east-2-health"
    for main in (PRIMARY, SECONDARY):
        assert not of_type(out[main], "AWS::Route53::HostedZone")
        assert not of_type(out[main], "AWS::Route53::HealthCheck")


def test_records_alias_each_site_load_balancer(out: dict[str, Template]) -> None:
    alias = {
        "HostedZoneId": getatt("LoadBalancer", "CanonicalHostedZoneID"),
        "DNSName": getatt("LoadBalancer", "DNSName"),
    }
    assert props(out[PRIMARY], "RegionalRecord") == {
        "HostedZoneId": ref("ProdUsEast1ZoneId"),
        "Name": "us-east-1.api.txn.example.com",
        "Type": "A",
        "AliasTarget": {**alias, "EvaluateTargetHealth": False},
    }
    assert props(out[PRIMARY], "WeightedRecord") == {
        "HostedZoneId": ref("ProdUsEast1ZoneId"),
        "Name": "api.txn.example.com",
        "Type": "A",
        "SetIdentifier": "prod-us-east-1",
        "Weight": 100,
        "HealthCheckId": ref("ProdUsEast1HealthcheckProdUsEast1Id"),
        "AliasTarget": {**alias, "EvaluateTargetHealth": True},
    }
    weighted = props(out[SECONDARY], "WeightedRecord")
    assert weighted["HostedZoneId"] == ref("ProdUsEast1ZoneId")
    assert weighted["Weight"] == 0
    assert weighted["SetIdentifier"] == "prod-us-east-2"
    assert weighted["HealthCheckId"] == ref("ProdUsEast1HealthcheckProdUsEast2Id")


# ---------------------------------------------------------------- sessions and backup


def test_global_table_with_a_replica_per_region(out: dict[str, Template]) -> None:
    table = res(out[PRIMARY], "SessionsTable")
    p = table["Properties"]
    assert p["TableName"] == "txndr-dr01-prod-sessions"
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["AttributeDefinitions"] == [{"AttributeName": "session_id", "AttributeType": "S"}]
    assert p["KeySchema"] == [{"AttributeName": "session_id", "KeyType": "HASH"}]
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert p["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert p["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    regions = [(r["Region"], r["SSESpecification"]["KMSMasterKeyId"]) for r in p["Replicas"]]
    assert regions == [
        ("us-east-1", ref("ProdUsEast1KeyArn")),
        ("us-east-2", ref("ProdUsEast2KeyArn")),
    ]
    for replica in p["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Delete"
    assert not of_type(out[SECONDARY], "AWS::DynamoDB::GlobalTable")


def test_backup_vault_plan_and_selection(out: dict[str, Template]) -> None:
    vault = props(out[SECONDARY], "BackupVault")
    assert vault["BackupVaultName"] == "txndr-dr01-prod-us-east-2"
    assert vault["EncryptionKeyArn"] == ref("ProdUsEast2KeyArn")
    assert props(out[SECONDARY], "BackupPlan")["BackupPlan"] == {
        "BackupPlanName": "txndr-dr01-prod-us-east-2-backup",
        "BackupPlanRule": [
            {
                "RuleName": "daily",
                "TargetBackupVault": ref("BackupVault"),
                "ScheduleExpression": "cron(0 5 * * ? *)",
                "StartWindowMinutes": 60,
                "CompletionWindowMinutes": 180,
                "Lifecycle": {"DeleteAfterDays": 7},
            }
        ],
    }
    assert props(out[SECONDARY], "BackupSelection") == {
        "BackupPlanId": ref("BackupPlan"),
        "BackupSelection": {
            "SelectionName": "txndr-dr01-prod-us-east-2-clusters",
            "IamRoleArn": getatt("BackupRole", "Arn"),
            "Resources": [{"Fn::GetAtt": ["Cluster", "DBClusterArn"]}],
        },
    }
    role = props(out[SECONDARY], "BackupRole")
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    ]


# ---------------------------------------------------------------- outputs


def test_plan_outputs_for_the_people_deploying(out: dict[str, Template]) -> None:
    outputs = out[PRIMARY]["Outputs"]
    assert outputs["LoadBalancerDnsName"] == {"Value": getatt("LoadBalancer", "DNSName")}
    assert outputs["ClusterEndpoint"] == {"Value": getatt("Cluster", "Endpoint.Address")}
    assert outputs["Url"] == {"Value": "https://api.txn.example.com"}
    assert outputs["RegionalUrl"] == {"Value": "https://us-east-1.api.txn.example.com"}
    assert outputs["BucketDocuments"] == {
        "Value": "txndr-dr01-prod-us-east-1-documents-444444444444"
    }
    # The zone is the foundation's: its values arrive as stack inputs and are shown again.
    assert outputs["ZoneNameServers"] == {"Value": ref("ProdUsEast1ZoneNameServers")}
    assert outputs["HostedZoneId"] == {"Value": ref("ProdUsEast1ZoneId")}
    assert outputs["GlobalDatabase"] == {"Value": "txndr-dr01-prod-global"}
    assert outputs["GlobalClusterId"] == {"Value": ref("GlobalCluster")}  # for the secondary
    assert "Url" not in out[SECONDARY]["Outputs"]
    assert out[SECONDARY]["Outputs"]["QueueUrl"] == {
        "Value": "https://sqs.us-east-2.amazonaws.com/444444444444/"
        "txndr-dr01-prod-us-east-2-transactions"
    }


def test_rendering_is_deterministic(plan: Plan) -> None:
    first = BACKEND.render(plan, Options(layout="stacks"))  # type: ignore[arg-type]
    second = BACKEND.render(plan, Options(layout="stacks"))  # type: ignore[arg-type]
    assert first == second


def test_an_external_key_in_a_foundation_is_still_read_from_it(plan: Plan) -> None:
    """A key created beforehand: the foundation outputs its ARN, nothing creates it."""
    arn = "arn:aws:kms:us-east-2:444444444444:key/0000"
    sites = tuple(
        replace(s, key=replace(s.key, external_arn=arn)) if s.id == "prod/us-east-2" else s
        for s in plan.sites
    )
    out = render(replace(plan, sites=sites))
    assert "Key" not in out[S_FOUNDATION]["Resources"]
    assert out[S_FOUNDATION]["Outputs"]["KeyArn"] == {"Value": arn}
    assert props(out[SECONDARY], "Topic")["KmsMasterKeyId"] == ref("ProdUsEast2KeyArn")


def test_a_ref_attribute_of_an_unknown_kind_is_refused(plan: Plan) -> None:
    from replgen.backends.cloudformation.context import Ctx

    ctx = Ctx(plan, None, True, lambda r: "")  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        ctx.ref(Ref("prod/us-east-1", "healthcheck:x", "arn"), None)


def test_sub_names_other_intrinsics_as_variables(plan: Plan) -> None:
    from replgen.backends.cloudformation.context import Ctx

    ctx = Ctx(plan, t.Template(), False, lambda r: "")
    joined = t.Join(",", ["a", "b"])
    assert ctx.sub(["x=", joined]).to_dict() == {"Fn::Sub": ["x=${V0}", {"V0": joined.to_dict()}]}


def test_a_site_without_parameters_gets_no_writer(plan: Plan) -> None:
    sites = tuple(replace(s, parameters=()) for s in plan.sites)
    out = render(replace(plan, sites=sites))
    assert not [lid for lid in out[PRIMARY]["Resources"] if lid.startswith("ParameterWriter")]


def test_disaster_recovery_cannot_use_the_single_layout(plan: Plan) -> None:
    with pytest.raises(Unsupported, match="one account and region"):
        BACKEND.render(plan, Options(layout="single"))  # type: ignore[arg-type]
