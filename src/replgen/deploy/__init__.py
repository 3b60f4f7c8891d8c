"""Carrying compiled output into AWS: `replgen bootstrap`, `deploy`, `diff` and `destroy`.

Everything a deployment decides (order, parameter sources, capabilities, how a template
is passed, pauses) is read from the manifest the compile wrote; these modules only carry
it out: `manifest` reads it, `credentials` finds a session per account, `changeset` talks
to CloudFormation about one stack, `cloudformation` walks the stacks, `terraform` runs
`terraform` per CDKTF stack, `ui` shows it all.
"""

from __future__ import annotations


class DeployError(Exception):
    """A deployment that stopped: the message names the stack, the resource and the reason."""


class UsageError(Exception):
    """Something the user must fix before anything is called (exit 2)."""
