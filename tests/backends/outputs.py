"""The specs whose compiled outputs the backend tests read, and how they are compiled.

Every CDKTF synthesis of the test session happens here, once per spec, through the `both`
fixture (conftest): loading the provider bindings costs ~15 s and ~1 GB, and a synthesis
about a second more, so tests read these outputs and never synthesise on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from click.testing import CliRunner
from spectext import hostile, put_model, text_paths

from replgen import compiler
from replgen.backends import Options
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


def compile_session(root: Path) -> dict[str, Path]:
    """Every spec the backend tests read, compiled for both backends: name -> output root."""
    outputs = {spec.stem: compile_all(spec, root / spec.stem) for spec in SPECS}
    for name, (source, edit) in VARIANTS.items():
        spec = root / "specs" / f"{name}.yaml"
        spec.parent.mkdir(exist_ok=True)
        spec.write_text(edit(source.read_text()))
        outputs[name] = compile_all(spec, root / name)
    return outputs


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
