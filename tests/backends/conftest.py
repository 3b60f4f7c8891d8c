"""Both backends compiled once per session: CDKTF synthesis loads the provider bindings
(~15 s, ~1 GB), so every test reads these outputs instead of synthesising its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outputs import Hostile, compile_session, hostile_outputs


@pytest.fixture(scope="session")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """spec name -> output root holding `cloudformation/` and `cdktf/`."""
    return compile_session(tmp_path_factory.mktemp("both"))


@pytest.fixture(scope="session")
def hostile() -> Hostile:
    """Both backends' output for a plan with `${...}` and `%{...}` in its text (one synth)."""
    return hostile_outputs()
