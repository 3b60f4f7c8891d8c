"""`replgen deploy`, `diff` and `destroy` for CloudFormation: the manifest's stacks, in its
order, each through a change set, with parameters from earlier stacks' outputs."""

from __future__ import annotations

import fnmatch
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.exceptions

from replgen.deploy import DeployError, UsageError
from replgen.deploy.changeset import Change, Prepared
from replgen.deploy.changeset import Stack as CfnStack
from replgen.deploy.credentials import Credentials
from replgen.deploy.manifest import BUCKET_OUTPUT, Manifest, Stack
from replgen.deploy.ui import Ui

TEMPLATE_PREFIX = "templates/"  # under the artifact prefix, in the bootstrap bucket


@dataclass(frozen=True)
class Options:
    patterns: tuple[str, ...] = ()  # fnmatch over stack names; empty: every stack
    bootstrap_only: bool = False
    deploy_from: str | None = None
    continue_after: tuple[str, ...] = ()  # pauses already acted on
    poll_seconds: float = 5.0


@dataclass
class Result:
    deployed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # diff: stacks a deploy would change
    paused_after: str | None = None


def select(manifest: Manifest, options: Options) -> list[Stack]:
    stacks = [s for s in manifest.stacks if s.bootstrap or not options.bootstrap_only]
    if options.patterns:
        stacks = [s for s in stacks if any(fnmatch.fnmatch(s.name, p) for p in options.patterns)]
        if not stacks:
            names = ", ".join(s.name for s in manifest.stacks)
            raise UsageError(f"--stacks {' '.join(options.patterns)} matches none of: {names}")
    return stacks


class Deployment:
    """One walk over the manifest's stacks with one set of credentials."""

    def __init__(
        self,
        manifest: Manifest,
        files: dict[str, bytes],
        credentials: Credentials,
        ui: Ui,
        options: Options,
        artifacts: Callable[[], dict[str, Path]] | None = None,
    ) -> None:
        self.manifest = manifest
        self.files = files
        self.creds = credentials
        self.ui = ui
        self.options = options
        self._artifacts = artifacts  # builds the zips on first need: filename -> path
        self._built: dict[str, Path] | None = None
        self._outputs: dict[str, dict[str, str]] = {}
        self._uploaded: set[tuple[str, str]] = set()

    # ------------------------------------------------------------ reading

    def cfn(self, stack: Stack) -> CfnStack:
        client = self.creds.client("cloudformation", stack.account, stack.region)
        return CfnStack(client, stack.name, self.options.poll_seconds)

    def outputs(self, name: str) -> dict[str, str]:
        if name not in self._outputs:
            self._outputs[name] = self.cfn(self.manifest.stack(name)).outputs()
        return self._outputs[name]

    def parameters(self, stack: Stack, missing_ok: bool = False) -> dict[str, str]:
        """Every parameter the stack takes without its default: inputs and the deployer."""
        values: dict[str, str] = {}
        for param, source in sorted(stack.inputs.items()):
            try:
                found = self.outputs(source.stack)
            except DeployError:
                if missing_ok:
                    continue
                raise
            if source.output not in found:
                raise DeployError(
                    f"{stack.name}: {source.stack} has no output {source.output} for {param}"
                )
            values[param] = found[source.output]
        for param in stack.deployer:
            chosen = self.options.deploy_from or stack.deployer_defaults.get(param)
            values[param] = str(chosen or self.creds.caller_account())
        return values

    # ------------------------------------------------------------ uploads

    def _bucket(self, stack: Stack) -> str:
        boot = self.manifest.bootstrap_of(stack)
        if boot is None:
            raise DeployError(
                f"{stack.name}: no bootstrap stack for {stack.account} {stack.region}"
            )
        return self.outputs(boot.name)[BUCKET_OUTPUT]

    def template_argument(self, stack: Stack) -> dict[str, str]:
        body = self.files[stack.template]
        if stack.via != "s3":
            return {"TemplateBody": body.decode()}
        bucket = self._bucket(stack)
        digest = hashlib.sha256(body).hexdigest()[:12]
        key = f"{self.manifest.artifact_prefix}{TEMPLATE_PREFIX}{stack.name}-{digest}.json"
        s3 = self.creds.client("s3", stack.account, stack.region)
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        return {"TemplateURL": f"https://{bucket}.s3.{stack.region}.amazonaws.com/{key}"}

    def upload_artifacts(self, stack: Stack) -> None:
        """The Lambda zips into the bootstrap bucket of the stack's account and region, once."""
        if not self.manifest.needs_artifacts(stack) or stack.place in self._uploaded:
            return
        self._uploaded.add(stack.place)
        bucket = self._bucket(stack)
        s3 = self.creds.client("s3", stack.account, stack.region)
        for filename in self.manifest.zips:
            key = f"{self.manifest.artifact_prefix}{filename}"
            if _exists(s3, bucket, key):
                continue  # named by content hash: present means identical
            path = self._zips().get(filename)
            if path is None:
                raise DeployError(
                    f"the templates name {filename}, which this replgen does not build: "
                    "run `replgen compile` again"
                )
            self.ui.say(f"{stack.account} {stack.region}: upload {filename} to s3://{bucket}/{key}")
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    def _zips(self) -> dict[str, Path]:
        if self._built is None:
            self._built = self._artifacts() if self._artifacts else {}
        return self._built

    # ------------------------------------------------------------ deploy

    def deploy(self) -> Result:
        result = Result()
        for stack in select(self.manifest, self.options):
            self.upload_artifacts(stack)
            if self._deploy_one(stack):
                result.deployed.append(stack.name)
            else:
                result.unchanged.append(stack.name)
            self._outputs.pop(stack.name, None)
            if self._pause(stack):
                result.paused_after = stack.name
                return result
        return result

    def _deploy_one(self, stack: Stack) -> bool:
        cfn = self.cfn(stack)
        params = self.parameters(stack)
        if cfn.unchanged(self.files[stack.template], params):
            self.ui.say(f"{stack.name}: unchanged")
            return False
        with self.ui.waiting(f"{stack.name}: creating a change set"):
            prepared = cfn.prepare(
                self.template_argument(stack), params, stack.capabilities, _change_set_name()
            )
        if prepared.change_set is None:
            self.ui.say(f"{stack.name}: unchanged")
            return False
        self.ui.changes(f"{stack.name} ({stack.account} {stack.region})", prepared.changes)
        if not self.ui.confirm(f"execute the change set on {stack.name}?"):
            cfn.discard(prepared)
            raise DeployError(f"stopped before {stack.name}: nothing executed there")
        with self.ui.waiting(f"{stack.name}: {'creating' if prepared.create else 'updating'}"):
            cfn.execute(prepared, lambda e: self.ui.event(stack.name, e))
        self.ui.say(f"{stack.name}: done")
        return True

    def _pause(self, stack: Stack) -> bool:
        """Whether the run stops here for a human."""
        for pause in self.manifest.pauses:
            if pause.after != stack.name or stack.name in self.options.continue_after:
                continue
            self.ui.say(f"\nPAUSE after {stack.name}: {pause.reason}")
            for value in pause.show:
                self.ui.say(f"  {value.output} = {self.outputs(value.stack).get(value.output)}")
            if self.ui.resume("done? continue the deployment"):
                continue
            self.ui.say(f"when done: replgen deploy ... --continue-after {stack.name}")
            return True
        return False

    # ------------------------------------------------------------ diff

    def diff(self) -> Result:
        result = Result()
        for stack in select(self.manifest, self.options):
            cfn = self.cfn(stack)
            if cfn.describe() is None:
                self.ui.say(f"{stack.name}: new stack ({stack.account} {stack.region})")
                result.changed.append(stack.name)
                continue
            params = self.parameters(stack, missing_ok=True)
            if cfn.unchanged(self.files[stack.template], params):
                result.unchanged.append(stack.name)
                continue
            prepared = cfn.prepare(
                self.template_argument(stack), params, stack.capabilities, _change_set_name()
            )
            cfn.discard(prepared)
            if prepared.change_set is None:
                result.unchanged.append(stack.name)
                continue
            self.ui.changes(f"{stack.name} ({stack.account} {stack.region})", prepared.changes)
            result.changed.append(stack.name)
        return result

    # ------------------------------------------------------------ destroy

    def destroy(self, production: tuple[str, ...]) -> Result:
        stacks = [s for s in reversed(select(self.manifest, self.options)) if not s.bootstrap]
        present = [s for s in stacks if self.cfn(s).describe() is not None]
        refused = [s.name for s in present if s.production and s.name not in production]
        if refused:
            raise UsageError(
                "refusing to destroy production stacks not named with --production: "
                + ", ".join(refused)
            )
        if not present:
            self.ui.say("nothing to destroy: none of these stacks is deployed")
            return Result()
        for s in present:
            self.ui.say(f"  delete {s.name} ({s.account} {s.region})")
        if not self.ui.confirm(f"delete these {len(present)} stacks, in this order?"):
            raise DeployError("stopped: nothing deleted")
        result = Result()
        for s in present:
            with self.ui.waiting(f"{s.name}: deleting"):
                self.cfn(s).delete(lambda e, s=s: self.ui.event(s.name, e))  # type: ignore[misc]
            result.deployed.append(s.name)
        return result


def dry_run(manifest: Manifest, credentials: Credentials, options: Options) -> list[str]:
    """The steps a deploy would take, from the manifest alone: nothing is called."""
    lines: list[str] = []
    places: set[tuple[str, str]] = set()
    for stack in select(manifest, options):
        lines.append(
            f"{stack.name}: account {stack.account} ({credentials.how(stack.account)}), "
            f"region {stack.region}"
        )
        if manifest.needs_artifacts(stack) and stack.place not in places:
            places.add(stack.place)
            boot = manifest.bootstrap_of(stack)
            for zip_name in manifest.zips:
                lines.append(
                    f"  upload {zip_name} to the bucket {boot.name if boot else '?'} "
                    f"outputs as {BUCKET_OUTPUT}, under {manifest.artifact_prefix}"
                )
        how = (
            "uploaded to the bootstrap bucket, passed as TemplateURL"
            if stack.via == "s3"
            else "inline (TemplateBody)"
        )
        lines.append(f"  template {stack.template}: {how}")
        lines.append(f"  capabilities: {', '.join(stack.capabilities) or 'none'}")
        for param, source in sorted(stack.inputs.items()):
            lines.append(f"  {param} <- {source.stack} output {source.output}")
        for param in stack.deployer:
            who = (
                options.deploy_from
                or stack.deployer_defaults.get(param)
                or "the account of the current credentials"
            )
            lines.append(f"  {param} <- {who}")
        for param, default in sorted(stack.defaults.items()):
            lines.append(f"  {param} = {default} (default)")
        for pause in manifest.pauses:
            if pause.after == stack.name:
                lines.append(f"  PAUSE: {pause.reason}")
    return lines


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError:
        return False
    return True


def _change_set_name() -> str:
    return f"replgen-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"


__all__ = ["Change", "Deployment", "Options", "Prepared", "Result", "dry_run", "select"]
