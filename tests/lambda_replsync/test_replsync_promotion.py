"""Promotion: production runs only what the environment before it ran (its ledger says so),
and a run reads one fixed set of object versions (moto S3, versioned bucket), both engines."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from replsync import app
from replsync.config import load_config
from replsync.errors import NotPromoted
from replsync.runtime import Runtime
from replsync_stack import BUCKET, REGION, Stack
from test_replsync_migrate import has_table, history

Upload = Callable[[str, str], None]

V1 = "CREATE TABLE account (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL);\n"
V2 = "INSERT INTO account VALUES (1, 'one');\n"
V2_EDITED = "INSERT INTO account VALUES (1, 'edited');\n"


def test_prod_refuses_scripts_staging_has_not_run(stack: Stack, upload: Upload) -> None:
    upload("V1__accounts.sql", V1)
    stack.invoke(action="migrate", target="staging")
    upload("V2__seed.sql", V2)

    refused = stack.run(action="migrate", target="prod")

    assert (refused["status"], refused["error"]) == ("error", "NotPromoted")
    assert refused["unproven"] == ["2"]  # V1 ran on staging; V2 did not
    assert refused["previous"] == "staging"
    assert not has_table(stack, "prod", "account")  # nothing ran, not even V1


def test_prod_runs_what_staging_ran_with_the_same_bytes(stack: Stack, upload: Upload) -> None:
    upload("V1__accounts.sql", V1)
    upload("V2__seed.sql", V2)
    stack.invoke(action="migrate", target="staging")

    done = stack.invoke(action="migrate", target="prod")

    assert done["status"] == "ok" and [a["version"] for a in done["applied"]] == ["1", "2"]
    assert [r[2] for r in history(stack, "prod")] == [r[2] for r in history(stack, "staging")]


def test_prod_refuses_a_script_whose_bytes_differ_from_staging(
    stack: Stack, upload: Upload
) -> None:
    upload("V1__accounts.sql", V1)
    upload("V2__seed.sql", V2)
    stack.invoke(action="migrate", target="staging")
    upload("V2__seed.sql", V2_EDITED)  # same version, other bytes: staging never ran these

    refused = stack.run(action="migrate", target="prod")

    assert refused["error"] == "NotPromoted" and refused["unproven"] == ["2"]
    assert not has_table(stack, "prod", "account")
    assert history(stack, "prod") == []


def test_a_failed_script_on_staging_proves_nothing(stack: Stack, upload: Upload) -> None:
    upload("V1__broken.sql", "INSERT INTO nowhere VALUES (1);\n")
    assert stack.run(action="migrate", target="staging")["status"] == "error"

    with pytest.raises(NotPromoted):  # raised: the promotion run stops and notifies
        stack.invoke(action="migrate", target="prod")
    refused = stack.run(action="migrate", target="prod")

    assert refused["error"] == "NotPromoted" and refused["unproven"] == ["1"]


def test_a_run_reads_the_versions_its_first_step_listed(stack: Stack, upload: Upload) -> None:
    upload("V1__accounts.sql", V1)
    upload("V2__seed.sql", V2)
    first = stack.invoke(action="migrate", target="dev")
    upload("V2__seed.sql", V2_EDITED)  # overwritten while the run is between steps
    upload("V3__late.sql", "CREATE TABLE late (id INT);\n")

    second = stack.invoke(action="migrate", target="staging", versions=first["versions"])
    third = stack.invoke(action="migrate", target="prod", versions=second["versions"])

    assert sorted(first["versions"]) == ["migrations/V1__accounts.sql", "migrations/V2__seed.sql"]
    assert second["versions"] == first["versions"] == third["versions"]
    assert [a["version"] for a in third["applied"]] == ["1", "2"]
    expected = hashlib.sha256(V2.encode()).hexdigest()
    for env in ("dev", "staging", "prod"):
        assert history(stack, env)[-1][2] == expected
        assert stack.query(env, "SELECT name FROM account") == [("one",)]
        assert not has_table(stack, env, "late")


class OverwriteAfterListing:
    """An S3 client that overwrites a script right after the bucket is listed, inside one
    invocation: what the run then reads must still be the listed version."""

    def __init__(self, key: str, body: str) -> None:
        self.client = boto3.client("s3", region_name=REGION)
        self.key, self.body = key, body

    def get_paginator(self, name: str) -> Any:
        assert name == "list_object_versions"  # the one listing of the run
        paginator = self.client.get_paginator(name)
        outer = self

        class Paginate:
            def paginate(self, **kwargs: Any) -> Any:
                pages = list(paginator.paginate(**kwargs))
                outer.client.put_object(Bucket=BUCKET, Key=outer.key, Body=outer.body.encode())
                return pages

        return Paginate()

    def get_object(self, **kwargs: Any) -> Any:
        assert "VersionId" in kwargs
        return self.client.get_object(**kwargs)


def test_an_object_overwritten_mid_run_is_not_read(stack: Stack, upload: Upload) -> None:
    upload("V1__accounts.sql", V1)
    upload("V2__seed.sql", V2)
    runtime = Runtime.from_config(load_config())
    s3 = OverwriteAfterListing("migrations/V2__seed.sql", V2_EDITED)
    runtime.s3 = lambda: s3

    done = app.execute({"action": "migrate", "target": "staging"}, runtime)

    assert [a["version"] for a in done["applied"]] == ["1", "2"]
    assert stack.query("staging", "SELECT name FROM account") == [("one",)]
    latest = s3.client.get_object(Bucket=BUCKET, Key="migrations/V2__seed.sql")
    assert latest["Body"].read() == V2_EDITED.encode()  # the overwrite did happen


def test_prod_first_in_the_order_has_nothing_to_prove_it(stack: Stack, upload: Upload) -> None:
    upload("V1__accounts.sql", V1)
    stack.set_config(promote=["prod", "staging"])

    refused = stack.run(action="migrate", target="prod")

    assert refused["error"] == "NotPromoted" and "nothing has proven" in refused["message"]
    assert not has_table(stack, "prod", "account")


def test_versions_outside_the_prefix_are_refused(stack: Stack, upload: Upload) -> None:
    refused = stack.invoke(action="migrate", target="dev", versions={"secrets/x.sql": "1"})

    assert refused["status"] == "refused" and "outside" in refused["reason"]


def test_a_deleted_script_is_not_in_the_set(stack: Stack, upload: Upload) -> None:
    upload("V1__accounts.sql", V1)
    upload("V2__seed.sql", V2)
    boto3.client("s3", region_name=REGION).delete_object(
        Bucket=BUCKET, Key="migrations/V2__seed.sql"
    )

    done = stack.invoke(action="migrate", target="dev")

    assert list(done["versions"]) == ["migrations/V1__accounts.sql"]
    assert [a["version"] for a in done["applied"]] == ["1"]
