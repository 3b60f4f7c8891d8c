"""`replgen deploy --backend cdktf`: `terraform init` and `terraform apply` per stack, in the
order of `deploy.json`, in the stacks' own folders (where local state lives)."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replgen.deploy import DeployError, UsageError
from replgen.deploy.ui import Ui

Runner = Callable[[Sequence[str], Path, dict[str, str]], int]
Uploader = Callable[[dict[str, Any]], None]  # one bootstrap entry: puts the zips in its bucket


@dataclass(frozen=True)
class Options:
    patterns: tuple[str, ...] = ()
    yes: bool = False
    continue_after: tuple[str, ...] = ()
    profiles: dict[str, str] | None = None  # account id -> profile


def terraform() -> str:
    found = shutil.which("terraform")
    if found is None:
        raise UsageError(
            "replgen deploy --backend cdktf runs `terraform init` and `terraform apply`: "
            "install Terraform (1.10 or newer) and put it on PATH"
        )
    return found


def run(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> int:
    return subprocess.run(list(argv), cwd=cwd, env={**os.environ, **env}, check=False).returncode


def load(folder: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((folder / "deploy.json").read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{folder}: no readable deploy.json ({exc}): run `replgen compile` first"
        ) from None


def _selected(document: dict[str, Any], patterns: tuple[str, ...]) -> list[dict[str, Any]]:
    stacks = list(document["stacks"])
    if patterns:
        stacks = [s for s in stacks if any(fnmatch.fnmatch(s["name"], p) for p in patterns)]
        if not stacks:
            raise UsageError(f"--stacks {' '.join(patterns)} matches no stack")
    return stacks


def _env(stack: dict[str, Any], options: Options) -> dict[str, str]:
    env = {f"TF_VAR_{k}": str(v["value"]) for k, v in sorted(stack["variables"].items())}
    if options.profiles and stack["account"] in options.profiles:
        env["AWS_PROFILE"] = options.profiles[stack["account"]]
    env["TF_IN_AUTOMATION"] = "1"
    return env


def steps(document: dict[str, Any], options: Options) -> list[str]:
    """What a deploy would run, calling nothing."""
    lines = []
    for stack in _selected(document, options.patterns):
        env = " ".join(f"{k}={v}" for k, v in _env(stack, options).items())
        lines.append(f"{stack['name']}: account {stack['account']}, region {stack['region']}")
        lines.append(f"  cd {stack['directory']} && {env} terraform init && terraform apply")
        lines += [
            f"  PAUSE: {p['reason']}" for p in document["pauses"] if p["after"] == stack["name"]
        ]
    return lines


def deploy(
    folder: Path,
    document: dict[str, Any],
    options: Options,
    ui: Ui,
    upload: Uploader,
    runner: Runner = run,
) -> str | None:
    """Apply every selected stack; returns the stack a pause stopped after, if one did."""
    binary = terraform()
    boots = {b["slug"]: b for b in document["bootstrap"]}
    uploaded: set[str] = set()
    for stack in _selected(document, options.patterns):
        for variable in stack["variables"].values():
            slug = variable.get("bootstrap")
            if slug in boots and slug not in uploaded:
                uploaded.add(slug)
                upload(boots[slug])
        cwd = folder / stack["directory"]
        env = _env(stack, options)
        apply = [binary, "apply", "-input=false"] + (["-auto-approve"] if options.yes else [])
        for argv in ([binary, "init", "-input=false"], apply):
            ui.say(f"{stack['name']}: {' '.join(argv[1:])}")
            code = runner(argv, cwd, env)
            if code != 0:
                raise DeployError(f"{stack['name']}: terraform {argv[1]} failed (exit {code})")
        if _pause(document, stack["name"], options, ui):
            return str(stack["name"])
    return None


def _pause(document: dict[str, Any], name: str, options: Options, ui: Ui) -> bool:
    for pause in document["pauses"]:
        if pause["after"] != name or name in options.continue_after:
            continue
        ui.say(f"\nPAUSE after {name}: {pause['reason']}")
        for show in pause["show"]:
            ui.say(f"  terraform output {show['output']} (in stacks/{show['stack']})")
        if ui.resume("done? continue the deployment"):
            continue
        ui.say(f"when done: replgen deploy --backend cdktf ... --continue-after {name}")
        return True
    return False
