"""Both backends build the same inventory from the same plan, with the same key properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from inventory import cloudformation, terraform
from outputs import SPECS

# What every example builds; a category missing from both would pass parity unnoticed.
EXPECTED = {
    "vpc", "subnet", "route_table", "peering", "acl_rule", "security_group", "security_rule",
    "endpoint", "flow_log", "key", "role", "cluster", "instance", "parameter", "bucket",
    "function", "log_group", "queue", "schedule", "state_machine", "topic", "alarm",
}  # fmt: skip
# And what every disaster-recovery example adds.
DR_EXPECTED = {
    "global_cluster", "secret", "secret_rotation", "load_balancer", "target_group", "listener",
    "certificate", "zone", "health_check", "record", "event_source", "permission", "table",
    "backup_vault", "backup_plan", "backup_selection", "replication_rule", "subscription",
}  # fmt: skip


@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_both_backends_build_the_same_inventory(both: dict[str, Path], spec: str) -> None:
    cfn = cloudformation(both[spec] / "cloudformation")
    tf = terraform(both[spec] / "cdktf")
    dr = spec.startswith("dr")  # no sync there, so no promotion state machine
    expected = (EXPECTED - {"state_machine"}) | DR_EXPECTED if dr else EXPECTED
    assert set(cfn) >= expected, f"CloudFormation builds no {sorted(expected - set(cfn))}"
    for category in sorted(set(cfn) | set(tf)):
        only_cfn = cfn.get(category, {}).keys() - tf.get(category, {}).keys()
        only_tf = tf.get(category, {}).keys() - cfn.get(category, {}).keys()
        assert not only_cfn and not only_tf, (
            f"{category}: only CloudFormation {sorted(only_cfn)}, only Terraform {sorted(only_tf)}"
        )
        assert cfn[category] == tf[category], f"{category}: counts differ"


def test_inventory_refuses_a_type_it_does_not_know(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "s"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text('{"resource": {"aws_glue_job": {"j": {}}}}')
    with pytest.raises(AssertionError, match="aws_glue_job"):
        terraform(tmp_path)
