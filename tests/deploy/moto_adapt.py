"""What moto cannot deploy of our templates, replaced by stand-ins: the one place the
deploy tests bend the output to the emulator.

`for_moto` is tested on its own (test_moto_adapt.py), so that a moto release that learns a
resource type shows up as a failing expectation here, not as silently weaker tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudformation.parsing import get_model_map

# Types moto's CloudFormation lists but cannot create from our templates: an Aurora
# instance (moto looks its engine up among the non-Aurora ones and fails).
BROKEN = frozenset({"AWS::RDS::DBInstance"})
# Properties moto fails on although the type is supported: KMS keys' tags are read with
# the KMS API's TagKey/TagValue names instead of CloudFormation's Key/Value.
DROPPED = {"AWS::KMS::Key": ("Tags",)}
# Attributes of supported types that moto does not return (the output then goes missing).
MISSING_ATTRIBUTES = frozenset({("AWS::Route53::HostedZone", "NameServers")})
STAND_IN = "AWS::SNS::Topic"  # cheap, needs no property, and Ref gives a string


def unsupported(resource: dict[str, Any]) -> bool:
    """Custom resources would run their Lambda in Docker; others moto does not model; a
    cross-account peering moto looks for the peer VPC in the requester's own account."""
    kind = resource["Type"]
    if kind == "AWS::EC2::VPCPeeringConnection":
        return "PeerOwnerId" in resource.get("Properties", {})
    return kind.startswith("Custom::") or kind in BROKEN or kind not in get_model_map()


def _replace(node: Any, stubbed: set[str], lacking: set[tuple[str, str]] = frozenset()) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::GetAtt"}:
            target, attr = _getatt(node["Fn::GetAtt"])
            if target in stubbed:
                return f"stub-{target}-{attr}"
            if (target, attr) in lacking:
                return [f"stub-{target}-{attr}"]
        if set(node) == {"Ref"} and node["Ref"] in stubbed:
            return f"stub-{node['Ref']}"
        if set(node) == {"Fn::Sub"}:
            return {"Fn::Sub": _sub(node["Fn::Sub"], stubbed)}
        return {k: _replace(v, stubbed, lacking) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, stubbed, lacking) for v in node]
    return node


def _getatt(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        target, attr = value.split(".", 1)
        return target, attr
    return str(value[0]), str(value[1])


def _sub(value: Any, stubbed: set[str]) -> Any:
    if isinstance(value, str):
        return _sub_text(value, stubbed)
    text, variables = value
    return [_sub_text(text, stubbed), _replace(variables, stubbed)]


def _sub_text(text: str, stubbed: set[str]) -> str:
    for name in stubbed:
        text = text.replace("${" + name + "}", f"stub-{name}")
        start = "${" + name + "."
        while start in text:
            head, rest = text.split(start, 1)
            attr, tail = rest.split("}", 1)
            text = f"{head}stub-{name}-{attr}{tail}"
    return text


def _routes_through_stubs(document: dict[str, Any], stubbed: set[str]) -> set[str]:
    """Routes through a peering connection that is a stand-in here, or that a stand-in in
    another stack created (its id arrives as a parameter)."""
    names = stubbed | set(document.get("Parameters", {}))
    return {
        lid
        for lid, r in document.get("Resources", {}).items()
        if r["Type"] == "AWS::EC2::Route"
        and r.get("Properties", {}).get("VpcPeeringConnectionId", {}).get("Ref") in names
    }


def _without_dropped(resource: dict[str, Any]) -> dict[str, Any]:
    dropped = DROPPED.get(resource["Type"], ())
    if not dropped:
        return resource
    properties = {k: v for k, v in resource.get("Properties", {}).items() if k not in dropped}
    return {**resource, "Properties": properties}


def for_moto(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with every resource moto cannot create replaced by a stand-in, and every
    attribute read from one replaced by a fixed string (`stub-<resource>-<attribute>`)."""
    stubbed = {lid for lid, r in document.get("Resources", {}).items() if unsupported(r)}
    stubbed |= _routes_through_stubs(document, stubbed)
    resources = {}
    for lid, resource in document.get("Resources", {}).items():
        if lid in stubbed:
            resources[lid] = {"Type": STAND_IN}
            if "DependsOn" in resource:
                resources[lid]["DependsOn"] = resource["DependsOn"]
        else:
            resources[lid] = _replace(_without_dropped(resource), stubbed)
    out = {k: v for k, v in document.items() if k not in ("Resources", "Transform")}
    out["Resources"] = resources
    if "Outputs" in document:
        lacking = {
            (lid, attr)
            for lid, r in document.get("Resources", {}).items()
            for kind, attr in MISSING_ATTRIBUTES
            if r["Type"] == kind
        }
        out["Outputs"] = _replace(document["Outputs"], stubbed, lacking)
    return out


def adapt_folder_bytes(files: dict[str, bytes]) -> dict[str, bytes]:
    """Every template of a compiled CloudFormation folder adapted; the manifest as it is."""
    return {
        name: content
        if name == "manifest.json" or not name.endswith(".json")
        else (json.dumps(for_moto(json.loads(content)), indent=2, sort_keys=True) + "\n").encode()
        for name, content in files.items()
    }


def _undeletable() -> dict[type, Any]:
    """moto classes its CloudFormation creates but cannot delete with their stack (the
    VPC's deletion then fails on them), each with the EC2 call that deletes one."""
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.vpcs import VPCEndPoint

    return {
        RouteTable: _delete_route_table,
        FlowLogs: lambda ec2, r: ec2.delete_flow_logs([r.id]),
        VPCEndPoint: lambda ec2, r: ec2.delete_vpc_endpoints([r.id]),
    }


def _delete_route_table(ec2: Any, table: Any) -> None:
    # After its routes, as CloudFormation orders it: moto retries a failed deletion later
    # in the same pass, but a route whose table is gone can never be deleted.
    if len(table.routes) > 1 or table.associations:
        raise RuntimeError(f"{table.id} still has routes or associations")
    ec2.delete_route_table(table.id)


def lacks_delete(cls: type) -> bool:
    return "delete" not in vars(cls) and "delete_from_cloudformation_json" not in vars(cls)


@contextmanager
def moto_fixes() -> Iterator[None]:
    """What moto's CloudFormation misses in a stack's life, filled in for the tests:

    - ExecuteChangeSet applies the resources but keeps the stack's template and outputs
      from before (empty for a new stack): refresh them as CloudFormation does;
    - route tables, flow logs and VPC endpoints are not deleted with their stack.
    """
    from moto.cloudformation.models import CloudFormationBackend
    from moto.ec2.models import ec2_backends

    original = CloudFormationBackend.execute_change_set

    def execute(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        original(self, change_set_name, stack_name)
        stack = change_set.stack
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    added = []
    for cls, deleter in _undeletable().items():
        if lacks_delete(cls):

            def delete(self: Any, account_id: str, region: str, _d: Any = deleter) -> None:
                _d(ec2_backends[account_id][region], self)

            cls.delete = delete  # type: ignore[attr-defined]
            added.append(cls)
    CloudFormationBackend.execute_change_set = execute  # type: ignore[method-assign]
    try:
        yield
    finally:
        CloudFormationBackend.execute_change_set = original  # type: ignore[method-assign]
        for cls in added:
            del cls.delete  # type: ignore[attr-defined]
