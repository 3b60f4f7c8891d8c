"""checkov waivers: the plan states the fact in its own words, one table names the checks.

Every waiver of the plan's vocabulary is mapped for both backends (possibly to no check),
every mapped id is a check the installed checkov has for that backend's framework, and no
module of the plan or the backends but the table names a check id.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replgen.backends.checkov import CHECKS, Backend
from replgen.plan.waivers import Waiver

ROOT = Path(__file__).parents[2]
SRC = ROOT / "src" / "replgen"
TABLE = SRC / "backends" / "checkov.py"
CHECK_ID = re.compile(r"\bCKV2?_[A-Z0-9]+_\d+\b")
# Where checkov keeps each framework's checks: resource, data and graph checks, in Python,
# YAML and JSON (a graph check has no Python class, so its id is only in its definition).
FRAMEWORK: dict[Backend, str] = {"cloudformation": "cloudformation", "terraform": "terraform"}
# The CloudFormation output keeps skips for facts whose check this checkov runs only on
# Terraform: they name the same check, so a checkov that adds its CloudFormation twin
# finds the waiver already written (and the two outputs say the same thing).
TERRAFORM_ONLY_ON_CLOUDFORMATION = {
    "CKV_AWS_338",  # log retention
    "CKV_AWS_272",  # code signing
    "CKV_AWS_144",  # cross-region replication
    "CKV_AWS_145",  # KMS by default
    "CKV_AWS_274",  # AdministratorAccess
    "CKV_AWS_139",  # cluster deletion protection
    "CKV_AWS_150",  # load balancer deletion protection
}


def _checkov_ids(framework: str) -> set[str]:
    packages = sorted((ROOT / ".tools" / "checkov").glob("lib/python*/site-packages/checkov"))
    assert packages, "checkov is installed by `make test` into .tools/checkov"
    checks = packages[-1] / framework / "checks"
    return {
        found
        for path in checks.rglob("*")
        if path.suffix in {".py", ".yaml", ".yml", ".json"}
        for found in CHECK_ID.findall(path.read_text(errors="replace"))
    }


def test_every_waiver_is_mapped_for_both_backends() -> None:
    assert set(CHECKS) == set(Waiver)
    assert all(CHECKS[w].of("cloudformation") or CHECKS[w].of("terraform") for w in Waiver)


@pytest.mark.parametrize("backend", ["cloudformation", "terraform"])
def test_every_mapped_id_is_a_check_of_the_backends_framework(backend: Backend) -> None:
    known = _checkov_ids(FRAMEWORK[backend])
    assert len(known) > 100, "checkov's checks were not found"
    mapped = {check for checks in CHECKS.values() for check in checks.of(backend)}
    if backend == "cloudformation":
        known |= TERRAFORM_ONLY_ON_CLOUDFORMATION & _checkov_ids("terraform")
    assert mapped - known == set()


def test_no_module_but_the_table_names_a_check() -> None:
    found = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for layer in ("plan", "backends")
        for path in sorted((SRC / layer).rglob("*.py"))
        if path != TABLE
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if CHECK_ID.search(line)
    ]
    assert found == []


def test_every_reason_is_its_own_sentence() -> None:
    # Enum members with equal values would be aliases: one fact said twice.
    assert len({w.value for w in Waiver}) == len(Waiver) == len(Waiver.__members__)
