"""Both backends compiled once per session: CDKTF synthesis loads the provider bindings
(~15 s, ~1 GB), so every test reads these outputs instead of synthesising its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outputs import SPECS, Hostile, compile_all, hostile_outputs


@pytest.fixture(scope="session")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """spec stem -> output root holding `cloudformation/` and `cdktf/`."""
    root = tmp_path_factory.mktemp("both")
    return {spec.stem: compile_all(spec, root / spec.stem) for spec in SPECS}


@pytest.fixture(scope="session")
def hostile() -> Hostile:
    """Both backends' output for a plan with `${...}` and `%{...}` in its text (one synth)."""
    return hostile_outputs()
