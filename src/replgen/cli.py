"""The `replgen` command: parse arguments, call the library, print. Errors to stderr.

Exit codes: 0 success, 1 internal error (a bug: the traceback is kept), 2 invalid
spec or usage, and 1 for `compile --check` when the committed output is stale (and for
`diff` when a deploy would change something); 3 for a deployment AWS stopped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from replgen import compiler, output
from replgen.backends import Options
from replgen.errors import SpecError
from replgen.spec.load import Loaded
from replgen.spec.source import Source

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def _report(exc: SpecError, source: Source | None, spec: Path | None) -> None:
    fallback = Source(str(spec) if spec else "replgen")
    for problem in exc.problems:
        click.echo((source or fallback).format(problem), err=True)


def spec_errors(func: F) -> F:
    """Turn SpecError into one line per problem and exit 2; anything else is a bug."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpecError as exc:
            _report(exc, exc.source, kwargs.get("spec"))
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _load(spec: Path, suffix: str | None = None) -> Loaded:
    loaded = compiler.load_spec(spec, suffix)
    for warning in loaded.warnings:
        click.echo(f"warning: {loaded.source.format(warning)}", err=True)
    return loaded


def _with_source(func: Callable[[], Any], source: Source) -> Any:
    try:
        return func()
    except SpecError as exc:
        exc.source = exc.source or source
        raise


SPEC = click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replgen")
def main() -> None:
    """Compile a database-replication topology into CloudFormation or CDK for Terraform."""


def _recompile(spec: Path, root: Path, backend: str) -> str:
    """The compile's arguments as seen from the backend's output folder."""
    here = root / backend
    return f"{os.path.relpath(spec, here)} --out {os.path.relpath(root, here)}"


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner on a terminal; otherwise one line per step on stderr."""
    if not err.is_terminal:
        yield lambda message: click.echo(f"{message} ...", err=True)
        return
    with err.status("compiling") as status:
        yield status.update


@main.command()
@SPEC
@click.option(
    "--backend",
    default="cloudformation",
    show_default=True,
    help="cloudformation, cdktf, all, or another installed backend.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output root (default templates_out/<name>).",
)
@click.option("--suffix", help="Override the spec's suffix (the environmentSuffix in every name).")
@click.option(
    "--layout",
    default="stacks",
    show_default=True,
    type=click.Choice(["stacks", "single"]),
    help="single: one CloudFormation template, for topologies in one account and region.",
)
@click.option("--check", is_flag=True, help="Exit 1 if the output on disk differs; write nothing.")
@spec_errors
def compile(
    spec: Path, backend: str, out: Path | None, suffix: str | None, layout: str, check: bool
) -> None:
    """Compile SPEC into deployable infrastructure."""
    loaded = _load(spec, suffix)
    plan = _with_source(lambda: compiler.plan_for(loaded), loaded.source)
    root = out or Path("templates_out") / plan.name
    rendered = {}
    with _progress() as progress:
        for name, b in compiler.backends(backend).items():
            options = Options(layout, progress, _recompile(spec, root, name))  # type: ignore[arg-type]
            rendered[name] = _with_source(
                lambda b=b, o=options: compiler.render(plan, b, o),  # type: ignore[misc]
                loaded.source,
            )
    stale = False
    for name, files in rendered.items():
        target = root / name
        if check:
            changed = output.differences(target, files)
            for path in changed:
                click.echo(f"stale: {target / path}", err=True)
            stale = stale or bool(changed)
        else:
            _summarise(target, output.write_tree(target, files))
    if stale:
        click.echo("output is stale: run `replgen compile` and commit the result", err=True)
        sys.exit(1)


def _summarise(target: Path, changes: output.Changes) -> None:
    """One line per stack that changed, then the folder's totals (foreign files untouched)."""
    for stack, counts in sorted(_per_stack(changes).items()):
        if any(counts[k] for k in ("added", "changed", "removed")):
            click.echo(f"  {stack}: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n))
    totals = {
        "added": len(changes.added),
        "changed": len(changes.changed),
        "removed": len(changes.removed),
        "unchanged": len(changes.unchanged),
    }
    if not changes.any:
        click.echo(f"{target}: up to date ({totals['unchanged']} files unchanged)")
        return
    click.echo(f"{target}: " + ", ".join(f"{n} {k}" for k, n in totals.items()))


def _per_stack(changes: output.Changes) -> dict[str, dict[str, int]]:
    stacks: dict[str, dict[str, int]] = {}
    for kind in ("added", "changed", "removed", "unchanged"):
        for path in getattr(changes, kind):
            if path in changes.by_stack:
                counts = stacks.setdefault(
                    changes.by_stack[path],
                    dict.fromkeys(("added", "changed", "removed", "unchanged"), 0),
                )
                counts[kind] += 1
    return stacks


@main.command()
@SPEC
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@spec_errors
def validate(spec: Path, as_json: bool) -> None:
    """Check SPEC and report every problem with its file, line and key."""
    loaded = _load(spec)
    _with_source(lambda: compiler.plan_for(loaded), loaded.source)
    if as_json:
        click.echo(json.dumps({"valid": True, "spec": str(spec)}))
    else:
        click.echo(f"{spec}: valid")


@main.command()
@SPEC
@click.option("--json", "as_json", is_flag=True, help="Print the plan summary as JSON.")
@spec_errors
def plan(spec: Path, as_json: bool) -> None:
    """Show what SPEC builds, per site."""
    loaded = _load(spec)
    summary = compiler.describe(_with_source(lambda: compiler.plan_for(loaded), loaded.source))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"{summary['name']}-{summary['suffix']}")
    for column in ("site", "account / region", "vpc / subnets", "database", "functions", "alarms"):
        table.add_column(column)
    for s in summary["sites"]:
        table.add_row(
            s["id"] + (" (production)" if s["production"] else ""),
            f"{s['account']}\n{s['region']}",
            "\n".join([s["vpc"], *s["subnets"]]),
            f"{s['cluster']}\n{s['engine']}\n{s['instances']}",
            "\n".join(s["functions"]) or "-",
            str(len(s["alarms"])),
        )
    out.print(table)
    for p in summary["peerings"]:
        kind = ", ".join(k for k in ("cross_account", "cross_region") if p[k]) or "same account"
        out.print(f"peering {p['requester']} -> {p['accepter']} ({kind}), port {p['port']} only")


@main.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editors)."""
    from replgen.spec.schema import json_schema

    click.echo(json_schema(), nl=False)


@main.command()
@click.option(
    "--out",
    default=Path("dist/lambda"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
def package(out: Path) -> None:
    """Build the Lambda zips reproducibly, named by content hash."""
    from replgen import package as packager

    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(packager.LAMBDAS):
        artifact = packager.build(name, out)
        click.echo(f"{out / artifact.filename}  sha256={artifact.sha256}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def lint(paths: tuple[Path, ...]) -> None:
    """Run cfn-lint over CloudFormation output (default: templates_out/*/cloudformation)."""
    from replgen.lint import cfn_lint

    targets = list(paths) or sorted(Path("templates_out").glob("*/cloudformation"))
    findings = cfn_lint(targets)
    for line in findings:
        click.echo(line)
    sys.exit(1 if findings else 0)


# ---------------------------------------------------------------- deployment
# The commands parse and print; replgen.deploy.command does the rest.


def deploy_errors(func: F) -> F:
    """Usage problems exit 2; a deployment AWS stopped exits 3 with what stopped it."""
    from replgen.deploy import DeployError, UsageError

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except DeployError as exc:
            click.echo(f"stopped: {exc}", err=True)
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


DEPLOY_OPTIONS = (
    click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        help="Output root compile wrote (default templates_out/<name>).",
    ),
    click.option(
        "--stacks",
        "patterns",
        multiple=True,
        metavar="PATTERN",
        help="Only stacks whose name matches (shell pattern; repeatable).",
    ),
    click.option(
        "--profile-map",
        "profiles",
        multiple=True,
        metavar="ALIAS=PROFILE",
        help="Credentials of an account (spec alias or id) from a named profile.",
    ),
    click.option(
        "--role-name",
        help="Role assumed in accounts without a profile (default: the spec's state.deploy_role).",
    ),
    click.option("--endpoint-url", help="Send every AWS call here (an emulator)."),
    click.option("--yes", is_flag=True, help="Do not ask before executing."),
    click.option(
        "--deploy-from",
        metavar="ACCOUNT_ID",
        help="Account the deploy roles trust (default: the current credentials').",
    ),
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Print the steps; call nothing.")
CONTINUE = click.option(
    "--continue-after", multiple=True, metavar="STACK", help="The pause after STACK is done."
)


def _deploy_options(func: F) -> F:
    for option in reversed(DEPLOY_OPTIONS):
        func = option(func)
    return func


def _request(spec: Path, **kw: Any) -> Any:
    from replgen.deploy.command import Request

    loaded = _load(spec)
    plan = _with_source(lambda: compiler.plan_for(loaded), loaded.source)
    request = Request(spec, loaded.spec, plan, **kw)
    for warning in request.warnings():
        click.echo(f"warning: {warning}", err=True)
    return request


def _echo(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@main.command()
@SPEC
@_deploy_options
@DRY_RUN
@spec_errors
@deploy_errors
def bootstrap(spec: Path, dry_run: bool, **kw: Any) -> None:
    """Deploy what must exist first in each account and region: the artifact bucket and
    the deploy role (the compiled bootstrap stacks, first in the manifest)."""
    request = _request(spec, bootstrap_only=True, **kw)
    _echo(request.dry_run() if dry_run else request.deploy())


@main.command()
@SPEC
@_deploy_options
@click.option(
    "--backend",
    default="cloudformation",
    show_default=True,
    type=click.Choice(["cloudformation", "cdktf"]),
)
@CONTINUE
@DRY_RUN
@spec_errors
@deploy_errors
def deploy(spec: Path, backend: str, dry_run: bool, **kw: Any) -> None:
    """Deploy the compiled stacks in manifest order, each through a change set
    (CloudFormation) or `terraform init` and `terraform apply` (CDKTF)."""
    request = _request(spec, backend=backend, **kw)
    _echo(request.dry_run() if dry_run else request.deploy())


@main.command()
@SPEC
@_deploy_options
@spec_errors
@deploy_errors
def diff(spec: Path, **kw: Any) -> None:
    """What a deploy would change, per stack (change sets, never executed).
    Exit 0: nothing; 1: changes; 3: AWS refused."""
    changed = _request(spec, **kw).diff()
    if changed:
        click.echo(f"{len(changed)} stack(s) would change: {', '.join(changed)}")
        sys.exit(1)
    click.echo("no changes")


@main.command()
@SPEC
@_deploy_options
@click.option(
    "--production",
    multiple=True,
    metavar="STACK",
    help="Also destroy this production stack (by exact name; repeatable).",
)
@spec_errors
@deploy_errors
def destroy(spec: Path, production: tuple[str, ...], **kw: Any) -> None:
    """Delete the deployed stacks in reverse manifest order (bootstrap stacks stay)."""
    _echo(_request(spec, **kw).destroy(production))
