"""CDK for Terraform backend: one stack per account and region, a stack per peering.

The provider bindings cost seconds and hundreds of MB to load, so nothing here imports
them until `render` runs; jsii's package cache is on by default to make that cheaper.
"""

from __future__ import annotations

import os
from pathlib import Path

from replgen.backends import Options, Unavailable
from replgen.backends.provenance import Rendered
from replgen.plan.model import Plan


def _cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "replgen" / "jsii")


def enable_package_cache() -> None:
    """Keep the unpacked provider bindings between runs (`JSII_RUNTIME_PACKAGE_CACHE*`
    set by the user win)."""
    os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE", "enabled")
    os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", _cache_root())
    # jsii's banner about Node.js 18/20 reaching end of life would bury the compile's own
    # output; the README asks for Node.js 22 or newer.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")


class Cdktf:
    name = "cdktf"

    def render(self, plan: Plan, options: Options) -> Rendered:
        # `options.layout` shapes CloudFormation only: Terraform stacks are per account and region.
        enable_package_cache()
        options.progress("loading the CDKTF AWS provider bindings")
        try:
            from replgen.backends.cdktf import app  # the costly import, only now
        except ImportError as exc:
            raise Unavailable(f"{exc}: install it with pip install 'replgen[cdktf]'") from None
        except FileNotFoundError as exc:  # jsii starts `node`
            raise Unavailable(f"{exc.filename or exc}: the cdktf backend needs Node.js") from None

        options.progress("synthesising the CDKTF stacks")
        return app.synthesize(plan, options.recompile)


BACKEND = Cdktf()
