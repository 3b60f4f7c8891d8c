"""Which plan component each rendered resource was built for.

Both backends dispatch a site's components to renderers (their `RENDERERS` tables); while a
renderer runs, every resource it adds is attributed to the components of the kinds it was
called for, and a renderer narrows that to one component where it builds one at a time
(`ctx.each`, `ctx.part`). A renderer cannot forget: what it adds is attributed to its whole
window at least, and a test holds every component to a resource attributed to it alone.
The record rides with the files (`Rendered.provenance`) and changes none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from replgen.plan.components import listed
from replgen.plan.model import Site, SiteId


class Origin(NamedTuple):
    """The components a resource was rendered for: one, or the several it serves (the
    function CloudFormation writes every SecureString of a site with)."""

    site: SiteId | None  # None for what no site owns (a peering, a bootstrap)
    keys: tuple[str, ...]


# File (a template, a stack's cdk.tf.json) -> resource address in it -> its origin. A
# CloudFormation address is a logical id; a Terraform one `type.name` or `data.type.name`.
Provenance = dict[str, dict[str, Origin]]


class Rendered(dict[str, bytes]):
    """A backend's files (relative path -> content), and where each resource in them
    comes from."""

    def __init__(self, files: Mapping[str, bytes], provenance: Provenance) -> None:
        super().__init__(files)
        self.provenance = provenance


def window(site: Site, kinds: tuple[type, ...]) -> Origin:
    """Every component of `site` of these kinds: what a renderer called for them builds."""
    return Origin(site.id, tuple(key for key, c in listed(site) if isinstance(c, kinds)))


def kinds_of(renderers: Mapping[type, object]) -> dict[object, tuple[type, ...]]:
    """Renderer -> the kinds of component it is registered for."""
    found: dict[object, tuple[type, ...]] = {}
    for kind, renderer in renderers.items():
        found[renderer] = (*found.get(renderer, ()), kind)
    return found
