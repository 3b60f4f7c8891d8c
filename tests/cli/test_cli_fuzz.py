"""Property tests of the command line: whatever a spec holds, `replgen validate` answers
with exit 0 or 2, never a traceback, and every problem has a line.

Valid specs come from strategies that mirror the models; mutations then delete keys,
change types, add unicode, huge numbers, deep nesting, anchors and aliases, duplicate keys
and raw text damage (tabs, stray characters)."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replgen import compiler
from replgen.cli import main

LINE = re.compile(r"^(?:warning: )?[^:]+\.yaml:(\d+):(\d+): \S+: .+$")
ENGINES = [
    ("aurora-mysql", "5.7.mysql_aurora.2.12.4", "db.r5.large"),
    ("aurora-mysql", "8.0.mysql_aurora.3.08.0", "db.r6g.large"),
    ("aurora-postgresql", "15.10", "db.r6g.large"),
]
ENV_NAMES = ["dev", "qa", "staging", "uat", "prod"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module", autouse=True)
def _zips_once() -> Iterator[None]:
    # The Lambda zips do not depend on the spec: build them once for every example.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiler, "artifacts", functools.cache(compiler.artifacts))
        yield


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Environments in one or several accounts, each peered with a hub that runs the sync."""
    count = draw(st.integers(2, 4))
    names = [*ENV_NAMES[: count - 1], "prod"]
    shared = draw(st.booleans())
    accounts = (
        {"main": "111111111111"}
        if shared
        else {n: str(100000000000 + i * 111111111) for i, n in enumerate(names)}
    )
    engine, version, cls = draw(st.sampled_from(ENGINES))
    hub = names[1] if count > 2 else names[0]
    environments = {
        n: {
            "account": "main" if shared else n,
            "cidr": f"10.{i + 1}.0.0/16",
            **({"region": draw(st.sampled_from(REGIONS))} if draw(st.booleans()) else {}),
            **({"production": True} if n == "prod" else {}),
        }
        for i, n in enumerate(names)
    }
    spec: dict[str, Any] = {
        "replgen": 1,
        "name": draw(st.from_regex(r"[a-z][a-z0-9]{2,8}", fullmatch=True)),
        "suffix": draw(st.from_regex(r"[a-z0-9]{1,5}", fullmatch=True)),
        "region": "us-east-1",
        "accounts": accounts,
        "defaults": {
            "database": {"engine": engine, "engine_version": version, "instance_class": cls},
            "network": {"azs": draw(st.integers(2, 3))},
        },
        "environments": environments,
        "peering": [[hub, n] for n in names if n != hub],
    }
    if draw(st.booleans()):
        spec["sync"] = {
            "runs_in": hub,
            "schedule": draw(
                st.sampled_from(["rate(1 hour)", "rate(15 minutes)", "cron(0 3 * * ? *)"])
            ),
            "schema": {"promote": names},
        }
        if count == 3:
            spec["sync"]["reference_data"] = {
                "source": names[0],
                "targets": names[1:],
                "tables": ["currency"],
            }
    return spec


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if value is _DELETE:
        del parent[path[-1]]
    else:  # a copy: the same nested list set inside itself would be a cycle
        parent[path[-1]] = copy.deepcopy(value)


_DELETE = object()
NASTY = st.one_of(
    st.just(_DELETE),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80), max_size=10),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.just(functools.reduce(lambda inner, _: [inner], range(60), [])),  # deep nesting
    st.just("9" * 5000),
)


def _validate(text: str, tmp_path: Path) -> tuple[int, str]:
    spec = tmp_path / "fuzz.yaml"
    spec.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed on:\n{text}\n{result.exception!r}"
    )
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code in (0, 2), result.stderr
    lines = result.stderr.splitlines()
    for line in lines:
        match = LINE.match(line)
        assert match, f"not `file:line:col: key: message`: {line!r}"
        assert 1 <= int(match[1]) <= text.count("\n") + 2
    if result.exit_code == 2:
        assert lines, "exit 2 without a word"
    return result.exit_code, result.stderr


@FUZZ
@given(spec=valid_specs())
def test_generated_specs_are_valid(spec: dict[str, Any], tmp_path: Path) -> None:
    code, stderr = _validate(yaml.safe_dump(spec, sort_keys=False), tmp_path)
    assert code == 0, stderr


@FUZZ
@given(spec=valid_specs(), data=st.data())
def test_mutated_specs_never_crash(
    spec: dict[str, Any], data: st.DataObject, tmp_path: Path
) -> None:
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(spec)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        _set(spec, path, data.draw(NASTY))
    _validate(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), tmp_path)


@FUZZ
@given(spec=valid_specs(), data=st.data())
def test_damaged_text_never_crashes(
    spec: dict[str, Any], data: st.DataObject, tmp_path: Path
) -> None:
    lines = yaml.safe_dump(spec, sort_keys=False).splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        damage = data.draw(st.sampled_from(["duplicate", "tab", "insert", "delete", "unicode"]))
        if damage == "duplicate":  # a duplicate key
            lines.insert(i, lines[i])
        elif damage == "tab":
            lines[i] = "\t" + lines[i].lstrip(" ")
        elif damage == "insert":
            column = data.draw(st.integers(0, len(lines[i])))
            char = data.draw(st.sampled_from(list(":{}[]&*!|>'\"%@`#,-? ")))
            lines[i] = lines[i][:column] + char + lines[i][column:]
        elif damage == "delete" and len(lines) > 1:
            del lines[i]
        else:
            lines[i] += " " + data.draw(st.text(min_size=1, max_size=5))
    _validate("\n".join(lines) + "\n", tmp_path)


@FUZZ
@given(spec=valid_specs())
def test_anchors_and_aliases_are_read_like_their_expansion(
    spec: dict[str, Any], tmp_path: Path
) -> None:
    # The same object twice: PyYAML writes an anchor and an alias.
    spec["environments"]["prod"]["database"] = spec["defaults"]["database"]
    text = yaml.safe_dump(spec, sort_keys=False)
    assert "&id001" in text and "*id001" in text
    code, stderr = _validate(text, tmp_path)
    assert code == 0, stderr


def test_merge_keys_are_read_and_may_be_overridden(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "specs" / "prod.yaml").read_text()
    text = text.replace(
        "  dev:     {account: dev,     cidr: 10.1.0.0/16}",
        "  dev: &base {account: dev,     cidr: 10.1.0.0/16}",
    )
    text = text.replace(
        "  staging: {account: staging, cidr: 10.2.0.0/16}",
        "  staging: {<<: *base, account: staging, cidr: 10.2.0.0/16}",
    )
    assert _validate(text, tmp_path) == (0, "")


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        previous, name = chr(96 + i), chr(97 + i)
        levels.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    text = "\n".join(levels) + "\n"
    # 9**10 values if expanded: that this returns at all shows the expansion was cut short.
    code, stderr = _validate(text, tmp_path)
    assert code == 2
    assert stderr.endswith(
        ":1:4: (document): more than 20000 values (aliases that expand without end?)\n"
    )


def test_validate_json_is_one_document_for_any_damage(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    for text in (
        "",
        "\t- x\n",
        "a: [\n",
        "replgen: 1\nname: 5\n",
        "[1, 2]\n",
        "x: !!python/name:os.system\n",
    ):
        spec.write_text(text)
        result = CliRunner().invoke(main, ["validate", str(spec), "--json"])
        assert result.exit_code == 2
        document = json.loads(result.stdout)
        assert document["valid"] is False and document["problems"]
        assert all(p["line"] >= 1 for p in document["problems"])
