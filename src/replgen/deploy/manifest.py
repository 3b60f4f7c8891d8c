"""The CloudFormation manifest as the deploy commands read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from replgen.deploy import UsageError

BUCKET_OUTPUT = "ArtifactBucket"  # the bootstrap stack's output naming its bucket


@dataclass(frozen=True)
class Input:
    stack: str
    output: str


@dataclass(frozen=True)
class Stack:
    name: str
    template: str
    account: str
    region: str
    bootstrap: bool
    production: bool
    via: str  # "inline" or "s3"
    capabilities: tuple[str, ...]
    depends_on: tuple[str, ...]
    defaults: dict[str, Any]
    deployer: tuple[str, ...]  # parameters `replgen deploy` fills with the deploying account
    deployer_defaults: dict[str, Any]  # the spec's choice for them, where it makes one
    inputs: dict[str, Input]

    @property
    def place(self) -> tuple[str, str]:
        return (self.account, self.region)


@dataclass(frozen=True)
class Pause:
    after: str
    reason: str
    show: tuple[Input, ...]


@dataclass(frozen=True)
class Manifest:
    topology: str
    suffix: str
    stacks: tuple[Stack, ...]
    pauses: tuple[Pause, ...]
    artifact_prefix: str
    zips: tuple[str, ...]

    def stack(self, name: str) -> Stack:
        return next(s for s in self.stacks if s.name == name)

    def bootstrap_of(self, stack: Stack) -> Stack | None:
        """The bootstrap stack of `stack`'s account and region."""
        return next((s for s in self.stacks if s.bootstrap and s.place == stack.place), None)

    def needs_artifacts(self, stack: Stack) -> bool:
        return any(
            i.output == BUCKET_OUTPUT and self.stack(i.stack).bootstrap
            for i in stack.inputs.values()
        )


def _stack(entry: dict[str, Any]) -> Stack:
    params = entry.get("parameters", {})
    return Stack(
        name=entry["name"],
        template=entry["template"],
        account=entry["account"],
        region=entry["region"],
        bootstrap=bool(entry.get("bootstrap")),
        production=bool(entry.get("production")),
        via=entry.get("template_via", "inline"),
        capabilities=tuple(entry.get("capabilities", ())),
        depends_on=tuple(entry.get("depends_on", ())),
        defaults={
            k: v["Default"] for k, v in params.items() if "Default" in v and "source" not in v
        },
        deployer_defaults={
            k: v["Default"] for k, v in params.items() if "Default" in v and "source" in v
        },
        deployer=tuple(k for k, v in params.items() if v.get("source") == "deployer"),
        inputs={k: Input(v["stack"], v["output"]) for k, v in entry.get("inputs", {}).items()},
    )


def load(files: dict[str, bytes]) -> Manifest:
    try:
        document = json.loads(files["manifest.json"])
    except (KeyError, ValueError) as exc:
        raise UsageError(f"no readable manifest.json in the compiled output ({exc})") from None
    if "pauses" not in document:
        raise UsageError("manifest.json predates `replgen deploy`: run `replgen compile` first")
    artifacts = document.get("artifacts", {})
    return Manifest(
        topology=document["topology"],
        suffix=document["suffix"],
        stacks=tuple(_stack(e) for e in document["stacks"]),
        pauses=tuple(
            Pause(p["after"], p["reason"], tuple(Input(s["stack"], s["output"]) for s in p["show"]))
            for p in document["pauses"]
        ),
        artifact_prefix=artifacts.get("prefix", ""),
        zips=tuple(artifacts.get("zips", ())),
    )
