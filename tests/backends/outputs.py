"""The specs whose compiled outputs the backend tests read, and how they are compiled.

Every CDKTF synthesis of the test session happens here, once per spec, through the `both`
fixture (conftest): loading the provider bindings costs ~15 s and ~1 GB, and a synthesis
about a second more, so tests read these outputs and never synthesise on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner

from replgen.cli import main

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
