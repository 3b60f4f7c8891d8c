"""What a compile costs against the fastest honest baseline, measured in the same run.

* compile of specs/prod.yaml (CloudFormation) against importing its libraries (pydantic,
  yaml, troposphere, awacs, click, rich): the floor no compile can go under;
* a 41-site generated fleet against a 3-site one (the same generator, tests/fleet.py): a
  compile grows with the topology, not faster;
* CDKTF: an 8-site fleet against importing the provider bindings (seconds, peak MiB).

Every figure is the median of `--runs` fresh processes, the two sides of a ratio run
alternately so that load on the machine falls on both: wall time (what the targets are
on), CPU time (user + system: on a shared machine it moves less with the others' load) and
peak memory. Exits 1 when a target is missed: prod ≤ 3x its floor, 41 sites ≤ 3x 3 sites.

    .venv/bin/python bench/bench_compile.py [--runs 5] [--cdktf-runs 3 | --cdktf-runs 0]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_cdktf import FLOOR as CDKTF_FLOOR
from bench_cdktf import measure

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fleet import fleet, write  # noqa: E402

# The floor exits as replgen does, skipping the collector's passes at exit (cli.py): the
# fastest honest baseline, so that a saving at exit is not counted as a saving in compiling.
LIBRARIES = (
    "import atexit, gc; atexit.register(gc.freeze); "
    "import pydantic, yaml, troposphere, awacs, click, rich.console"
)
TARGET = 3.0


Figures = tuple[float, float, float]  # wall seconds, CPU seconds, peak MiB


def alternate(
    a: list[str], b: list[str], env: dict[str, str], runs: int
) -> tuple[Figures, Figures]:
    """Median wall and CPU seconds and peak MiB of each command, run a, b, a, b, ..."""
    first, second = [], []
    for _ in range(runs):
        first.append(measure(a, env))
        second.append(measure(b, env))
    return _summary(first), _summary(second)


def _summary(results: list[Figures]) -> Figures:
    wall = statistics.median(r[0] for r in results)
    return wall, statistics.median(r[1] for r in results), max(r[2] for r in results)


def report(label: str, base: str, a: Figures, b: Figures) -> float:
    ratio = b[0] / a[0]
    print(f"{base:<40} {a[0]:6.2f} s {a[1]:6.2f} s CPU {a[2]:6.0f} MiB")
    print(
        f"{label:<40} {b[0]:6.2f} s {b[1]:6.2f} s CPU {b[2]:6.0f} MiB   {ratio:5.2f} x time"
        f" {b[1] / a[1]:5.2f} x CPU {b[2] / a[2]:5.2f} x MiB"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cdktf-runs", type=int, default=3)
    args = parser.parse_args()
    python, env = sys.executable, dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    # An installed replgen has its bytecode, as the libraries of the floor have theirs:
    # without it (PYTHONDONTWRITEBYTECODE, a fresh checkout) every run would compile ~90
    # modules, which no user pays. compileall writes it whatever the environment says.
    compileall.compile_dir(ROOT / "src", quiet=1)
    # What the `replgen` script runs, from this checkout's sources.
    replgen = [
        python,
        "-c",
        "import sys; from replgen.cli import main; sys.argv[0] = 'replgen'; main()",
    ]
    work = Path(tempfile.mkdtemp(prefix="bench-compile-"))

    def compile_(spec: Path | str, backend: str = "cloudformation") -> list[str]:
        out = work / "out" / Path(spec).stem
        return [*replgen, "compile", str(spec), "--backend", backend, "--out", str(out)]

    missed = []
    print(f"-- median of {args.runs} alternating runs")
    floor, prod = alternate([python, "-c", LIBRARIES], compile_("specs/prod.yaml"), env, args.runs)
    if report("compile specs/prod.yaml", "import the libraries", floor, prod) > TARGET:
        missed.append("prod vs library import")
    small = write(fleet(2), work / "fleet3.yaml")  # hub + 2 spokes: 3 sites
    large = write(fleet(40), work / "fleet41.yaml")
    three, forty_one = alternate(compile_(small), compile_(large), env, args.runs)
    if report("compile a 41-site fleet", "compile a 3-site fleet", three, forty_one) > TARGET:
        missed.append("41 sites vs 3 sites")
    if args.cdktf_runs:
        eight = write(fleet(7), work / "fleet8.yaml")
        print(f"-- CDKTF, median of {args.cdktf_runs} alternating runs (warm jsii cache)")
        subprocess.run([python, "-c", CDKTF_FLOOR], env=env, check=True, cwd=ROOT)
        bindings, cdktf = alternate(
            [python, "-c", CDKTF_FLOOR], compile_(eight, "cdktf"), env, args.cdktf_runs
        )
        report(
            "compile an 8-site fleet --backend cdktf",
            "import the provider bindings",
            bindings,
            cdktf,
        )
    if missed:
        raise SystemExit(f"targets missed ({TARGET} x): {', '.join(missed)}")


if __name__ == "__main__":
    main()
