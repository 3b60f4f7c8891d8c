"""The `replgen` command: parse arguments, call the library, print. Errors to stderr.

Exit codes: 0 success, 1 internal error (a bug: the traceback is kept), 2 invalid
spec or usage, and 1 for `compile --check` when the committed output is stale (and for
`diff` when a deploy would change something); 3 for a deployment AWS stopped.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# replgen uses no pydantic plugin, and looking for one reads the entry points of every
# installed distribution when the first spec model is defined (about 10 ms of every run).
# Set the variable, even empty, to have pydantic look.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from replgen import compiler, output, report
from replgen.backends import Options
from replgen.errors import SpecError, UsageError
from replgen.package import PackageError
from replgen.spec.load import Loaded
from replgen.spec.source import Source

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

# At exit the interpreter's collections traverse every object still alive (the spec models,
# the plan, the templates: about a fifth of a compile's CPU time) only to find each reachable
# from the modules it is tearing down. Frozen, they are skipped: objects are still freed by
# their reference counts, and Python never promised to finalize what is alive at exit.
atexit.register(gc.freeze)


@cache
def console(stderr: bool = False) -> Console:
    """rich's console, imported on first use: a compile in CI or a pipe never needs it."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _terminal(stderr: bool = False) -> bool:
    """Whether rich would draw on the stream (a spinner, a table). A stream that is no tty,
    with neither variable rich reads to override that, is none: rich needs no import."""
    stream = sys.stderr if stderr else sys.stdout
    if not stream.isatty() and not {"FORCE_COLOR", "TTY_COMPATIBLE"} & os.environ.keys():
        return False
    return console(stderr).is_terminal


def spec_errors(func: F) -> F:
    """Spec problems: one line each, in file order, exit 2. Usage mistakes: click's usage
    error (exit 2, the spec not blamed). Anything else is a bug and keeps its traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpecError as exc:
            report.echo_problems(report.of_error(exc, kwargs.get("spec")))
            sys.exit(2)
        except UsageError as exc:
            if exc.param:
                raise click.BadParameter(str(exc), param_hint=f"'{exc.param}'") from None
            raise click.UsageError(str(exc)) from None
        except PackageError as exc:  # the machine lacks what a zip needs (npm, a driver)
            click.echo(f"error: cannot build the Lambda zips: {exc}", err=True)
            sys.exit(2)
        except (click.ClickException, click.Abort):
            raise  # click reports its own, with its exit code
        except Exception as exc:  # a bug: never dressed up as a problem in the spec
            import traceback  # only now: it costs every run a few hundredths of a second

            traceback.print_exc()
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "this is a bug in replgen, not in the spec: please report it with the "
                "traceback above",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _load(spec: Path, suffix: str | None = None, quiet: bool = False) -> Loaded:
    loaded = compiler.load_spec(spec, suffix)
    if not quiet:
        report.echo_problems(report.locate(loaded.warnings, loaded.source), warning=True)
    return loaded


def _with_source(func: Callable[[], Any], source: Source) -> Any:
    try:
        return func()
    except SpecError as exc:
        exc.source = exc.source or source
        raise


def _backend_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        compiler.check_backend(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


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
    if not _terminal(stderr=True):
        yield lambda message: click.echo(f"{message} ...", err=True)
        return
    with console(stderr=True).status("compiling") as status:
        yield status.update


@main.command()
@SPEC
@click.option(
    "--backend",
    default="cloudformation",
    show_default=True,
    help="cloudformation, cdktf, all, or another installed backend.",
    callback=_backend_name,
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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='One JSON document on stdout: {"valid", "problems", "warnings"}; same exit code.',
)
@spec_errors
def validate(spec: Path, as_json: bool) -> None:
    """Check SPEC and report every problem with its file, line and key."""
    if not as_json:
        loaded = _load(spec)
        _with_source(lambda: compiler.plan_for(loaded), loaded.source)
        click.echo(f"{spec}: valid")
        return
    try:
        loaded = _load(spec, quiet=True)
        _with_source(lambda: compiler.plan_for(loaded), loaded.source)
    except SpecError as exc:
        click.echo(report.as_json(False, report.of_error(exc, spec), []))
        sys.exit(2)
    warnings = report.locate(loaded.warnings, loaded.source)
    click.echo(report.as_json(True, [], warnings))


@main.command()
@SPEC
@click.option("--json", "as_json", is_flag=True, help="Print the sites and stacks as JSON.")
@spec_errors
def plan(spec: Path, as_json: bool) -> None:
    """Show the stacks SPEC deploys, in deploy order, and what each site builds."""
    from replgen import stacks  # rich's tables: not on the compile path

    loaded = _load(spec)
    built = _with_source(lambda: compiler.plan_for(loaded), loaded.source)
    ordered = stacks.deploy_order(built)
    described = compiler.describe(built)
    title = f"{built.name}-{built.suffix}"
    if as_json:
        click.echo(json.dumps(stacks.summary(ordered, described), indent=2))
    elif _terminal():
        console().print(stacks.table(title, ordered))
        console().print(stacks.sites_text(described), end="")
    else:  # a CI log or a pipe: plain lines, nothing truncated
        click.echo(stacks.as_text(title, ordered) + stacks.sites_text(described), nl=False)


@main.command()
@SPEC
@click.option(
    "--format",
    "fmt",
    default="mermaid",
    show_default=True,
    type=click.Choice(["mermaid", "dot", "svg"]),
    help="mermaid (GitHub and editors draw it), Graphviz dot, or svg (needs Graphviz).",
)
@spec_errors
def graph(spec: Path, fmt: str) -> None:
    """Draw SPEC's topology: accounts, regions, sites, peerings, sync and replication."""
    from replgen import graph as diagrams

    loaded = _load(spec)
    built = _with_source(lambda: compiler.plan_for(loaded), loaded.source)
    click.echo(diagrams.render(diagrams.diagram(loaded.spec, built), fmt), nl=False)


@main.command()
@click.argument(
    "path", default=Path("replgen.yaml"), type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--name", help="The topology's name (default: from the file name).")
@spec_errors
def init(path: Path, name: str | None) -> None:
    """Write a commented starter spec at PATH (default replgen.yaml); never overwrites."""
    from replgen import starter

    starter.write(path, name)
    click.echo(f"wrote {path}: edit the accounts, then `replgen validate {path}`")


@main.command()
@click.option("--markdown", is_flag=True, help="The spec reference in Markdown instead.")
def schema(markdown: bool) -> None:
    """Print the JSON Schema of the spec format (for editors)."""
    from replgen.spec import reference
    from replgen.spec.schema import json_schema

    click.echo(reference.markdown() if markdown else json_schema(), nl=False)


@main.command()
@click.option(
    "--out",
    default=Path("dist/lambda"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@spec_errors
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
