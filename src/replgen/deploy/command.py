"""One deploy command's request: the compiled folder, credentials, the zips, and which
engine (CloudFormation change sets or `terraform`) carries it out. cli.py only parses
arguments into a Request and prints what it answers."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replgen.backends import Options as RenderOptions
from replgen.deploy import UsageError, cloudformation, manifest, terraform
from replgen.deploy.credentials import Credentials
from replgen.deploy.ui import Terminal
from replgen.plan.model import Plan
from replgen.spec.models import Spec


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
        return _render(plan)
    return read_templates(folder(plan, out, "cloudformation"))


def _render(plan: Plan) -> dict[str, bytes]:
    from replgen.backends.cloudformation import BACKEND

    return BACKEND.render(plan, RenderOptions())


def stale(plan: Plan, files: Mapping[str, bytes]) -> list[str]:
    """Templates that differ from what the spec compiles to now (the folder is deployed as is)."""
    return sorted(n for n, data in _render(plan).items() if files.get(n) != data)


def profile_map(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        alias, sep, profile = pair.partition("=")
        if not sep or not alias or not profile:
            raise UsageError(f"--profile-map {pair!r}: write it as ACCOUNT_ALIAS=PROFILE")
        out[alias] = profile
    return out


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
            key = f"{prefix}{name}"
            s3.put_object(Bucket=boot["bucket"], Key=key, Body=built[name].read_bytes())

    return upload


@dataclass
class Request:
    """The arguments of `replgen bootstrap|deploy|diff|destroy`, resolved lazily."""

    spec_path: Path
    spec: Spec
    plan: Plan
    out: Path | None = None
    patterns: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    role_name: str | None = None
    endpoint_url: str | None = None
    yes: bool = False
    deploy_from: str | None = None
    continue_after: tuple[str, ...] = ()
    bootstrap_only: bool = False
    backend: str = "cloudformation"
    _files: dict[str, bytes] | None = field(default=None, repr=False)

    @property
    def files(self) -> dict[str, bytes]:
        if self._files is None:
            self._files = cloudformation_files(self.plan, self.out, self.bootstrap_only)
        return self._files

    def warnings(self) -> list[str]:
        if self.backend != "cloudformation":
            return []  # a CDKTF synthesis to compare with costs seconds and a GB: not here
        return [
            f"{name} differs from what {self.spec_path} compiles to now"
            for name in stale(self.plan, self.files)
        ]

    def credentials(self) -> Credentials:
        role = self.role_name or self.spec.state.deploy_role
        return Credentials(self.spec.accounts, profile_map(self.profiles), role, self.endpoint_url)

    def _options(self) -> cloudformation.Options:
        return cloudformation.Options(
            self.patterns, self.bootstrap_only, self.deploy_from, self.continue_after
        )

    def deployment(self) -> cloudformation.Deployment:
        return cloudformation.Deployment(
            manifest.load(self.files),
            self.files,
            self.credentials(),
            Terminal(self.yes),
            self._options(),
            artifacts,
        )

    # ------------------------------------------------------------ commands

    def dry_run(self) -> list[str]:
        if self.backend == "cdktf":
            where = folder(self.plan, self.out, "cdktf")
            return terraform.steps(terraform.load(where), self._terraform_options())
        return cloudformation.dry_run(
            manifest.load(self.files), self.credentials(), self._options()
        )

    def deploy(self) -> list[str]:
        if self.backend == "cdktf":
            return self._terraform()
        result = self.deployment().deploy()
        if result.paused_after:
            return [f"paused after {result.paused_after}"]
        if not result.deployed:
            return ["nothing to do: every stack is up to date"]
        return [f"deployed {len(result.deployed)}, unchanged {len(result.unchanged)}"]

    def diff(self) -> list[str]:
        return self.deployment().diff().changed

    def destroy(self, production: tuple[str, ...]) -> list[str]:
        deleted = self.deployment().destroy(production).deployed
        return [f"deleted {len(deleted)} stacks"] if deleted else []

    # ------------------------------------------------------------ CDKTF

    def _terraform_options(self) -> terraform.Options:
        profiles = {self.spec.accounts.get(a, a): p for a, p in profile_map(self.profiles).items()}
        return terraform.Options(self.patterns, self.yes, self.continue_after, profiles)

    def _terraform(self) -> list[str]:
        where = folder(self.plan, self.out, "cdktf")
        document = terraform.load(where)
        artifacts_of = document["artifacts"]
        upload = uploader(self.credentials(), artifacts_of["prefix"], tuple(artifacts_of["zips"]))
        options = self._terraform_options()
        paused = terraform.deploy(where, document, options, Terminal(self.yes), upload)
        return [f"paused after {paused}" if paused else "applied every stack"]
