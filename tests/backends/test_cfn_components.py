"""CloudFormation: database, SecureString parameters, buckets, monitoring and sync.

Expected values come from the plan or are written out literally from specs/prod.yaml,
so a test fails when a renderer drops, invents or bends a value.
"""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from cfn_templates import (
    ARTIFACTS,
    ROOT,
    Template,
    getatt,
    of_type,
    props,
    ref,
    render,
    res,
    skips,
)
from moto import mock_aws

from replgen.backends import Options
from replgen.backends.cloudformation import BACKEND
from replgen.backends.cloudformation.parameters import WRITER
from replgen.plan.build import build
from replgen.plan.model import Instance, Plan, Ref, Replication, Site
from replgen.plan.waivers import Waiver
from replgen.spec.load import load, validate
from replgen.spec.source import parse

KEY = {"Fn::GetAtt": ["Key", "Arn"]}
DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build(load(ROOT / "specs" / "prod.yaml").spec, ARTIFACTS)


@pytest.fixture(scope="module")
def out(plan: Plan) -> dict[str, Template]:
    return render(plan)


def resolve(value: Any, names: dict[str, str]) -> str:
    """A string-valued intrinsic with each reference (`Lid` or `Lid.Attr`) replaced by `names`.

    Fn::Join and Fn::Sub alike: the tests check what the value becomes, not its spelling.
    """
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return names[value["Ref"]]
    if "Fn::GetAtt" in value:
        return names[".".join(value["Fn::GetAtt"])]
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolve(part, names) for part in parts)
    body = value["Fn::Sub"]
    text, variables = (body, {}) if isinstance(body, str) else body

    def substitute(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        return resolve(variables[inner], names) if inner in variables else names[inner]

    return re.sub(r"\$\{([^}]*)\}", substitute, text)


def with_site(plan: Plan, site_id: str, **changes: Any) -> Plan:
    sites = tuple(replace(s, **changes) if s.id == site_id else s for s in plan.sites)
    return replace(plan, sites=sites)


# ---------------------------------------------------------------- database


def test_cluster_engine_and_identity(out: dict[str, Template]) -> None:
    cluster = props(out["prod.json"], "Cluster")
    assert cluster["DBClusterIdentifier"] == "dbrepl-prod01-prod"
    assert cluster["Engine"] == "aurora-mysql"
    assert cluster["EngineVersion"] == "5.7.mysql_aurora.2.12.4"
    assert cluster["DatabaseName"] == "appdb"
    assert cluster["Port"] == 3306
    assert cluster["MasterUsername"] == "replgen_admin"
    assert cluster["DBSubnetGroupName"] == ref("DbSubnetGroup")
    assert cluster["DBClusterParameterGroupName"] == ref("ClusterParameterGroup")
    assert cluster["VpcSecurityGroupIds"] == [getatt("DatabaseSecurityGroup", "GroupId")]
    assert cluster["EnableCloudwatchLogsExports"] == ["audit", "error", "slowquery"]
    assert cluster["PreferredBackupWindow"] == "03:00-04:00"
    assert cluster["PreferredMaintenanceWindow"] == "sun:05:00-sun:06:00"
    assert cluster["CopyTagsToSnapshot"] is True
    assert "ServerlessV2ScalingConfiguration" not in cluster


def test_subnet_and_parameter_groups(plan: Plan, out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    group = props(prod, "DbSubnetGroup")
    assert group["DBSubnetGroupName"] == "dbrepl-prod01-prod-db-subnets"
    assert group["SubnetIds"] == [ref("PrivateSubnet1"), ref("PrivateSubnet2")]
    params = props(prod, "ClusterParameterGroup")
    assert params["Family"] == "aurora-mysql5.7"
    assert params["DBClusterParameterGroupName"] == "dbrepl-prod01-prod-cluster-params"
    assert params["Parameters"] == {
        "server_audit_logging": "1",
        "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
        "require_secure_transport": "ON",
    }


def test_cluster_is_encrypted_with_the_site_key(out: dict[str, Template]) -> None:
    cluster = props(out["prod.json"], "Cluster")
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"] == KEY
    assert cluster["MasterUserSecret"] == {"KmsKeyId": KEY}


def test_password_is_managed_by_rds_and_iam_auth_is_on(out: dict[str, Template]) -> None:
    for name in ("dev.json", "staging.json", "prod.json"):
        cluster = props(out[name], "Cluster")
        assert cluster["ManageMasterUserPassword"] is True
        assert "MasterUserPassword" not in cluster
        assert cluster["EnableIAMDatabaseAuthentication"] is True


def test_backup_retention_comes_from_the_region_mapping(out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    assert props(prod, "Cluster")["BackupRetentionPeriod"] == {
        "Fn::FindInMap": ["DatabaseSettings", ref("AWS::Region"), "BackupRetentionDays"]
    }
    # Keyed by the site's region only: another region has no entry and fails to deploy.
    assert prod["Mappings"]["DatabaseSettings"] == {"us-east-1": {"BackupRetentionDays": 7}}


def test_cluster_and_instances_are_destroyable(out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    cluster = res(prod, "Cluster")
    assert cluster["Properties"]["DeletionProtection"] is False
    assert "CKV_AWS_139" in skips(cluster)
    for lid in ("Cluster", "DatabaseInstance1", "DatabaseInstance2"):
        resource = res(prod, lid)
        assert {k: resource[k] for k in DELETE} == DELETE
    assert "SnapshotIdentifier" not in cluster["Properties"]


def test_instances_monitoring_and_performance_insights(out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    instances = of_type(prod, "AWS::RDS::DBInstance")
    assert set(instances) == {"DatabaseInstance1", "DatabaseInstance2"}
    for number, lid in enumerate(sorted(instances), start=1):
        p = instances[lid]["Properties"]
        assert p["DBInstanceIdentifier"] == f"dbrepl-prod01-prod-{number}"
        assert p["DBInstanceClass"] == ref("DatabaseInstanceClass")
        assert p["Engine"] == "aurora-mysql"
        assert p["DBClusterIdentifier"] == ref("Cluster")
        assert p["MonitoringInterval"] == 60
        assert p["MonitoringRoleArn"] == getatt("MonitoringRole", "Arn")
        assert p["EnablePerformanceInsights"] is True
        assert p["PerformanceInsightsKMSKeyId"] == KEY
        assert p["PerformanceInsightsRetentionPeriod"] == 7
        assert p["PubliclyAccessible"] is False
        assert p["AutoMinorVersionUpgrade"] is True
        assert p["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
        assert "AvailabilityZone" not in p  # the plan leaves placement to RDS


def test_instance_class_is_a_parameter_defaulting_to_the_plan(out: dict[str, Template]) -> None:
    parameter = out["prod.json"]["Parameters"]["DatabaseInstanceClass"]
    assert parameter["Default"] == "db.r5.large"
    assert parameter["Type"] == "String"


def test_prod_can_scale_its_reader_down_with_a_parameter(out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    count = prod["Parameters"]["DatabaseInstances"]
    assert count["Default"] == "2"
    assert count["AllowedValues"] == ["1", "2"]
    assert "Condition" not in res(prod, "DatabaseInstance1")  # the writer always exists
    assert res(prod, "DatabaseInstance2")["Condition"] == "DatabaseInstance2Enabled"
    assert prod["Conditions"] == {
        "DatabaseInstance2Enabled": {"Fn::Equals": [ref("DatabaseInstances"), "2"]}
    }


def test_single_instance_sites_have_no_unused_count_parameter(out: dict[str, Template]) -> None:
    dev = out["dev.json"]
    assert "DatabaseInstances" not in dev["Parameters"]
    assert "Conditions" not in dev
    assert set(of_type(dev, "AWS::RDS::DBInstance")) == {"DatabaseInstance1"}


def _holds(condition: Any, parameters: dict[str, str]) -> bool:
    """Evaluate Fn::Equals / Fn::Or over literal parameter values."""
    ((fn, args),) = condition.items()
    if fn == "Fn::Or":
        return any(_holds(c, parameters) for c in args)
    assert fn == "Fn::Equals"
    left, right = args
    return bool(parameters[left["Ref"]] == right)


@pytest.mark.parametrize("count", [3, 12, 25])
def test_instance_k_exists_exactly_when_the_count_is_at_least_k(plan: Plan, count: int) -> None:
    """Fn::Or takes at most ten operands: larger clusters nest them."""
    prod = plan.site("prod")
    instances = tuple(Instance(f"i-{n}") for n in range(1, count + 1))
    bigger = with_site(plan, "prod", database=replace(prod.database, instances=instances))
    template = render(bigger)["prod.json"]
    assert template["Parameters"]["DatabaseInstances"]["AllowedValues"] == [
        str(n) for n in range(1, count + 1)
    ]
    conditions = template["Conditions"]
    for chosen in range(1, count + 1):
        for k in range(2, count + 1):
            condition = conditions[res(template, f"DatabaseInstance{k}")["Condition"]]
            assert _holds(condition, {"DatabaseInstances": str(chosen)}) == (chosen >= k)
    for condition in conditions.values():
        assert all(len(ops) <= 10 for fn, ops in _walk(condition) if fn == "Fn::Or")


def _walk(condition: Any) -> Iterator[tuple[str, list[Any]]]:
    ((fn, args),) = condition.items()
    yield fn, args
    if fn == "Fn::Or":
        for c in args:
            yield from _walk(c)


def test_serverless_scaling_and_class(plan: Plan) -> None:
    dev = plan.site("dev")
    db = replace(dev.database, serverless=(0.5, 16.0), instance_class="db.serverless")
    template = render(with_site(plan, "dev", database=db))["dev.json"]
    assert props(template, "Cluster")["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.5,
        "MaxCapacity": 16.0,
    }
    assert template["Parameters"]["DatabaseInstanceClass"]["Default"] == "db.serverless"


def test_a_global_primary_creates_its_global_cluster_and_joins_it(plan: Plan) -> None:
    dev = plan.site("dev")
    db = replace(dev.database, global_cluster_id="g", global_role="primary", managed_password=False)
    dev_json = render(with_site(plan, "dev", database=db))["dev.json"]
    global_cluster = props(dev_json, "GlobalCluster")
    assert global_cluster["GlobalClusterIdentifier"] == "g"
    assert global_cluster["Engine"] == dev.database.engine
    assert props(dev_json, "Cluster")["GlobalClusterIdentifier"] == ref("GlobalCluster")
    # Without a secret of its own and a password RDS does not manage: none of either.
    assert "ManageMasterUserPassword" not in props(dev_json, "Cluster")
    assert "MasterUserPassword" not in props(dev_json, "Cluster")


def test_a_global_secondary_reads_the_global_cluster_from_its_stack(plan: Plan) -> None:
    dev = plan.site("dev")
    db = replace(
        dev.database,
        global_cluster_id="g",
        global_role="secondary",
        managed_password=False,
        global_cluster=Ref("prod", "global_cluster", "id"),
    )
    dev_json = render(with_site(plan, "dev", database=db))["dev.json"]
    cluster = props(dev_json, "Cluster")
    assert cluster["GlobalClusterIdentifier"] == ref("ProdGlobalClusterId")
    assert "MasterUsername" not in cluster
    assert "DatabaseName" not in cluster


# ---------------------------------------------------------------- SecureString parameters


def test_connection_string_is_a_secure_string_custom_resource(
    plan: Plan, out: dict[str, Template]
) -> None:
    prod = out["prod.json"]
    resource = res(prod, "DatabaseConnectionParameter")
    assert resource["Type"] == "Custom::SecureStringParameter"
    p = resource["Properties"]
    assert p["ServiceToken"] == getatt("ParameterWriterFunction", "Arn")
    assert p["Name"] == plan.site("prod").parameters[0].name
    assert p["Name"] == "/dbrepl/prod01/prod/database/connection"
    assert p["KeyId"] == KEY
    value = resolve(p["Value"], {"Cluster.Endpoint.Address": "HOST"})
    assert value == "mysql://replgen_admin@HOST:3306/appdb"
    assert 1 <= p["ServiceTimeout"] <= 3600


def _writer_statements(template: Template) -> dict[str, dict[str, Any]]:
    (policy,) = props(template, "ParameterWriterRole")["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def test_writer_role_names_exact_resources(plan: Plan, out: dict[str, Template]) -> None:
    for site in plan.sites:
        template = out[f"{site.slug}.json"]
        role = props(template, "ParameterWriterRole")
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": ["lambda.amazonaws.com"]}
        statements = _writer_statements(template)
        write = statements["WriteOwnParameters"]
        assert write["Action"] == [
            "ssm:PutParameter",
            "ssm:DeleteParameter",
            "ssm:AddTagsToResource",
        ]
        assert write["Resource"] == [p.arn for p in site.parameters]
        assert write["Resource"] == [
            f"arn:aws:ssm:us-east-1:{site.account_id}:parameter/dbrepl/prod01/"
            f"{site.slug}/database/connection"
        ]
        encrypt = statements["EncryptParameters"]
        assert encrypt["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]
        assert encrypt["Resource"] == [KEY]
        assert encrypt["Condition"] == {
            "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}
        }
        logs = statements["WriteOwnLogs"]
        assert logs["Resource"] == [getatt("ParameterWriterLogGroup", "Arn")]
        assert statements["DeadLetters"]["Resource"] == [getatt("ParameterWriterDlq", "Arn")]
        every_resource = [r for s in statements.values() for r in s["Resource"]]
        assert every_resource.count("*") == 1  # X-Ray only
        assert statements["Tracing"]["Resource"] == ["*"]


def test_writer_function_settings(out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    function = res(prod, "ParameterWriterFunction")
    p = function["Properties"]
    assert p["Handler"] == "index.handler"
    assert p["Code"] == {"ZipFile": WRITER}
    assert len(WRITER) <= 4096  # CloudFormation's limit on inline code
    assert p["Role"] == getatt("ParameterWriterRole", "Arn")
    assert "VpcConfig" not in p
    assert p["ReservedConcurrentExecutions"] >= 1
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert p["KmsKeyArn"] == KEY
    assert p["DeadLetterConfig"] == {"TargetArn": getatt("ParameterWriterDlq", "Arn")}
    assert p["LoggingConfig"] == {"LogGroup": ref("ParameterWriterLogGroup")}
    assert set(skips(function)) == {"CKV_AWS_117", "CKV_AWS_272"}
    assert "presigned" in skips(function)["CKV_AWS_117"]
    group = res(prod, "ParameterWriterLogGroup")
    assert group["Properties"]["KmsKeyId"] == KEY
    assert group["Properties"]["LogGroupName"] == "/replgen/dbrepl-prod01/prod/parameter-writer"
    assert {k: group[k] for k in DELETE} == DELETE
    assert props(prod, "ParameterWriterDlq")["KmsMasterKeyId"] == KEY


# The writer's inline code, run against a mocked SSM: it must answer CloudFormation always.


Answer = tuple[str, str, str, str | None]  # request type, status, physical id, reason


class _Context:
    log_stream_name = "2024/01/01/[$LATEST]abc"


@pytest.fixture
def writer(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, Any], list[Answer]]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    answers: list[Answer] = []
    fake = types.ModuleType("cfnresponse")
    fake.SUCCESS, fake.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]
    fake.send = lambda event, context, status, data, physical_id, reason=None: answers.append(  # type: ignore[attr-defined]
        (event["RequestType"], status, physical_id, reason)
    )
    monkeypatch.setitem(sys.modules, "cfnresponse", fake)
    with mock_aws():
        namespace: dict[str, Any] = {}
        exec(compile(WRITER, "index.py", "exec"), namespace)
        yield namespace, answers


def _event(kind: str, key: str, value: str = "v1", physical: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": kind,
        "ResourceProperties": {
            "Name": "/t/p",
            "Description": "d",
            "Value": value,
            "KeyId": key,
            "Tags": {"replgen:topology": "t"},
        },
    }
    if physical:
        event["PhysicalResourceId"] = physical
    return event


def test_writer_code_creates_updates_and_deletes(writer: Any) -> None:
    namespace, answers = writer
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    ssm = boto3.client("ssm")
    namespace["handler"](_event("Create", key), _Context())
    stored = ssm.get_parameter(Name="/t/p", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", "v1")
    described = ssm.describe_parameters()["Parameters"][0]
    assert described["KeyId"] == key
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/t/p")["TagList"]
    assert tags == [{"Key": "replgen:topology", "Value": "t"}]
    namespace["handler"](_event("Update", key, "v2", "/t/p"), _Context())
    assert ssm.get_parameter(Name="/t/p", WithDecryption=True)["Parameter"]["Value"] == "v2"
    namespace["handler"](_event("Delete", key, physical="/t/p"), _Context())
    assert ssm.describe_parameters()["Parameters"] == []
    namespace["handler"](_event("Delete", key, physical="/t/p"), _Context())  # already gone
    assert answers == [
        ("Create", "SUCCESS", "/t/p", None),
        ("Update", "SUCCESS", "/t/p", None),
        ("Delete", "SUCCESS", "/t/p", None),
        ("Delete", "SUCCESS", "/t/p", None),
    ]


def test_writer_code_answers_on_failure_without_leaking_the_value(
    writer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace, answers = writer
    event = _event("Create", "k", "s3cr3t")
    del event["ResourceProperties"]["KeyId"]
    namespace["handler"](event, _Context())
    # A Create that failed leaves no parameter name behind, so its rollback deletes nothing.
    namespace["handler"](_event("Delete", "k", physical=_Context.log_stream_name), _Context())
    (kind, status, physical, reason), delete = answers
    assert (kind, status, physical) == ("Create", "FAILED", _Context.log_stream_name)
    assert "/t/p" in reason and "KeyError" in reason
    assert delete == ("Delete", "SUCCESS", _Context.log_stream_name, None)
    assert "s3cr3t" not in capsys.readouterr().out + reason


# ---------------------------------------------------------------- buckets


def test_migration_bucket_settings(plan: Plan, out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    bucket = res(prod, "MigrationsBucket")
    p = bucket["Properties"]
    assert p["BucketName"] == "dbrepl-prod01-prod-migrations-333333333333"
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert p["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
            }
        ]
    }
    (rule,) = p["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == 30
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
    assert p["LoggingConfiguration"] == {
        "DestinationBucketName": ref("AccessLogsBucket"),
        "LogFilePrefix": "migrations/",
    }
    assert bucket["DependsOn"] == ["AccessLogsBucketPolicy"]
    assert {k: bucket[k] for k in DELETE} == DELETE


def test_access_log_bucket_is_sse_s3_and_does_not_log_itself(out: dict[str, Template]) -> None:
    bucket = res(out["prod.json"], "AccessLogsBucket")
    p = bucket["Properties"]
    assert p["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert "LoggingConfiguration" not in p
    assert p["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 365
    assert {"CKV_AWS_18", "CKV_AWS_145"} <= set(skips(bucket))
    assert {k: bucket[k] for k in DELETE} == DELETE


def _deny_plain_http(name: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:*"],
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_every_bucket_denies_plain_http(plan: Plan, out: dict[str, Template]) -> None:
    for site in plan.sites:
        template = out[f"{site.slug}.json"]
        for bucket in site.buckets:
            lid = "AccessLogsBucket" if bucket.key == "bucket:access-logs" else "MigrationsBucket"
            policy = props(template, f"{lid}Policy")
            assert policy["Bucket"] == ref(lid)
            assert policy["PolicyDocument"]["Statement"][0] == _deny_plain_http(bucket.name)


def test_log_delivery_is_limited_to_the_source_bucket(out: dict[str, Template]) -> None:
    policy = props(out["prod.json"], "AccessLogsBucketPolicy")
    statements = policy["PolicyDocument"]["Statement"]
    assert len(statements) == 2
    allow = statements[1]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": ["logging.s3.amazonaws.com"]}
    assert allow["Action"] == ["s3:PutObject"]
    logs = "dbrepl-prod01-prod-access-logs-333333333333"
    assert allow["Resource"] == [f"arn:aws:s3:::{logs}/migrations/*"]
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "333333333333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::dbrepl-prod01-prod-migrations-333333333333"},
    }


def test_replicated_buckets_carry_one_rule_per_destination(plan: Plan) -> None:
    dev = plan.site("dev")
    rules = tuple(
        Replication(f"to-{region}", f"arn:aws:s3:::dest-{region}", region, key, "role:x", 15)
        for region, key in (
            ("eu-west-1", Ref("prod", "key", "arn")),
            ("eu-west-2", Ref("prod", "key", "arn")),
        )
    )
    # As the plan decides for a replicated bucket: no reason to replicate nowhere.
    replicated = {
        b.key: replace(
            b,
            replication=rules,
            waivers=tuple(w for w in b.waivers if w.waiver is not Waiver.NOT_REPLICATED),
        )
        for b in dev.buckets
        if b.kms_key
    }
    buckets = tuple(replicated.get(b.key, b) for b in dev.buckets)
    dev_json = render(with_site(plan, "dev", buckets=buckets))["dev.json"]
    bucket = res(dev_json, "MigrationsBucket")
    config = bucket["Properties"]["ReplicationConfiguration"]
    assert config["Role"] == getatt("XRole", "Arn")
    assert [(r["Id"], r["Priority"]) for r in config["Rules"]] == [
        ("to-eu-west-1", 0),
        ("to-eu-west-2", 1),
    ]
    destination = config["Rules"][1]["Destination"]
    assert destination["Bucket"] == "arn:aws:s3:::dest-eu-west-2"
    assert destination["EncryptionConfiguration"] == {"ReplicaKmsKeyID": ref("ProdKeyArn")}
    assert "CKV_AWS_144" not in skips(bucket)


# ---------------------------------------------------------------- monitoring


def test_topic_is_encrypted_and_mails_the_on_call(out: dict[str, Template]) -> None:
    prod = out["prod.json"]
    topic = props(prod, "Topic")
    assert topic["TopicName"] == "dbrepl-prod01-prod-alerts"
    assert topic["KmsMasterKeyId"] == KEY
    subscriptions = of_type(prod, "AWS::SNS::Subscription")
    assert [s["Properties"] for s in subscriptions.values()] == [
        {"TopicArn": ref("Topic"), "Protocol": "email", "Endpoint": "dba-oncall@example.com"}
    ]


def test_replica_lag_alarm_is_in_milliseconds(out: dict[str, Template]) -> None:
    alarm = props(out["prod.json"], "ReplicaLagAlarm")
    assert alarm == {
        "AlarmName": "dbrepl-prod01-prod-replica-lag",
        "AlarmDescription": "Aurora replica lag in dbrepl-prod01-prod above 60 s",
        "Namespace": "AWS/RDS",
        "MetricName": "AuroraReplicaLagMaximum",
        "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "dbrepl-prod01-prod"}],
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 60000.0,
        "Unit": "Milliseconds",
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [ref("Topic")],
        "OKActions": [ref("Topic")],
    }


def test_sync_lag_alarms_read_target_staleness_per_target(out: dict[str, Template]) -> None:
    """Staleness arrives only when a run refreshes a target, so silence breaches: 61 silent
    minutes (lag_alarm_seconds 60 + rate(1 hour)) or a refresh that ended 3660 s stale."""
    staging = out["staging.json"]
    alarms = {
        a["Properties"]["Dimensions"][0]["Value"]: a["Properties"]
        for a in of_type(staging, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "TargetStalenessSeconds"
    }
    assert set(alarms) == {"staging", "prod"}  # the reference-data targets
    for target, alarm in alarms.items():
        assert alarm["AlarmName"] == f"dbrepl-prod01-staging-sync-lag-{target}"
        assert alarm["Namespace"] == "replgen/dbrepl"
        assert (alarm["Threshold"], alarm["Unit"], alarm["Statistic"]) == (
            3660.0,
            "Seconds",
            "Maximum",
        )
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (60, 61)
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["Dimensions"] == [{"Name": "Target", "Value": target}]
        assert alarm["AlarmActions"] == alarm["OKActions"] == [ref("Topic")]


def test_every_plan_alarm_is_rendered_once(plan: Plan, out: dict[str, Template]) -> None:
    for site in plan.sites:
        rendered = of_type(out[f"{site.slug}.json"], "AWS::CloudWatch::Alarm").values()
        assert sorted(a["Properties"]["AlarmName"] for a in rendered) == sorted(
            a.name for a in site.alarms
        )


# ---------------------------------------------------------------- sync


def _sync_site(plan: Plan) -> Site:
    return plan.site("staging")


def test_replsync_function_settings(out: dict[str, Template]) -> None:
    staging = out["staging.json"]
    p = props(staging, "ReplsyncFunction")
    assert p["FunctionName"] == "dbrepl-prod01-staging-replsync"
    assert p["Runtime"] == "python3.12"
    assert p["Handler"] == "handler.handler"
    assert p["Timeout"] == 300
    assert p["MemorySize"] == 512
    assert p["ReservedConcurrentExecutions"] == 2
    assert p["Role"] == getatt("ReplsyncRole", "Arn")
    assert p["VpcConfig"] == {
        "SubnetIds": [ref("PrivateSubnet1"), ref("PrivateSubnet2")],
        "SecurityGroupIds": [getatt("FunctionsSecurityGroup", "GroupId")],
    }
    assert p["DeadLetterConfig"] == {"TargetArn": getatt("ReplsyncDlqQueue", "Arn")}
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert p["KmsKeyArn"] == KEY
    assert p["LoggingConfig"] == {"LogGroup": ref("ReplsyncLogGroup")}
    assert p["Code"] == {
        "S3Bucket": ref("ArtifactBucket"),
        "S3Key": "replgen/replsync-0123456789ab.zip",
    }
    assert "Default" not in staging["Parameters"]["ArtifactBucket"]
    assert "ReplsyncFunction" not in out["prod.json"]["Resources"]


def test_replsync_config_reads_other_sites_through_stack_inputs(
    out: dict[str, Template],
) -> None:
    # The master secrets are in the bootstrap function's configuration only.
    run_time = props(out["staging.json"], "ReplsyncFunction")["Environment"]["Variables"]
    assert "SecretArn" not in json.dumps(run_time)
    config = props(out["staging.json"], "ReplsyncBootFunction")["Environment"]["Variables"][
        "REPLSYNC_CONFIG"
    ]
    text = resolve(
        config,
        {
            "DevClusterEndpoint": "DEV-HOST",
            "DevClusterSecretArn": "DEV-SECRET",
            "ProdClusterEndpoint": "PROD-HOST",
            "ProdClusterSecretArn": "PROD-SECRET",
            "Cluster.Endpoint.Address": "STAGING-HOST",
            "Cluster.MasterUserSecret.SecretArn": "STAGING-SECRET",
        },
    )
    document = json.loads(text)
    hosts = {env: (c["host"], c["secret_arn"]) for env, c in document["environments"].items()}
    assert hosts == {
        "dev": ("DEV-HOST", "DEV-SECRET"),
        "staging": ("STAGING-HOST", "STAGING-SECRET"),
        "prod": ("PROD-HOST", "PROD-SECRET"),
    }
    (stack,) = [s for s in out["manifest.json"]["stacks"] if s["name"] == "dbrepl-prod01-staging"]
    assert stack["inputs"] == {
        "DevClusterEndpoint": {"stack": "dbrepl-prod01-dev", "output": "ClusterEndpoint"},
        "DevClusterSecretArn": {"stack": "dbrepl-prod01-dev", "output": "ClusterSecretArn"},
        "ProdClusterEndpoint": {"stack": "dbrepl-prod01-prod", "output": "ClusterEndpoint"},
        "ProdClusterSecretArn": {"stack": "dbrepl-prod01-prod", "output": "ClusterSecretArn"},
        # The zips' bucket: created by the bootstrap of the staging account and region.
        "ArtifactBucket": {
            "stack": "dbrepl-prod01-bootstrap-222222222222-us-east-1",
            "output": "ArtifactBucket",
        },
    }
    assert "ArtifactBucket" not in stack["parameters"], "no parameter is left to the user"
    assert {"dbrepl-prod01-dev", "dbrepl-prod01-prod"} <= set(stack["depends_on"])


def test_sync_log_groups_are_encrypted_with_plan_retention(
    plan: Plan, out: dict[str, Template]
) -> None:
    staging = out["staging.json"]
    site = _sync_site(plan)
    expected = {
        "ReplsyncLogGroup": site.functions[0].log_group,
        "PromoteLogGroup": site.state_machines[0].log_group,
    }
    for lid, group in expected.items():
        resource = res(staging, lid)
        assert resource["Properties"]["LogGroupName"] == group.name
        assert resource["Properties"]["RetentionInDays"] == group.retention_days == 30
        assert resource["Properties"]["KmsKeyId"] == KEY
        assert {k: resource[k] for k in DELETE} == DELETE


def test_dead_letter_queue(out: dict[str, Template]) -> None:
    queue = props(out["staging.json"], "ReplsyncDlqQueue")
    assert queue["QueueName"] == "dbrepl-prod01-staging-replsync-dlq"
    assert queue["KmsMasterKeyId"] == KEY
    assert queue["MessageRetentionPeriod"] == 1209600
    assert queue["VisibilityTimeout"] == 300


def test_state_machine_runs_the_plan_definition_verbatim(
    plan: Plan, out: dict[str, Template]
) -> None:
    machine = _sync_site(plan).state_machines[0]
    p = props(out["staging.json"], "PromoteStateMachine")
    assert p["StateMachineName"] == "dbrepl-prod01-staging-promote"
    assert p["DefinitionString"] == machine.definition
    assert json.loads(p["DefinitionString"])["StartAt"] == "Migrate dev"
    assert p["RoleArn"] == getatt("ReplsyncStatesRole", "Arn")
    assert p["LoggingConfiguration"] == {
        "Level": "ALL",
        "IncludeExecutionData": True,
        "Destinations": [
            {"CloudWatchLogsLogGroup": {"LogGroupArn": getatt("PromoteLogGroup", "Arn")}}
        ],
    }
    assert p["TracingConfiguration"] == {"Enabled": True}


def test_schedule_starts_the_state_machine(out: dict[str, Template]) -> None:
    rule = props(out["staging.json"], "PromoteSchedule")
    assert rule["Name"] == "dbrepl-prod01-staging-replsync-schedule"
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == ref("PromoteStateMachine")
    assert target["RoleArn"] == getatt("ReplsyncScheduleRole", "Arn")


# ---------------------------------------------------------------- layouts and determinism


def test_rendering_is_deterministic(plan: Plan) -> None:
    assert BACKEND.render(plan, Options()) == BACKEND.render(plan, Options())


SINGLE = (
    (ROOT / "specs" / "prod.yaml")
    .read_text()
    .replace('staging: "222222222222"', 'staging: "111111111111"')
    .replace('prod: "333333333333"', 'prod: "111111111111"')
)


def test_single_layout_prefixes_every_component_name() -> None:
    data, source = parse(SINGLE, "single.yaml")
    template = render(build(validate(data, source).spec, ARTIFACTS), "single")["dbrepl.json"]
    assert set(template["Parameters"]) >= {
        "ArtifactBucket",
        "DevDatabaseInstanceClass",
        "StagingDatabaseInstanceClass",
        "ProdDatabaseInstanceClass",
        "ProdDatabaseInstances",
    }
    assert set(template["Mappings"]) == {
        "DevDatabaseSettings",
        "StagingDatabaseSettings",
        "ProdDatabaseSettings",
    }
    assert res(template, "ProdDatabaseInstance2")["Condition"] == "ProdDatabaseInstance2Enabled"
    for slug in ("Dev", "Staging", "Prod"):
        cluster = props(template, f"{slug}Cluster")
        assert cluster["KmsKeyId"] == getatt(f"{slug}Key", "Arn")
        assert cluster["BackupRetentionPeriod"]["Fn::FindInMap"][0] == f"{slug}DatabaseSettings"
        assert props(template, f"{slug}DatabaseConnectionParameter")["ServiceToken"] == getatt(
            f"{slug}ParameterWriterFunction", "Arn"
        )
        assert f"{slug}MigrationsBucket" in template["Resources"]
        assert res(template, f"{slug}Emptier")["DependsOn"][0] == f"{slug}AccessLogsBucket"
    assert props(template, "ProdReplicaLagAlarm")["AlarmActions"] == [ref("ProdTopic")]
    assert "StagingReplsyncFunction" in template["Resources"]
