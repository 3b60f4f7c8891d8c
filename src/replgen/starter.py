"""`replgen init`: a commented starter spec that validates and compiles as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

from replgen.errors import UsageError

SCHEMA_ID = "https://replgen.dev/schema/replgen.schema.json"

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# A replgen topology: two environments in two accounts, peered, with schema and
# reference data promoted from dev to prod. `replgen validate {path}` checks it,
# `replgen compile {path}` writes templates_out/{name}/, `replgen graph {path}` draws it.
replgen: 1                      # spec format version
name: {name}                    # lowercase letters, digits, hyphens: in every physical name
suffix: dev01                   # the environmentSuffix, appended to every name
region: us-east-1               # default region of every environment

accounts:                       # alias -> 12-digit AWS account id, quoted
  dev: "111111111111"           # replace with your accounts
  prod: "222222222222"

defaults:                       # merged under every environment
  database:
    engine: aurora-postgresql   # aurora-mysql | aurora-postgresql
    engine_version: "15.10"     # quoted: unquoted, YAML reads 15.10 as the number 15.1
    instance_class: db.r6g.large
    instances: 1
    backup_retention_days: 7    # 1 to 35
  network:
    azs: 2                      # availability zones, 2 to 6

environments:
  dev:
    account: dev
    cidr: 10.1.0.0/16           # /16 to /24; no two sites may overlap
  prod:
    account: prod
    cidr: 10.2.0.0/16
    production: true            # its data never leaves it, and outlives its stacks
                                # (deletion_protection: false makes it destroyable)
    database: {{instances: 2}}    # overrides defaults.database

peering:                        # only the database port crosses a peering
  - [dev, prod]

sync:
  runs_in: dev                  # the site whose VPC hosts the sync functions
  schedule: rate(1 hour)        # EventBridge: rate(1 hour), rate(15 minutes), cron(0 3 * * ? *)
  timeout_seconds: 300
  schema:
    promote: [dev, prod]        # migration scripts are applied in this order
  reference_data:
    source: dev                 # never a production environment
    targets: [prod]
    tables:
      - currency                # a table with a primary key
      # - name: fee_schedule    # one without: name its key columns
      #   key: [product_code, tier]

notifications:
  emails: [dba-oncall@example.com]
"""


def default_name(path: Path) -> str:
    """The topology name from the file name (`specs/orders.yaml` -> orders), if it is one."""
    name = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-")
    return name if re.fullmatch(r"[a-z][a-z0-9-]{0,23}", name) else "myrepl"


def schema_reference(path: Path) -> str:
    """The committed schema relative to the new file when it is at hand, else its URL."""
    local = Path.cwd() / "schema" / "replgen.schema.json"
    if local.is_file():
        return os.path.relpath(local, path.resolve().parent)
    return SCHEMA_ID


def starter(path: Path, name: str | None = None) -> str:
    return TEMPLATE.format(
        schema=schema_reference(path), path=path, name=name or default_name(path)
    )


def write(path: Path, name: str | None = None) -> None:
    """Write the starter at `path`; UsageError if something is there already."""
    text = starter(path, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        message = f"{path} already exists: not overwritten (remove it or name another path)"
        raise UsageError(message) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
