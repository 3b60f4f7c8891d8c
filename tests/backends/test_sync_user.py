"""The sync's own database user on both backends: IAM database authentication on every
cluster, rds-db:connect on exactly that user of that cluster (its resource id), the master
secret readable only by the bootstrap, and the bootstrap invoked per environment at deploy time."""

from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from replgen.backends.cloudformation.invocations import INVOKER

ENVS = ("dev", "staging", "prod")


def cfn(both: dict[str, Path], name: str) -> dict[str, Any]:
    return json.loads((both["prod"] / "cloudformation" / f"{name}.json").read_text())


def tf(both: dict[str, Path], env: str) -> dict[str, Any]:
    path = both["prod"] / "cdktf" / "stacks" / f"dbrepl-prod01-{env}-us-east-1" / "cdk.tf.json"
    return json.loads(path.read_text())


def cfn_policy(template: dict[str, Any], lid: str) -> dict[str, Any]:
    (policy,) = template["Resources"][lid]["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def tf_role(stack: dict[str, Any], name: str) -> dict[str, Any]:
    roles = stack["resource"]["aws_iam_role"].values()
    return next(r for r in roles if r["name"] == name)


def tf_policy(role: dict[str, Any]) -> dict[str, Any]:
    (inline,) = role["inline_policy"]
    return {s["Sid"]: s for s in json.loads(inline["policy"])["Statement"]}


@pytest.mark.parametrize("env", ENVS)
def test_cloudformation_connect_names_the_user_of_the_cluster(
    both: dict[str, Path], env: str
) -> None:
    template = cfn(both, env)
    assert template["Resources"]["Cluster"]["Properties"]["EnableIAMDatabaseAuthentication"]
    access = cfn_policy(template, "ReplsyncAccessRole")
    assert list(access) == ["ConnectAsSyncUser"]  # no secret, no key, nothing else
    (resource,) = access["ConnectAsSyncUser"]["Resource"]
    account = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}[env]
    assert resource == {
        "Fn::Sub": f"arn:aws:rds-db:us-east-1:{account}:dbuser:"
        "${Cluster.DBClusterResourceId}/replgen_sync"
    }
    boot = cfn_policy(template, "ReplsyncMasterRole")
    assert boot["ReadMasterSecret"]["Action"] == [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    ]
    trust = template["Resources"]["ReplsyncMasterRole"]["Properties"]
    principals = json.dumps(trust["AssumeRolePolicyDocument"])
    assert "role/dbrepl-prod01-staging-replsync-boot" in principals
    assert 'role/dbrepl-prod01-staging-replsync"' not in principals


@pytest.mark.parametrize("env", ENVS)
def test_terraform_connect_names_the_user_of_the_cluster(both: dict[str, Path], env: str) -> None:
    stack = tf(both, env)
    (cluster_id, cluster), *_ = stack["resource"]["aws_rds_cluster"].items()
    assert cluster["iam_database_authentication_enabled"] is True
    access = tf_policy(tf_role(stack, f"dbrepl-prod01-{env}-replsync-access"))
    assert list(access) == ["ConnectAsSyncUser"]
    account = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}[env]
    assert access["ConnectAsSyncUser"]["Resource"] == [
        f"arn:aws:rds-db:us-east-1:{account}:dbuser:"
        f"${{aws_rds_cluster.{cluster_id}.cluster_resource_id}}/replgen_sync"
    ]
    boot = tf_policy(tf_role(stack, f"dbrepl-prod01-{env}-replsync-master"))
    assert "secretsmanager:GetSecretValue" in boot["ReadMasterSecret"]["Action"]


def test_only_the_bootstrap_reads_master_secrets_on_both_backends(both: dict[str, Path]) -> None:
    staging = cfn(both, "staging")
    run_time = cfn_policy(staging, "ReplsyncRole")
    assert run_time["AssumeEnvironmentRoles"]["Resource"] == [
        f"arn:aws:iam::{a}:role/dbrepl-prod01-{e}-replsync-access"
        for a, e in (("111111111111", "dev"), ("222222222222", "staging"), ("333333333333", "prod"))
    ]
    assert run_time["ReadMigrationScripts"]["Action"] == [
        "s3:GetObjectVersion",
        "s3:ListBucketVersions",
    ]
    boot = cfn_policy(staging, "ReplsyncBootRole")
    assert all("replsync-master" in r for r in boot["AssumeEnvironmentRoles"]["Resource"])
    assert "ReadMigrationScripts" not in boot
    stack = tf(both, "staging")
    functions = {f["function_name"]: f for f in stack["resource"]["aws_lambda_function"].values()}
    run_config = functions["dbrepl-prod01-staging-replsync"]["environment"]["variables"]
    boot_config = functions["dbrepl-prod01-staging-replsync-boot"]["environment"]["variables"]
    assert "secret_arn" not in run_config["REPLSYNC_CONFIG"]
    assert boot_config["REPLSYNC_CONFIG"].count('"secret_arn":') == 3


def test_cloudformation_invokes_the_bootstrap_per_environment(both: dict[str, Path]) -> None:
    staging = cfn(both, "staging")
    resources = staging["Resources"]
    invocations = {
        lid: r for lid, r in resources.items() if r["Type"] == "Custom::FunctionInvocation"
    }
    assert sorted(invocations) == [f"Bootstrap{e.title()}Invocation" for e in sorted(ENVS)]
    for lid, resource in invocations.items():
        p = resource["Properties"]
        assert p["ServiceToken"] == {"Fn::GetAtt": ["InvokerFunction", "Arn"]}
        assert p["FunctionName"] == {"Fn::GetAtt": ["ReplsyncBootFunction", "Arn"]}
        payload = json.loads(p["Payload"])
        assert (
            payload["action"] == "bootstrap"
            and lid == f"Bootstrap{payload['target'].title()}Invocation"
        )
        assert "ReplsyncMasterRole" in resource["DependsOn"]
    invoker = resources["InvokerFunction"]["Properties"]
    assert "VpcConfig" not in invoker  # it must reach CloudFormation's response URL
    assert resources["ReplsyncBootFunction"]["Properties"]["VpcConfig"]  # the databases
    policy = cfn_policy(staging, "InvokerRole")
    assert policy["InvokeTargets"]["Resource"] == [{"Fn::GetAtt": ["ReplsyncBootFunction", "Arn"]}]


def test_terraform_invokes_the_bootstrap_per_environment(both: dict[str, Path]) -> None:
    stack = tf(both, "staging")
    invocations = stack["resource"]["aws_lambda_invocation"]
    functions = stack["resource"]["aws_lambda_function"]
    boot_id = next(k for k, f in functions.items() if f["function_name"].endswith("-boot"))
    targets = set()
    for invocation in invocations.values():
        assert invocation["function_name"] == f"${{aws_lambda_function.{boot_id}.function_name}}"
        payload = json.loads(invocation["input"])
        targets.add(payload["target"])
        assert any("role_replsync_master" in d for d in invocation["depends_on"])
    assert targets == set(ENVS)


# The invoker's inline code, against a stand-in Lambda client: it answers CloudFormation always.


class _Lambda:
    def __init__(self, answer: Any, error: str | None = None) -> None:
        self.answer, self.error, self.calls = answer, error, []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        out = {"Payload": io.BytesIO(json.dumps(self.answer).encode())}
        return {**out, "FunctionError": self.error} if self.error else out


@pytest.fixture
def invoker(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    answers: list[tuple[str, ...]] = []
    fake = types.ModuleType("cfnresponse")
    fake.SUCCESS, fake.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]
    fake.send = lambda event, _ctx, status, _data, physical, reason=None: answers.append(  # type: ignore[attr-defined]
        (event["RequestType"], status, physical, reason)
    )
    monkeypatch.setitem(sys.modules, "cfnresponse", fake)
    namespace: dict[str, Any] = {}
    exec(compile(INVOKER.replace("@WAIT@", "330"), "index.py", "exec"), namespace)
    return namespace, answers


def _event(kind: str) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "LogicalResourceId": "BootstrapDevInvocation",
        "ResourceProperties": {"FunctionName": "boot", "Payload": '{"action":"bootstrap"}'},
    }


def test_invoker_answers_success_and_failure(invoker: Any) -> None:
    namespace, answers = invoker
    namespace["LAMBDA"] = ok = _Lambda({"status": "ok"})
    namespace["handler"](_event("Create"), None)
    namespace["LAMBDA"] = _Lambda(
        {"errorType": "ConnectionRefused", "errorMessage": "x"}, "Unhandled"
    )
    namespace["handler"](_event("Update"), None)
    namespace["LAMBDA"] = _Lambda({"status": "refused", "reason": "r"})
    namespace["handler"](_event("Update"), None)
    namespace["LAMBDA"] = untouched = _Lambda({"status": "ok"})
    namespace["handler"](_event("Delete"), None)

    assert ok.calls == [{"FunctionName": "boot", "Payload": b'{"action":"bootstrap"}'}]
    assert untouched.calls == []  # nothing to undo: the user goes with its database
    statuses = [(kind, status) for kind, status, _physical, _reason in answers]
    assert statuses == [
        ("Create", "SUCCESS"),
        ("Update", "FAILED"),
        ("Update", "FAILED"),
        ("Delete", "SUCCESS"),
    ]
    assert "ConnectionRefused" in answers[1][3] and "not ok" in answers[2][3]
    assert len(INVOKER) <= 4096  # CloudFormation's limit on inline code
