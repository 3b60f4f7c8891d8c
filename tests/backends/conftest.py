"""Both backends compiled once per session: CDKTF synthesis loads the provider bindings
(~15 s, ~1 GB), so every test reads these outputs instead of synthesising its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outputs import Built, Hostile, Session, compile_session, hostile_outputs


@pytest.fixture(scope="session")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """Every spec compiled once for both backends: the files, plans and provenance."""
    return compile_session(tmp_path_factory.mktemp("both"))


@pytest.fixture(scope="session")
def both(session: Session) -> dict[str, Path]:
    """spec name -> output root holding `cloudformation/` and `cdktf/`."""
    return session.roots


@pytest.fixture(scope="session")
def built(session: Session) -> dict[str, Built]:
    """spec name -> its plan, and where each backend's resources come from."""
    return session.built


@pytest.fixture(scope="session")
def hostile() -> Hostile:
    """Both backends' output for a plan with `${...}` and `%{...}` in its text (one synth)."""
    return hostile_outputs()
