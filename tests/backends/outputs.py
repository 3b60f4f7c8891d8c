"""The specs whose compiled outputs the backend tests read, and how they are compiled.

Every CDKTF synthesis of the test session happens here, once per spec, through the `both`
fixture (conftest): loading the provider bindings costs ~15 s and ~1 GB, and a synthesis
about a second more, so tests read these outputs and never synthesise on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from spectext import hostile, put_model, text_paths

from replgen import compiler
from replgen.backends import Backend, Options
from replgen.backends.provenance import Provenance, Rendered
from replgen.cli import main
from replgen.plan.build import build
from replgen.plan.model import Plan
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "specs").glob("*.yaml"))
VALID = ROOT / "tests" / "specs" / "valid"
SPECS = [*EXAMPLES, VALID / "four-envs.yaml", VALID / "dr-variant.yaml"]
UAT_CIDR = "10.44.0.0/20"


def with_uat(text: str) -> str:
    """four-envs plus `uat` (same account as dev/qa/staging, peered with staging)."""
    text = text.replace(
        "  prod:    {account: prod,",
        f"  uat:     {{account: nonprod, cidr: {UAT_CIDR}}}\n  prod:    {{account: prod,",
    )
    grown = text.replace("  - [qa, prod]\n", "  - [qa, prod]\n  - [staging, uat]\n")
    assert "uat:" in grown and "[staging, uat]" in grown
    return grown


def with_s3_state(text: str) -> str:
    document = yaml.safe_load(text)
    document["state"] = {"bucket": "acme-terraform-state", "region": "us-east-1"}
    return yaml.safe_dump(document)


# Specs derived from another one for a test: name -> (source spec, how it is edited).
VARIANTS: dict[str, tuple[Path, Callable[[str], str]]] = {
    "five-envs": (VALID / "four-envs.yaml", with_uat),
    "prod-s3-state": (ROOT / "specs" / "prod.yaml", with_s3_state),
}


def compile_all(spec: Path, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(
        main, ["compile", str(spec), "--backend", "all", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out


@dataclass(frozen=True)
class Built:
    """What a compile built besides its files: the plan, and each backend's record of the
    component every resource was rendered for."""

    plan: Plan
    provenance: dict[str, Provenance]  # backend name -> file -> address -> origin


@dataclass(frozen=True)
class Session:
    roots: dict[str, Path]  # spec name -> output root holding `cloudformation/`, `cdktf/`
    built: dict[str, Built]  # spec name -> its plan and provenance


@contextmanager
def _capturing(into: dict[str, Any]) -> Iterator[None]:
    """The CLI's compile, in process, with each backend's result kept as it returns it
    (the files go on to the output folder as usual)."""
    render = compiler.render

    def keep(plan: Plan, backend: Backend, options: Options) -> dict[str, bytes]:
        files = render(plan, backend, options)
        assert isinstance(files, Rendered), f"{backend.name} returns no provenance"
        into["plan"], into[backend.name] = plan, files.provenance
        return files

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiler, "render", keep)
        yield


def _compile(spec: Path, out: Path, built: dict[str, Built]) -> Path:
    captured: dict[str, Any] = {}
    with _capturing(captured):
        compile_all(spec, out)
    plan = captured.pop("plan")
    built[out.name] = Built(plan, captured)
    return out


def compile_session(root: Path) -> Session:
    """Every spec the backend tests read, compiled for both backends."""
    built: dict[str, Built] = {}
    outputs = {spec.stem: _compile(spec, root / spec.stem, built) for spec in SPECS}
    for name, (source, edit) in VARIANTS.items():
        spec = root / "specs" / f"{name}.yaml"
        spec.parent.mkdir(exist_ok=True)
        spec.write_text(edit(source.read_text()))
        outputs[name] = _compile(spec, root / name, built)
    return Session(outputs, built)


# ---------------------------------------------------------------- text from a spec is data

EVERYTHING = VALID / "everything.yaml"


@dataclass(frozen=True)
class Hostile:
    fields: dict[str, str]  # marker (`pwnN`) -> `Model.field` of the text carrying it
    files: dict[str, dict[str, bytes]]  # backend -> path -> content


def hostile_plan() -> tuple[Plan, dict[str, str]]:
    """The plan of everything.yaml with `${pwnN}%{pwnN}` in every text field the plan can
    still be built with, the spec's own validation skipped (it refuses them all: see
    tests/spec/test_spec_text_is_data.py): what the backends get if a check ever lets one by."""
    spec = load(EVERYTHING).spec
    code = compiler.artifacts()
    cloudformation = compiler.backends("cloudformation")["cloudformation"]
    kept: dict[str, str] = {}
    for i, (model, field, path) in enumerate(text_paths(spec)):
        trial = put_model(spec, path, hostile(spec, path, f"pwn{i}"))
        try:
            # Such text in a name or a reference stops the plan; in a tag, the tag check.
            compiler.render(build(trial, code), cloudformation, Options())
        except Exception:
            continue
        spec = trial
        kept[f"pwn{i}"] = f"{model}.{field}"
    return build(spec, code), kept


def hostile_outputs() -> Hostile:
    """Both backends' files for the hostile plan: the session's one extra CDKTF synthesis."""
    plan, fields = hostile_plan()
    found = compiler.backends("all")
    return Hostile(fields, {n: compiler.render(plan, b, Options()) for n, b in found.items()})
