"""Text from the plan reaches Terraform as a literal, and CloudFormation as written.

The plan (tests/backends/outputs.py `hostile_plan`) carries `${pwnN}%{pwnN}` in every text
field of the spec that it can be built with; N numbers the field. Terraform JSON must hold
each only escaped (`$${pwnN}%%{pwnN}`: Terraform reads it back as the text); CloudFormation
holds it as written, and inside `Fn::Sub` as `${!pwnN}` (Sub's own escape).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from outputs import Hostile

ESCAPED_TF = re.compile(r"\$\$\{(pwn\d+)\}%%\{pwn\d+\}")
RAW_TEMPLATE = re.compile(r"(?<!\$)\$\{pwn\d+\}")
RAW_DIRECTIVE = re.compile(r"(?<!%)%\{pwn\d+\}")
AS_WRITTEN = re.compile(r"\$\{(pwn\d+)\}%\{pwn\d+\}")
IN_SUB = re.compile(r"\$\{!(pwn\d+)\}%\{pwn\d+\}")


def _strings(node: Any, in_sub: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string of a JSON document, and whether it is an Fn::Sub template."""
    if isinstance(node, str):
        yield node, in_sub
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, in_sub and i == 0)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value, key == "Fn::Sub")


def _terraform_markers(hostile: Hostile) -> set[str]:
    found: set[str] = set()
    for path, content in hostile.files["cdktf"].items():
        for text, _ in _strings(json.loads(content)):
            assert not RAW_TEMPLATE.search(text), f"{path}: Terraform would evaluate {text!r}"
            assert not RAW_DIRECTIVE.search(text), f"{path}: Terraform would run {text!r}"
            found |= set(ESCAPED_TF.findall(text))
    return found


def _cloudformation_markers(hostile: Hostile) -> set[str]:
    found: set[str] = set()
    for path, content in hostile.files["cloudformation"].items():
        for text, sub in _strings(json.loads(content)):
            assert "$${pwn" not in text and "%%{pwn" not in text, f"{path}: {text!r}"
            if sub:
                assert not AS_WRITTEN.search(text), f"{path}: Fn::Sub would resolve {text!r}"
                found |= set(IN_SUB.findall(text))
            else:
                found |= set(AS_WRITTEN.findall(text))
    return found


def test_the_plan_carried_code_in_text_fields(hostile: Hostile) -> None:
    # The address the finding was about, and the other free text the plan passes on.
    assert "Notifications.emails" in hostile.fields.values()
    assert len(hostile.fields) >= 10, hostile.fields


def test_terraform_reads_every_template_as_text(hostile: Hostile) -> None:
    markers = _terraform_markers(hostile)
    assert len(markers) >= 10, markers


def test_cloudformation_has_the_same_text_as_written(hostile: Hostile) -> None:
    cloudformation, terraform = _cloudformation_markers(hostile), _terraform_markers(hostile)
    assert cloudformation <= terraform
    # Where Terraform keeps its state is Terraform's alone.
    only_terraform = {hostile.fields[m] for m in terraform - cloudformation}
    assert only_terraform <= {"State.bucket", "State.region"}, only_terraform
    assert len(cloudformation) >= 10, cloudformation
