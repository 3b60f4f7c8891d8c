"""What a CloudFormation compile does not import: the tools and runtimes it has no use for
(cfn-lint and its schemas, the CDKTF bindings and jsii's Node.js runtime, the AWS SDK,
rich's console when nobody watches a terminal) would cost every compile their import; and
what it leaves for the interpreter to do at exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
HEAVY = (
    "boto3",
    "botocore",
    "cdktf",
    "cdktf_cdktf_provider_aws",
    "cfnlint",
    "checkov",
    "constructs",
    "jsii",
    "rich",
)
# What the `replgen` script runs, in a fresh interpreter; then the top-level packages loaded.
SCRIPT = (
    "import sys; from replgen.cli import main; sys.argv[0] = 'replgen'\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
)


def test_a_cloudformation_compile_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    args = ["compile", str(ROOT / "specs" / "prod.yaml"), "--backend", "cloudformation"]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args, "--out", str(tmp_path)],
        capture_output=True,  # stderr is no terminal: progress is plain lines, not rich's
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout.splitlines()[-1].replace("'", '"')))
    assert {"replgen", "troposphere", "pydantic"} <= loaded  # it did compile, here
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    manifest = json.loads((tmp_path / "cloudformation" / "manifest.json").read_text())
    assert manifest["topology"] == "dbrepl"


def test_at_exit_what_is_alive_is_frozen_before_the_shutdown_collections() -> None:
    # atexit runs the last registered first: this check runs after the CLI's own handler.
    script = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "import replgen.cli\n"
        "print('frozen', gc.get_freeze_count() > 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["frozen False", "frozen True"]
