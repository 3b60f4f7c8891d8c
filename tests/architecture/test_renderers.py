"""Backends are dispatch tables: every kind of component a site holds has a renderer in
every backend, so a new component cannot be built by one backend and forgotten by another."""

from __future__ import annotations

import dataclasses
import types
import typing

import pytest

from replgen.plan import model
from replgen.plan.components import SITE_COMPONENTS

# Site fields that are not components: what other stacks read, and the log group of the
# CloudFormation-only parameter writer.
NOT_COMPONENTS = {model.Ref, model.LogGroup}


def _dataclasses_in(hint: object) -> set[type]:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return {hint}
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) in (tuple, typing.Union):
        return {t for arg in typing.get_args(hint) for t in _dataclasses_in(arg)}
    return set()


def test_every_kind_a_site_holds_is_a_declared_component() -> None:
    hints = typing.get_type_hints(model.Site)
    held = {t for name, hint in hints.items() for t in _dataclasses_in(hint)}
    assert held - NOT_COMPONENTS <= set(SITE_COMPONENTS)
    assert model.Network in held and model.BackupPlan in held


@pytest.mark.parametrize("backend", ["cloudformation", "cdktf"])
def test_every_component_has_a_renderer_in_every_backend(backend: str) -> None:
    if backend == "cloudformation":
        from replgen.backends.cloudformation import NOT_RENDERED as skipped
        from replgen.backends.cloudformation import RENDERERS
    else:
        from replgen.backends.cdktf.app import NOT_RENDERED as skipped
        from replgen.backends.cdktf.app import RENDERERS  # type: ignore[assignment]
    assert not set(RENDERERS) & set(skipped)
    assert set(RENDERERS) <= set(SITE_COMPONENTS)
    assert [k for k in SITE_COMPONENTS if k in RENDERERS or k in skipped] == list(SITE_COMPONENTS)
    assert all(len(why) > 20 for why in skipped.values())
