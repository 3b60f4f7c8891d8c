"""A session per account: the current credentials where they already are, the deploy role
assumed elsewhere, a named profile where mapped; every client at --endpoint-url."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_helpers import DEPLOYER

from replgen.deploy import UsageError
from replgen.deploy.command import profile_map
from replgen.deploy.credentials import Credentials

ACCOUNTS = {"dev": "111111111111", "home": DEPLOYER}


def _account(client: Any) -> str:
    return str(client.get_caller_identity()["Account"])


def test_own_account_uses_the_current_credentials_others_assume_the_role(aws: None) -> None:
    creds = Credentials(ACCOUNTS, {}, "replgen-deploy")
    assert creds.caller_account() == DEPLOYER
    assert creds.session(DEPLOYER, "us-east-1") is creds.base
    assert _account(creds.client("sts", "111111111111", "us-east-1")) == "111111111111"


def test_every_client_goes_to_the_endpoint() -> None:
    creds = Credentials(ACCOUNTS, {}, "r", endpoint_url="http://127.0.0.1:4566")
    creds._sessions["111111111111"] = creds.base  # no call: only the client's wiring
    client = creds.client("cloudformation", "111111111111", "eu-west-1")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"


def test_profiles_are_mapped_by_alias_or_id() -> None:
    creds = Credentials(ACCOUNTS, profile_map(("dev=dev-admin",)), "r")
    assert creds.how("111111111111") == "profile dev-admin"
    assert creds.how(DEPLOYER).startswith("current credentials, or assume role r")
    with pytest.raises(UsageError, match="names 999999999999"):
        Credentials(ACCOUNTS, {"999999999999": "x"}, "r")
    with pytest.raises(UsageError, match="ACCOUNT_ALIAS=PROFILE"):
        profile_map(("dev",))
