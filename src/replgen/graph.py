"""`replgen graph`: the topology as a diagram.

Accounts and regions are nested groups; each site shows its CIDR and cluster; edges are
the peerings (with the one port they pass), the sync flow (the schema promotion chain and
reference data along its chain, each target from the one before it) and disaster-recovery
replication from the primary region to the others. One neutral `Diagram`, two text
renderers (Mermaid, which GitHub and most editors draw, and Graphviz dot), and SVG through
Graphviz's `dot`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from replgen.errors import UsageError
from replgen.plan.model import Plan, Site
from replgen.plan.sync import reference_routes
from replgen.spec.models import Spec

EdgeKind = Literal["peering", "promote", "reference", "replication"]
FORMATS = ("mermaid", "dot", "svg")


@dataclass(frozen=True)
class Node:
    id: str
    lines: tuple[str, ...]


@dataclass
class Group:
    id: str
    label: str
    nodes: list[Node] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str


@dataclass(frozen=True)
class Diagram:
    title: str
    groups: tuple[Group, ...]
    edges: tuple[Edge, ...]


def _id(*parts: str) -> str:
    # Prefixed: a bare site id could be a Mermaid keyword (`end`, `graph`).
    return "n_" + "_".join(re.sub(r"[^A-Za-z0-9_]", "_", p) for p in parts)


def diagram(spec: Spec, plan: Plan) -> Diagram:
    """The topology of a validated spec and its plan."""
    aliases = {account_id: alias for alias, account_id in spec.accounts.items()}
    accounts: dict[str, Group] = {}
    for site in plan.sites:
        account = accounts.setdefault(
            site.account_id,
            Group(
                _id("account", site.account_id),
                f"account {aliases.get(site.account_id, '')} ({site.account_id})",
            ),
        )
        region = next((g for g in account.groups if g.label == site.region), None)
        if region is None:
            region = Group(_id("account", site.account_id, site.region), site.region)
            account.groups.append(region)
        region.nodes.append(_node(spec, site))
    edges = [
        Edge(_id(p.requester), _id(p.accepter), "peering", f"peering :{p.port}")
        for p in plan.peerings
    ]
    edges += _sync_edges(spec, plan) + _replication_edges(plan)
    return Diagram(f"{plan.name}-{plan.suffix}", tuple(accounts.values()), tuple(edges))


def _node(spec: Spec, site: Site) -> Node:
    db = site.database
    lines = [site.id + (" (production)" if site.production else ""), site.network.cidr]
    lines.append(f"{db.cluster_id}: {db.engine} {db.engine_version}")
    lines.append(f"{len(db.instances)} x {db.instance_class}")
    if db.global_role:
        lines.append(f"global database {db.global_role}")
    if spec.sync and spec.sync.runs_in == site.id:
        lines.append("runs the sync functions")
    return Node(_id(site.id), tuple(lines))


def _primary_site(plan: Plan, env: str) -> str:
    return _id(next(s.id for s in plan.sites if s.environment == env and s.primary))


def _sync_edges(spec: Spec, plan: Plan) -> list[Edge]:
    sync = spec.sync
    if sync is None:
        return []
    edges: list[Edge] = []
    promote = sync.schema_.promote if sync.schema_ else ()
    for i, (a, b) in enumerate(pairwise(promote), 1):
        label = f"schema: promote {i}"
        edges.append(Edge(_primary_site(plan, a), _primary_site(plan, b), "promote", label))
    ref = sync.reference_data
    if ref is not None:
        tables = ", ".join(t.name for t in ref.tables)
        for target, source in reference_routes(spec).items():
            label = f"reference data: {tables}"
            edges.append(
                Edge(_primary_site(plan, source), _primary_site(plan, target), "reference", label)
            )
    return edges


def _replication_edges(plan: Plan) -> list[Edge]:
    """Global Database (and, with it, buckets and sessions) from the primary outwards."""
    edges: list[Edge] = []
    for primary in (s for s in plan.sites if s.database.global_role == "primary"):
        for other in plan.sites:
            if other.environment == primary.environment and other is not primary:
                what = ["global database"]
                what += ["buckets"] if any(b.replication for b in primary.buckets) else []
                what += ["sessions table"] if primary.table else []
                label = f"replicates {', '.join(what)}"
                edges.append(Edge(_id(primary.id), _id(other.id), "replication", label))
    return edges


# ---------------------------------------------------------------- Mermaid

_MERMAID_ARROWS = {
    "peering": "<-->",
    "promote": "-.->",
    "reference": "-.->",
    "replication": "==>",
}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(d: Diagram) -> str:
    lines = ["flowchart LR"]
    for group in d.groups:
        lines += _mermaid_group(group, "  ")
    for e in d.edges:
        arrow = _MERMAID_ARROWS[e.kind]
        lines.append(f'  {e.source} {arrow}|"{_mermaid_text(e.label)}"| {e.target}')
    return "\n".join(lines) + "\n"


def _mermaid_group(group: Group, indent: str) -> list[str]:
    lines = [f'{indent}subgraph {group.id}["{_mermaid_text(group.label)}"]']
    for node in group.nodes:
        label = "<br/>".join(_mermaid_text(line) for line in node.lines)
        lines.append(f'{indent}  {node.id}["{label}"]')
    for inner in group.groups:
        lines += _mermaid_group(inner, indent + "  ")
    lines.append(f"{indent}end")
    return lines


# ---------------------------------------------------------------- Graphviz

_DOT_STYLES = {
    "peering": 'dir=both, color="#555555"',
    "promote": 'style=dashed, color="#1f6feb"',
    "reference": 'style=dotted, color="#1f6feb"',
    "replication": 'penwidth=2, color="#cf222e"',
}


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(d: Diagram) -> str:
    lines = [
        f"digraph {_dot_text(d.title)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for group in d.groups:
        lines += _dot_group(group, "  ")
    for e in d.edges:
        label = _dot_text(e.label)
        lines.append(f"  {e.source} -> {e.target} [label={label}, {_DOT_STYLES[e.kind]}];")
    return "\n".join([*lines, "}"]) + "\n"


def _dot_group(group: Group, indent: str) -> list[str]:
    lines = [
        f"{indent}subgraph cluster_{group.id} {{",
        f"{indent}  label={_dot_text(group.label)};",
    ]
    for node in group.nodes:
        label = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in node.lines)
        lines.append(f'{indent}  {node.id} [label="{label}"];')
    for inner in group.groups:
        lines += _dot_group(inner, indent + "  ")
    lines.append(f"{indent}}}")
    return lines


def svg(d: Diagram) -> str:
    """The diagram drawn by Graphviz; UsageError when `dot` is not installed."""
    program = shutil.which("dot")
    if program is None:
        raise UsageError(
            "svg needs Graphviz's `dot` on PATH (apt install graphviz, brew install graphviz); "
            "--format dot prints the input it would draw, --format mermaid needs nothing",
            "--format",
        )
    drawn = subprocess.run(
        [program, "-Tsvg"], input=dot(d), capture_output=True, text=True, check=True
    )
    return drawn.stdout


def render(d: Diagram, fmt: str) -> str:
    renderers = {"mermaid": mermaid, "dot": dot, "svg": svg}
    return renderers[fmt](d)
