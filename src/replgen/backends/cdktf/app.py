"""The CDKTF app: stacks per account and region, a stack per peering, synthesised to files.

A site with a foundation (its key, buckets and replication role) builds it in a stack of
its own, `<name>-<suffix>-<slug>-foundation`, deployed before the stacks reading it.

Importing this module loads the AWS provider bindings (the slow part); the package's
`__init__` imports it only when the backend runs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdktf import App, LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
)
from constructs import Construct

from replgen import jsontext
from replgen.backends.cdktf import (
    backup,
    database,
    escape,
    failover,
    keys,
    migrations,
    monitoring,
    network,
    parameters,
    peering,
    processing,
    roles,
    sessions,
    sync,
    waf,
)
from replgen.backends.cdktf.context import Ctx, output_name, state_key
from replgen.backends.cdktf.sync import ARTIFACT_VARIABLE
from replgen.plan import tags as plan_tags
from replgen.plan.model import Plan, Ref, Site

# One Construct per component, in the order they read each other's values.
COMPONENTS: tuple[Callable[[Construct, str, Ctx, Site], Construct], ...] = (
    roles.Roles,
    keys.Keys,
    network.Network,
    database.Database,
    parameters.Parameters,
    migrations.Migrations,
    monitoring.Monitoring,
    sync.Sync,
    processing.Processing,
    waf.Waf,
    failover.Failover,
    sessions.Sessions,
    backup.Backup,
)
# What a foundation stack builds; each of these renders only the components its stack holds.
FOUNDATION: tuple[Callable[[Construct, str, Ctx, Site], Construct], ...] = (
    roles.Roles,
    keys.Keys,
    migrations.Migrations,
    failover.Failover,
)


DEPLOY_MANIFEST = "deploy.json"  # replgen's own: cdktf owns manifest.json


def stack_name(plan: Plan, *parts: str) -> str:
    return "-".join((plan.name, plan.suffix, *parts))


def groups(plan: Plan) -> dict[str, tuple[Site, ...]]:
    """Sites by stack: every site sharing an account and region shares a stack, named
    after the account's alias and the region, so adding or removing a site never renames
    it (a renamed stack is a new state: everything in it would be created again)."""
    by_place: dict[str, list[Site]] = {}
    for site in plan.sites:
        by_place.setdefault(stack_name(plan, site.account_alias, site.region), []).append(site)
    return {name: tuple(sites) for name, sites in by_place.items()}


def foundation_name(plan: Plan, site: Site) -> str:
    return stack_name(plan, site.slug, "foundation")


def provider(
    stack: TerraformStack, plan: Plan, site: Site, alias: str | None = None
) -> AwsProvider:
    assume = (
        [AwsProviderAssumeRole(role_arn=site.deploy_role_arn, session_name=f"replgen-{plan.name}")]
        if site.deploy_role_arn
        else None
    )
    return AwsProvider(
        stack,
        f"aws_{alias}" if alias else "aws",
        region=site.region,
        alias=alias,
        allowed_account_ids=[site.account_id],  # a wrong profile fails before it changes anything
        assume_role=assume,
        default_tags=[AwsProviderDefaultTags(tags=plan_tags.resource(plan.tags))],
    )


def backend(stack: TerraformStack, plan: Plan, name: str) -> None:
    if plan.state.kind == "s3":
        S3Backend(
            stack,
            bucket=str(plan.state.bucket),
            key=state_key(plan, name),
            region=plan.state.region,
            encrypt=True,
        )
        # S3-native locking (Terraform 1.10+): no DynamoDB table to create beforehand.
        # The Python binding of cdktf 0.21 has no parameter for it yet.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
    else:
        LocalBackend(stack, path="terraform.tfstate")


class Stacks:
    """Every stack of a plan, built in one app."""

    def __init__(self, plan: Plan, outdir: str) -> None:
        self.plan = plan
        self.app = App(outdir=outdir, skip_validation=False)
        self.stack_of_site: dict[str, str] = {}
        self.contexts: list[Ctx] = []
        # stack -> the site whose account and region it deploys in
        self.places: dict[str, Site] = {}
        grouped = groups(plan)
        for name, sites in grouped.items():
            for site in sites:
                self.stack_of_site[site.id] = name
        for site in plan.sites:
            if site.foundation:
                self.contexts.append(self._foundation_stack(site))
        for name, sites in grouped.items():
            self.contexts.append(self._site_stack(name, sites))
        for p in plan.peerings:
            self.contexts.append(self._peering_stack(p))
        by_name = {c.name: c for c in self.contexts}
        self._outputs(by_name)
        for ctx in self.contexts:
            for other in sorted(ctx.remotes):
                ctx.stack.add_dependency(by_name[other].stack)

    def stack_of(self, site_id: str, component: str) -> str:
        site = self.plan.site(site_id)
        if component in site.foundation:
            return foundation_name(self.plan, site)
        return self.stack_of_site[site_id]

    def _new(self, name: str) -> Ctx:
        stack = TerraformStack(self.app, name)
        backend(stack, self.plan, name)
        return Ctx(self.plan, stack, name, self.stack_of)

    def _foundation_stack(self, site: Site) -> Ctx:
        ctx = self._new(foundation_name(self.plan, site))
        self.places[ctx.name] = site
        provider(ctx.stack, self.plan, site)
        scope = Construct(ctx.stack, site.slug)
        for component in FOUNDATION:
            component(scope, component.__name__.lower(), ctx, site)
        return ctx

    def _site_stack(self, name: str, sites: tuple[Site, ...]) -> Ctx:
        ctx = self._new(name)
        self.places[name] = sites[0]
        provider(ctx.stack, self.plan, sites[0])
        # Component by component across the stack's sites, so a site can read another's
        # values whatever their order in the spec.
        scopes = {s.id: Construct(ctx.stack, s.slug) for s in sites}
        for component in COMPONENTS:
            for site in sites:
                component(scopes[site.id], component.__name__.lower(), ctx, site)
        for site in sites:
            for output, value in site.outputs:
                # For the people deploying: the stack's own values, by the plan's names.
                TerraformOutput(ctx.stack, output, value=ctx.value(value), sensitive=False)
        return ctx

    def _outputs(self, by_name: dict[str, Ctx]) -> None:
        """An output for every value another stack reads: the plan's exports, and the
        foundation values the site's own stack reads (the plan has no ref for those)."""
        wanted: set[Ref] = {ref for site in self.plan.sites for ref in site.exports}
        wanted |= {ref for pause in self.plan.pauses for ref in pause.show}
        for ctx in self.contexts:
            wanted |= ctx.reads
        for ref in sorted(wanted, key=lambda r: (r.site, r.component, r.attr)):
            producer = by_name[self.stack_of(ref.site, ref.component)]
            TerraformOutput(
                producer.stack,
                output_name(ref, self.plan),
                value=producer.ref(ref),
                sensitive=False,
            )

    def _peering_stack(self, p: Any) -> Ctx:
        ctx = self._new(stack_name(self.plan, "peering", p.id))
        requester, accepter = self.plan.site(p.requester), self.plan.site(p.accepter)
        self.places[ctx.name] = requester
        provider(ctx.stack, self.plan, requester)
        other = None
        if (requester.account_id, requester.region) != (accepter.account_id, accepter.region):
            other = provider(ctx.stack, self.plan, accepter, alias="accepter")
        peering.Peering(ctx.stack, "peering", ctx, p, other)
        return ctx


def _order(stacks: Stacks) -> list[Ctx]:
    """Every stack after the stacks whose state it reads."""
    done: list[Ctx] = []
    while len(done) < len(stacks.contexts):
        names = {c.name for c in done}
        done += [c for c in stacks.contexts if c not in done and set(c.remotes) <= names]
    return done


def deploy_manifest(stacks: Stacks, plan: Plan) -> dict[str, Any]:
    """What `replgen deploy --backend cdktf` needs beyond cdktf's manifest: where each stack
    goes, where its variables come from, and where to stop for a human. replgen reads it,
    not Terraform: its text is the plan's as is."""
    entries = []
    for ctx in _order(stacks):
        site = stacks.places[ctx.name]
        boot = plan.bootstrap_for(site)
        variables = {}
        if ctx.stack.node.try_find_child(ARTIFACT_VARIABLE) is not None:
            variables[ARTIFACT_VARIABLE] = {"bootstrap": boot.slug, "value": boot.bucket}
        entries.append(
            {
                "name": ctx.name,
                "directory": f"stacks/{ctx.name}",
                "account": site.account_id,
                "region": site.region,
                "depends_on": sorted(ctx.remotes),
                "variables": variables,
            }
        )
    return {
        "topology": plan.name,
        "suffix": plan.suffix,
        "deploy": "`replgen bootstrap` first; then in order: terraform init && terraform apply",
        "bootstrap": [
            {
                "slug": b.slug,
                "account": b.account_id,
                "region": b.region,
                "bucket": b.bucket,
                "deploy_role": b.deploy_role,
            }
            for b in plan.bootstrap
        ],
        "artifacts": {
            "prefix": plan.bootstrap[0].artifact_prefix if plan.bootstrap else "",
            "zips": sorted({f.code.filename for s in plan.sites for f in s.functions}),
        },
        "pauses": [
            {
                "after": stacks.stack_of(p.site, p.component),
                "reason": p.reason,
                "show": [
                    {"stack": stacks.stack_of(r.site, r.component), "output": output_name(r, plan)}
                    for r in p.show
                ],
            }
            for p in plan.pauses
        ],
        "stacks": entries,
    }


def _with_data_skips(document: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    for (kind, lid), skips in ctx.data_skips.items():
        document["data"][kind][lid]["//"]["checkov"] = {"skip": skips}
    return document


def _json(document: object) -> bytes:
    return (jsontext.dumps(document) + "\n").encode()


def cdktf_json(plan: Plan, recompile: str) -> dict[str, Any]:
    return {
        "language": "python",
        # The stacks are already synthesised here: `cdktf deploy --skip-synth` uses them;
        # without the flag, the app only verifies they are fresh against the spec.
        "app": f"replgen compile --check --backend cdktf {recompile}".strip(),
        "output": ".",
        "projectId": f"replgen-{plan.name}-{plan.suffix}",
        "sendCrashReports": "false",
        "terraformProviders": [],
        "terraformModules": [],
        "context": {},
    }


def synthesize(plan: Plan, recompile: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="replgen-cdktf-") as outdir:
        stacks = Stacks(escape.plan(plan), outdir)  # every plan string a Terraform literal
        stacks.app.synth()
        root = Path(outdir)
        contexts = {f"stacks/{c.name}/cdk.tf.json": c for c in stacks.contexts}
        files: dict[str, bytes] = {}
        for path in sorted(root.rglob("*.json")):
            name = path.relative_to(root).as_posix()
            document = json.loads(path.read_text())
            if name in contexts:
                document = _with_data_skips(document, contexts[name])
            files[name] = _json(document)
    files["cdktf.json"] = _json(cdktf_json(plan, recompile))
    files[DEPLOY_MANIFEST] = _json(deploy_manifest(stacks, plan))
    return files
