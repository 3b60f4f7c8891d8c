"""Deploy tests: moto is the AWS (three accounts through STS), the templates are compiled
once per module and adapted by `moto_adapt.for_moto`, the one place that bends them."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_helpers import ROOT, compile_cfn
from moto_adapt import adapt_folder_bytes, moto_fixes


@pytest.fixture(scope="session")
def compiled_prod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_cfn(ROOT / "specs" / "prod.yaml", tmp_path_factory.mktemp("prod"))


@pytest.fixture()
def moto_out(compiled_prod: Path, tmp_path: Path) -> Path:
    """A copy of the prod output with every template adapted for moto."""
    out = tmp_path / "out"
    shutil.copytree(compiled_prod, out)
    folder = out / "cloudformation"
    files = {p.name: p.read_bytes() for p in folder.glob("*.json")}
    for name, content in adapt_folder_bytes(files).items():
        (folder / name).write_bytes(content)
    return out


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(), moto_fixes():
        yield
