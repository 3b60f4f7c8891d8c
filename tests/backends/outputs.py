"""The specs whose compiled outputs the backend tests read, and how they are compiled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def compile_all(spec: Path, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(
        main, ["compile", str(spec), "--backend", "all", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out


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
