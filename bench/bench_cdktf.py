"""What a CDKTF compile costs against its floor: just importing the provider bindings.

Each measurement is a fresh process (the bindings load once per process), timed by wall
clock, with peak memory from the OS (`ru_maxrss` from wait4); with jsii's package cache
cold, then warm.

    .venv/bin/python bench/bench_cdktf.py [--runs 3] [--spec specs/prod.yaml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Exactly the modules the backend imports, so the floor is the backend's own floor.
FLOOR = "import replgen.backends.cdktf as b; b.enable_package_cache(); import " + (
    "replgen.backends.cdktf.app"
)


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """One fresh process: wall seconds, and what Linux reports for the child: its CPU
    seconds and the largest resident set (MiB) of it and of the descendants it waited for
    (the Node.js jsii runtime is one)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command} failed with status {status}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def series(name: str, command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    results = [measure(command, env) for _ in range(runs)]
    seconds = statistics.median(r[0] for r in results)
    mib = max(r[2] for r in results)
    print(f"{name:<34} {seconds:7.1f} s  {mib:7.0f} MiB  (median of {runs}, peak)")
    return seconds, mib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spec", default="specs/prod.yaml")
    args = parser.parse_args()
    python = sys.executable
    out = tempfile.mkdtemp(prefix="bench-cdktf-")
    replgen = str(Path(python).parent / "replgen")
    compile_ = [replgen, "compile", args.spec, "--backend", "cdktf", "--out", out]
    for label, cache in (("cold cache", None), ("warm cache", "enabled")):
        env = dict(os.environ)
        cache_root = tempfile.mkdtemp(prefix="bench-jsii-")
        env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = cache_root
        env["JSII_RUNTIME_PACKAGE_CACHE"] = cache or "disabled"
        if cache:  # fill it once, so every measured run starts warm
            subprocess.run([python, "-c", FLOOR], env=env, check=True, cwd=ROOT)
        print(f"-- jsii package cache: {label}")
        floor_s, floor_mib = series(
            "import the provider bindings", [python, "-c", FLOOR], env, args.runs
        )
        full_s, full_mib = series(f"compile {args.spec} --backend cdktf", compile_, env, args.runs)
        ratio = f"{full_s / floor_s:7.2f} x  {full_mib / floor_mib:7.2f} x"
        print(f"{'ratio compile / import':<34} {ratio}")
        shutil.rmtree(cache_root, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
