"""What the deploy commands share before any AWS call: the compiled folder, credentials,
the zips. Kept out of cli.py so that the commands there stay a few lines each."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from replgen.backends import Options as RenderOptions
from replgen.deploy import UsageError
from replgen.deploy.credentials import Credentials
from replgen.plan.model import Plan


def folder(plan: Plan, out: Path | None, backend: str) -> Path:
    found = (out or Path("templates_out") / plan.name) / backend
    if not found.is_dir():
        raise UsageError(f"{found} does not exist: run `replgen compile SPEC --backend {backend}`")
    return found


def read_templates(where: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(where.glob("*.json"))}


def cloudformation_files(plan: Plan, out: Path | None, bootstrap_only: bool) -> dict[str, bytes]:
    """The compiled CloudFormation folder; for a bootstrap of a topology compiled only for
    CDKTF, the templates as the spec compiles to now (bootstrap is CloudFormation for both)."""
    where = (out or Path("templates_out") / plan.name) / "cloudformation"
    if bootstrap_only and not where.is_dir():
        from replgen.backends.cloudformation import BACKEND

        return BACKEND.render(plan, RenderOptions())
    return read_templates(folder(plan, out, "cloudformation"))


def stale(plan: Plan, files: Mapping[str, bytes]) -> list[str]:
    """Templates that differ from what the spec compiles to now (the folder is deployed as is)."""
    from replgen.backends.cloudformation import BACKEND

    fresh = BACKEND.render(plan, RenderOptions())
    return sorted(n for n, data in fresh.items() if files.get(n) != data)


def profile_map(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        alias, sep, profile = pair.partition("=")
        if not sep or not alias or not profile:
            raise UsageError(f"--profile-map {pair!r}: write it as ACCOUNT_ALIAS=PROFILE")
        out[alias] = profile
    return out


def credentials(
    accounts: Mapping[str, str],
    pairs: tuple[str, ...],
    role_name: str | None,
    endpoint_url: str | None,
    default_role: str,
) -> Credentials:
    return Credentials(accounts, profile_map(pairs), role_name or default_role, endpoint_url)


@functools.cache
def artifacts() -> dict[str, Path]:
    """The Lambda zips, built as `replgen package` builds them (into a temporary folder)."""
    from replgen import package

    where = Path(tempfile.mkdtemp(prefix="replgen-zips-"))
    atexit.register(shutil.rmtree, where, True)
    built = [package.build(name, where) for name in sorted(package.LAMBDAS)]
    return {a.filename: where / a.filename for a in built}


def uploader(creds: Credentials, prefix: str, zips: tuple[str, ...]) -> Any:
    """For CDKTF: put the zips in a bootstrap bucket named by `deploy.json`."""

    def upload(boot: dict[str, Any]) -> None:
        built = artifacts()
        s3 = creds.client("s3", boot["account"], boot["region"])
        for name in zips:
            s3.put_object(
                Bucket=boot["bucket"], Key=f"{prefix}{name}", Body=built[name].read_bytes()
            )

    return upload
