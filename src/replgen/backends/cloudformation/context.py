"""One template being rendered: logical ids, and plan values turned into CloudFormation.

A `Ref` to a component of the site being rendered becomes a Ref/GetAtt; a Ref
to another site becomes a stack parameter that the manifest feeds from that
site's output (or, in the single layout, a Ref/GetAtt again). A site with a
foundation is two templates: a Ref from one to the other's components is a stack
parameter too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import troposphere as t
from troposphere import logs

from replgen.backends import checkov
from replgen.backends.provenance import Origin
from replgen.plan import components, iam
from replgen.plan import tags as plan_tags
from replgen.plan.model import Join, LogGroup, Plan, Ref, Role, Site, Statement, Value
from replgen.plan.waivers import Waived

T = TypeVar("T", bound=components.Component)


def camel(*parts: str) -> str:
    """`("prod/us-east-1", "private-1")` -> `ProdUsEast1Private1`: a valid logical id."""
    words = re.split(r"[^A-Za-z0-9]+", "-".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def output_name(ref: Ref) -> str:
    return camel(components.slug(ref.component), ref.attr)


# (component, attr) -> how a site's own template reads it. Keyed by the plan's vocabulary.
LOCAL: dict[tuple[str, str], Callable[[Ctx, Site], Any]] = {
    ("vpc", "id"): lambda c, s: t.Ref(c.lid(s, "Vpc")),
    ("private_route_table", "id"): lambda c, s: t.Ref(c.lid(s, "PrivateRouteTable")),
    ("cluster", "arn"): lambda c, s: t.GetAtt(c.lid(s, "Cluster"), "DBClusterArn"),
    ("cluster", "endpoint"): lambda c, s: t.GetAtt(c.lid(s, "Cluster"), "Endpoint.Address"),
    ("cluster", "secret_arn"): lambda c, s: c.secret_arn(s),
    ("cluster", "resource_id"): lambda c, s: t.GetAtt(c.lid(s, "Cluster"), "DBClusterResourceId"),
    ("key", "arn"): lambda c, s: s.key.external_arn or t.GetAtt(c.lid(s, "Key"), "Arn"),
    ("global_cluster", "id"): lambda c, s: t.Ref(c.lid(s, "GlobalCluster")),
    ("zone", "id"): lambda c, s: t.Ref(c.lid(s, "HostedZone")),
    # A list attribute, but stack outputs and parameters are strings.
    ("zone", "name_servers"): lambda c, s: t.Join(
        ",", t.GetAtt(c.lid(s, "HostedZone"), "NameServers")
    ),
    ("load_balancer", "dns_name"): lambda c, s: t.GetAtt(c.lid(s, "LoadBalancer"), "DNSName"),
    ("load_balancer", "arn"): lambda c, s: t.Ref(c.lid(s, "LoadBalancer")),
}
# Components a site has several of ("healthcheck:<slug>"), by kind: their attr given the key.
LOCAL_KINDS: dict[tuple[str, str], Callable[[Ctx, Site, str], Any]] = {
    ("healthcheck", "id"): lambda c, s, key: t.Ref(c.component_lid(s, key, "HealthCheck")),
}


def _local(ctx: Ctx, site: Site, ref: Ref) -> Any:
    if (ref.component, ref.attr) in LOCAL:
        return LOCAL[(ref.component, ref.attr)](ctx, site)
    return LOCAL_KINDS[(components.kind(ref.component), ref.attr)](ctx, site, ref.component)


@dataclass
class Input:
    """A parameter filled at deploy time from another stack's output."""

    stack: str
    output: str
    ref: Ref | None = None  # what it reads; None for the peering connection


@dataclass
class Ctx:
    plan: Plan
    template: t.Template
    single: bool  # every site in this one template
    stack_of: Callable[[Ref], str]  # the stack holding a component (by its site and key)
    inputs: dict[str, Input] = field(default_factory=dict)
    foundation: bool = False  # the template of a site's foundation, not its main stack
    # Logical id -> the components its resource was rendered for (backends/provenance.py).
    provenance: dict[str, Origin] = field(default_factory=dict)
    origin: Origin | None = None  # what the resources being added now are rendered for

    def owns(self, site: Site, key: str) -> bool:
        """Whether component `key` of `site` is rendered into this template."""
        return self.single or (key in site.foundation) == self.foundation

    def is_local(self, ref: Ref, site: Site | None) -> bool:
        if self.single:
            return True
        return site is not None and ref.site == site.id and self.owns(site, ref.component)

    # ------------------------------------------------------------ ids and values

    def lid(self, site: Site | None, *parts: str) -> str:
        """Logical id; prefixed with the site only where several sites share a template."""
        if site is not None and self.single:
            return camel(site.slug, *parts)
        return camel(*parts)

    def add(self, resource: t.BaseAWSObject) -> Any:
        if self.origin is not None:
            self.provenance[resource.title] = self.origin
        return self.template.add_resource(resource)

    # ------------------------------------------------------------ provenance

    @contextmanager
    def part(self, origin: Origin) -> Iterator[None]:
        """Resources added inside are rendered for `origin`."""
        outer, self.origin = self.origin, origin
        try:
            yield
        finally:
            self.origin = outer

    def one(self, site: Site, component: components.Component) -> Any:
        """Resources added inside are rendered for `component` alone."""
        return self.part(Origin(site.id, (component.key,)))

    def each(self, site: Site, items: Iterable[T]) -> Iterator[T]:
        """The components in turn, each one's resources attributed to it alone."""
        for item in items:
            with self.one(site, item):
                yield item

    def value(self, value: Value | Join, site: Site | None) -> Any:
        if isinstance(value, Join):
            return self.sub([self.value(p, site) for p in value.parts])
        if isinstance(value, Ref):
            return self.ref(value, site)
        return value

    def sub(self, parts: list[Any]) -> Any:
        """Fn::Sub of literal text and references (what cfn-lint prefers over Fn::Join)."""
        text, variables = "", dict[str, Any]()
        for part in parts:
            if isinstance(part, str | int):
                text += str(part).replace("${", "${!")
            elif isinstance(part, t.Ref):
                text += "${" + str(part.data["Ref"]) + "}"
            elif isinstance(part, t.GetAtt):
                text += "${" + ".".join(map(str, part.data["Fn::GetAtt"])) + "}"
            else:
                name = f"V{len(variables)}"
                variables[name] = part
                text += "${" + name + "}"
        return t.Sub(text, **variables) if variables else t.Sub(text)

    def ref(self, ref: Ref, site: Site | None) -> Any:
        owner = self.plan.site(ref.site)
        if self.is_local(ref, site):
            return _local(self, owner, ref)
        name = camel(owner.slug, components.slug(ref.component), ref.attr)
        if name not in self.template.parameters:
            self.template.add_parameter(
                t.Parameter(
                    name,
                    Type="String",
                    Description=f"{ref.component} {ref.attr} of {ref.site} (from its stack)",
                )
            )
            self.inputs[name] = Input(self.stack_of(ref), output_name(ref), ref)
        return t.Ref(name)

    def secret_arn(self, site: Site) -> Any:
        if site.database.managed_password:
            return t.GetAtt(self.lid(site, "Cluster"), "MasterUserSecret.SecretArn")
        return t.Ref(self.lid(site, "MasterSecret"))

    # ------------------------------------------------------------ shared logical ids
    # Components read each other's resources only through these, so names agree.

    def subnet_ids(self, site: Site, public: bool = False) -> list[Any]:
        subnets = site.network.public_subnets if public else site.network.private_subnets
        kind = "PublicSubnet" if public else "PrivateSubnet"
        return [t.Ref(self.lid(site, kind, str(s.az_index + 1))) for s in subnets]

    def security_group(self, site: Site, role: str) -> Any:
        return t.GetAtt(self.lid(site, role, "SecurityGroup"), "GroupId")

    def role_lid(self, site: Site, key: str) -> str:
        return self.lid(site, components.name(key), "Role")

    def role_arn(self, site: Site, key: str) -> Any:
        """GetAtt, not the known ARN string, so CloudFormation creates the role first."""
        return t.GetAtt(self.role_lid(site, key), "Arn")

    def component_lid(self, site: Site, key: str, kind: str) -> str:
        """`bucket:migrations` -> `MigrationsBucket`, `queue:replsync-dlq` -> `ReplsyncDlqQueue`."""
        return self.lid(site, components.name(key), kind)

    def topic_arn(self, site: Site) -> Any:
        return t.Ref(self.lid(site, "Topic"))

    # ------------------------------------------------------------ IAM

    def policy(self, statements: tuple[Statement, ...], site: Site) -> dict[str, Any]:
        return iam.policy(statements, lambda v: self.value(v, site))

    def trust(self, role: Role) -> dict[str, Any]:
        return iam.trust(role)


def on_delete(site: Site, kept: str = "Retain") -> dict[str, str]:
    """DeletionPolicy and UpdateReplacePolicy: `kept` (Retain, Snapshot) where the plan
    protects the site, Delete where it is destroyable."""
    policy = kept if site.deletion_protection else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


def emptied_tag(site: Site, component: str) -> dict[str, str]:
    """The tag that lets the site's emptier empty `component` ("bucket:<name>", "vault") when
    its stack is deleted; none where the site is protected."""
    for emptier in site.emptiers:
        if component in emptier.buckets or (component == "vault" and emptier.vault):
            key, value = emptier.tag
            return {key: value}
    return {}


def skipped(waived: tuple[Waived, ...], **metadata: Any) -> dict[str, Any]:
    """A resource's Metadata: `metadata`, and the checkov checks the plan's waivers skip,
    each with its reason; nothing where both are empty."""
    checks = checkov.skips("cloudformation", waived)
    if checks:
        metadata["checkov"] = {"skip": checks}
    return {"Metadata": metadata} if metadata else {}


def log_group(ctx: Ctx, site: Site, lid: str, group: LogGroup, **extra: Any) -> None:
    """A log group of the plan: its retention, encrypted with the key it names, deleted with
    its stack."""
    ctx.add(
        logs.LogGroup(
            lid,
            LogGroupName=group.name,
            RetentionInDays=group.retention_days,
            KmsKeyId=ctx.value(group.kms_key, site),
            Tags=tags(ctx.plan),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            **skipped(group.waivers),
            **extra,
        )
    )


def tags(plan: Plan, name: str | None = None, **extra: str) -> t.Tags:
    return t.Tags(**plan_tags.resource(plan.tags, name, **extra))


def tag_map(plan: Plan, **extra: str) -> dict[str, str]:
    """The plan's tags where a property takes a mapping (Backup, the parameters' resource)."""
    return plan_tags.resource(plan.tags, **extra)
