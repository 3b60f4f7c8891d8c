"""One stack's change set against botocore's own Stubber (real request and response
shapes): what moto does not report, replacements and failed resources' events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from replgen.deploy import DeployError
from replgen.deploy.changeset import Change, Stack
from replgen.deploy.ui import Terminal

NAME = "dbrepl-prod01-dev"
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def _stack(status: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "StackName": NAME,
        "StackStatus": status,
        "CreationTime": WHEN,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in (params or {}).items()],
    }


def _event(eid: str, resource: str, status: str, reason: str = "") -> dict[str, Any]:
    return {
        "StackId": "id",
        "EventId": eid,
        "StackName": NAME,
        "LogicalResourceId": resource,
        "ResourceType": "AWS::EC2::Subnet" if resource != NAME else "AWS::CloudFormation::Stack",
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
        "Timestamp": WHEN,
    }


@pytest.fixture()
def cf() -> Any:
    return boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_an_update_lists_replacements(cf: Any, capsys: pytest.CaptureFixture[str]) -> None:
    stub = Stubber(cf)
    stub.add_response("describe_stacks", {"Stacks": [_stack("UPDATE_COMPLETE")]})
    stub.add_response("create_change_set", {"Id": "cs", "StackId": "id"})
    changes = [
        {
            "Type": "Resource",
            "ResourceChange": {
                "Action": "Modify",
                "LogicalResourceId": "Subnet1",
                "ResourceType": "AWS::EC2::Subnet",
                "Replacement": "True",
            },
        },
        {
            "Type": "Resource",
            "ResourceChange": {
                "Action": "Modify",
                "LogicalResourceId": "Topic",
                "ResourceType": "AWS::SNS::Topic",
                "Replacement": "False",
            },
        },
    ]
    described = {"Status": "CREATE_COMPLETE", "Changes": changes}
    stub.add_response("describe_change_set", described)
    stub.add_response("describe_change_set", described)
    with stub:
        prepared = Stack(cf, NAME, 0).prepare({"TemplateBody": "{}"}, {}, (), "cs")
    assert not prepared.create
    assert prepared.changes == [
        Change("Subnet1", "AWS::EC2::Subnet", "Modify", "True"),
        Change("Topic", "AWS::SNS::Topic", "Modify", "False"),
    ]
    Terminal(yes=True).changes(NAME, prepared.changes)
    shown = capsys.readouterr().out
    assert "REPLACE" in shown
    assert f"!! {NAME}: 1 resource(s) replaced: Subnet1" in shown


def test_a_change_set_without_changes_is_nothing_to_do(cf: Any) -> None:
    stub = Stubber(cf)
    stub.add_response("describe_stacks", {"Stacks": [_stack("UPDATE_COMPLETE")]})
    stub.add_response("create_change_set", {"Id": "cs", "StackId": "id"})
    stub.add_response(
        "describe_change_set",
        {
            "Status": "FAILED",
            "StatusReason": "The submitted information didn't contain changes. Submit different "
            "information to create a change set.",
        },
    )
    stub.add_response("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": "cs"})
    with stub:
        prepared = Stack(cf, NAME, 0).prepare({"TemplateBody": "{}"}, {}, (), "cs")
    assert prepared.change_set is None


def test_a_failed_resource_is_named_with_its_reason(cf: Any) -> None:
    from replgen.deploy.changeset import Prepared

    stub = Stubber(cf)
    stub.add_response("describe_stacks", {"Stacks": [_stack("REVIEW_IN_PROGRESS")]})
    stub.add_response(
        "describe_stack_events", {"StackEvents": [_event("e0", NAME, "REVIEW_IN_PROGRESS")]}
    )
    stub.add_response("execute_change_set", {}, {"StackName": NAME, "ChangeSetName": "cs"})
    stub.add_response("describe_stacks", {"Stacks": [_stack("ROLLBACK_COMPLETE")]})
    events = [
        _event("e3", NAME, "ROLLBACK_COMPLETE"),
        _event("e2", "Subnet1", "CREATE_FAILED", "The CIDR '10.1.0.0/24' conflicts"),
        _event("e1", NAME, "CREATE_IN_PROGRESS"),
        _event("e0", NAME, "REVIEW_IN_PROGRESS"),
    ]
    stub.add_response("describe_stack_events", {"StackEvents": events})
    seen: list[str] = []
    with stub, pytest.raises(DeployError) as failure:
        Stack(cf, NAME, 0).execute(Prepared(NAME, "cs", True, []), lambda e: seen.append(e.status))
    assert str(failure.value) == (
        f"{NAME} failed (ROLLBACK_COMPLETE): Subnet1 (AWS::EC2::Subnet): "
        "The CIDR '10.1.0.0/24' conflicts"
    )
    assert seen == ["CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_COMPLETE"], "oldest first"


def test_unchanged_compares_template_and_parameters(cf: Any) -> None:
    body = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}).encode()
    stub = Stubber(cf)
    stub.add_response("describe_stacks", {"Stacks": [_stack("UPDATE_COMPLETE", {"A": "1"})]})
    stub.add_response(
        "get_template",
        {"TemplateBody": body.decode()},
        {"StackName": NAME, "TemplateStage": "Original"},
    )
    stub.add_response("describe_stacks", {"Stacks": [_stack("UPDATE_COMPLETE", {"A": "1"})]})
    stub.add_response("describe_stacks", {"Stacks": [_stack("ROLLBACK_COMPLETE", {"A": "1"})]})
    with stub:
        stack = Stack(cf, NAME, 0)
        assert stack.unchanged(body, {"A": "1"})
        assert not stack.unchanged(body, {"A": "2"})
        assert not stack.unchanged(body, {"A": "1"})


def test_a_first_deploy_that_rolled_back_must_be_deleted_first(cf: Any) -> None:
    stub = Stubber(cf)
    stub.add_response("describe_stacks", {"Stacks": [_stack("ROLLBACK_COMPLETE")]})
    with stub, pytest.raises(DeployError, match="ROLLBACK_COMPLETE from a failed first deploy"):
        Stack(cf, NAME, 0).prepare({"TemplateBody": "{}"}, {}, (), "cs")


def test_a_missing_stack_is_none(cf: Any) -> None:
    stub = Stubber(cf)
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {NAME} does not exist",
        400,
        expected_params={"StackName": ANY},
    )
    with stub:
        assert Stack(cf, NAME, 0).describe() is None
