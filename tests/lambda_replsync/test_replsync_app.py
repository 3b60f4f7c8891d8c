"""Event validation, refusals, configuration and credentials."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from replsync import app
from replsync.config import Environment, load_config, parse_config
from replsync.connect import read_secret
from replsync.errors import ConfigError, InvalidEvent
from replsync_helpers import CURRENCY_COLUMNS, CURRENCY_DDL, currency_row, insert_rows
from replsync_stack import REGION, Stack

UNREACHABLE = {
    "host": "127.0.0.1",
    "port": 1,
    "secret_arn": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:none",
}
CONFIG = {
    "engine": "postgres",
    "environments": {
        "dev": {**UNREACHABLE, "dbname": "dev"},
        "staging": {**UNREACHABLE, "dbname": "staging"},
        "prod": {**UNREACHABLE, "dbname": "prod", "production": True},
        "hotfix": {**UNREACHABLE, "dbname": "hotfix", "production": True},
        "alias": {**UNREACHABLE, "dbname": "staging"},
    },
    "promote": ["dev", "staging", "prod", "alias"],
    "reference_data": {
        "source": "dev",
        "targets": ["staging", "prod", "alias"],
        "tables": [{"name": "currency", "key": None, "exclude_columns": []}],
    },
    "migrations": {"bucket": "b", "prefix": "m/"},
    "metrics_namespace": "ns",
}

REFUSALS = {
    "production source": {"source": "prod", "target": "staging"},
    "production source outside promote": {"source": "hotfix", "target": "prod"},
    "table not configured": {"source": "dev", "target": "staging", "tables": ["users"]},
    "target before source": {"source": "staging", "target": "dev"},
    "target equals source": {"source": "dev", "target": "dev"},
    "unknown source": {"source": "qa", "target": "staging"},
    "unknown target": {"source": "dev", "target": "qa"},
    "missing target": {"source": "dev"},
    "source not the reference source": {"source": "staging", "target": "prod"},
    "same database under two names": {"source": "staging", "target": "alias"},
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A config whose databases cannot be reached: a refusal must not even try."""
    monkeypatch.setenv("REPLSYNC_CONFIG", json.dumps(CONFIG))


@pytest.mark.parametrize("event", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals(offline: None, event: dict[str, Any]) -> None:
    response = app.handler({"action": "sync_reference_data", **event}, None)
    assert response["status"] == "refused"
    assert response["reason"]


def test_target_not_a_reference_target(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    config = json.loads(json.dumps(CONFIG))
    config["reference_data"]["targets"] = ["prod"]
    monkeypatch.setenv("REPLSYNC_CONFIG", json.dumps(config))
    response = app.handler(
        {"action": "sync_reference_data", "source": "dev", "target": "staging"}, None
    )
    assert response["status"] == "refused" and "not a reference-data target" in response["reason"]


def test_refusal_writes_nothing(stack: Stack) -> None:
    stack.everywhere(CURRENCY_DDL)
    insert_rows(stack, "staging", "currency", CURRENCY_COLUMNS, [currency_row(1)])
    stack.set_tables([{"name": "currency"}])
    before = stack.query("dev", "SELECT * FROM currency")

    response = stack.invoke(action="sync_reference_data", source="staging", target="dev")

    assert response["status"] == "refused"
    assert stack.query("dev", "SELECT * FROM currency") == before == []


@pytest.mark.parametrize(
    "event",
    [
        [],
        {"action": "explode"},
        {"action": "status", "dry_run": "yes"},
        {"action": "sync_reference_data", "source": 1, "target": "x"},
        {"action": "sync_reference_data", "tables": "currency"},
        {"action": "migrate", "target": "dev", "versions": ["migrations/V1__a.sql"]},
        {"action": "migrate", "target": "dev", "versions": {"migrations/V1__a.sql": 1}},
    ],
)
def test_invalid_events(offline: None, event: Any) -> None:
    with pytest.raises(InvalidEvent):
        app.handler(event, None)
    assert app.run(event)["error"] == "InvalidEvent"


def test_eventbridge_envelope_is_unwrapped(offline: None) -> None:
    event = {
        "version": "0",
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "detail": {"action": "sync_reference_data", "source": "prod", "target": "dev"},
    }
    response = app.handler(event, None)
    assert response["status"] == "refused" and "production" in response["reason"]


def test_config_parsing() -> None:
    config = parse_config(
        json.dumps(
            {
                **CONFIG,
                "reference_data": {
                    "source": "dev",
                    "targets": ["prod"],
                    "tables": [
                        "plain",
                        {"name": "fx", "key": ["a", "b"], "exclude_columns": ["c"]},
                        {"name": "one", "key": "id"},
                    ],
                },
            }
        )
    )
    assert config.environments["prod"].production and not config.environments["dev"].production
    assert config.environments["dev"].role_arn is None
    tables = config.reference_data.tables
    assert [(t.name, t.key, t.exclude_columns) for t in tables] == [
        ("plain", None, ()),
        ("fx", ("a", "b"), ("c",)),
        ("one", ("id",), ()),
    ]
    assert config.sync.chunk_rows > config.sync.leaf_rows
    assert config.environments["dev"].user == "replgen_sync"  # the default user's name


def test_routes_chain_reference_data() -> None:
    ref = dict(CONFIG["reference_data"], routes={"prod": "staging", "alias": "prod"})
    config = parse_config(json.dumps({**CONFIG, "reference_data": ref}))
    assert [config.reference_data.source_of(t) for t in ("staging", "prod", "alias", "dev")] == [
        "dev",
        "staging",
        "prod",
        None,
    ]
    assert config.reference_data.sources() == {"dev", "staging", "prod"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        json.dumps({"engine": "oracle"}),
        json.dumps({**CONFIG, "promote": ["nowhere"]}),
        json.dumps(
            {**CONFIG, "reference_data": {**CONFIG["reference_data"], "routes": {"prod": "qa"}}}
        ),
    ],
)
def test_bad_config(text: str) -> None:
    with pytest.raises(ConfigError):
        load_config({"REPLSYNC_CONFIG": text} if text else {})


def test_secret_read_through_assumed_role(aws: None) -> None:
    """With role_arn, the secret is read with the role's credentials (another account)."""
    other = "210987654321"
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{other}:role/replsync", RoleSessionName="setup")[
        "Credentials"
    ]
    in_other = boto3.client(
        "secretsmanager",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    arn = in_other.create_secret(
        Name="db", SecretString=json.dumps({"username": "u", "password": "p", "host": "ignored"})
    )["ARN"]
    env = Environment("prod", "h", 1, "d", arn, role_arn=f"arn:aws:iam::{other}:role/replsync")

    creds_read = read_secret(env)

    assert (creds_read.username, creds_read.password) == ("u", "p")
    with pytest.raises(Exception, match=r"ResourceNotFound|can't find"):
        read_secret(Environment("prod", "h", 1, "d", arn))  # own account: no such secret


def test_user_and_region_given_once_apply_to_every_environment() -> None:
    envs = dict(CONFIG["environments"], prod={**UNREACHABLE, "dbname": "p", "region": "eu-west-1"})
    config = parse_config(
        json.dumps({**CONFIG, "environments": envs, "user": "sync", "region": "us-east-2"})
    )
    assert {(e.user, e.region) for n, e in config.environments.items() if n != "prod"} == {
        ("sync", "us-east-2")
    }
    assert (config.environments["prod"].user, config.environments["prod"].region) == (
        "sync",
        "eu-west-1",
    )
