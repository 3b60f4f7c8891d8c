"""Names and ARNs the plan computes before anything exists."""

from __future__ import annotations

import pytest

from replgen.errors import SpecError
from replgen.plan.arns import account_root, arn, partition, role_arn, service_principal
from replgen.plan.names import Namer


@pytest.mark.parametrize(
    ("region", "expected"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_follows_the_region(region: str, expected: str) -> None:
    assert partition(region) == expected
    assert role_arn(region, "123456789012", "r") == f"arn:{expected}:iam::123456789012:role/r"
    assert account_root(region, "123456789012") == f"arn:{expected}:iam::123456789012:root"


def test_regional_arns_and_china_service_principals() -> None:
    assert arn("sqs", "eu-west-1", "1", "q") == "arn:aws:sqs:eu-west-1:1:q"
    assert service_principal("lambda", "cn-north-1") == "lambda.amazonaws.com.cn"
    assert service_principal("lambda", "eu-west-1") == "lambda.amazonaws.com"


def test_a_name_breaking_the_character_rules_is_reported_against_the_suffix() -> None:
    namer = Namer("app", "x", [])
    namer.make("alb", "under_score")  # ALB names allow no underscore
    namer.make("bucket", "a" * 70)  # too long
    with pytest.raises(SpecError) as caught:
        namer.raise_problems()
    messages = [p.message for p in caught.value.problems]
    assert "breaks the service's naming rules" in messages[0]
    assert "(limit 63)" in messages[1]
    assert all(p.path == ("suffix",) for p in caught.value.problems)
