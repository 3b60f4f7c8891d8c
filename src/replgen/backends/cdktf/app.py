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
    buckets,
    database,
    dns,
    escape,
    functions,
    keys,
    monitoring,
    network,
    parameters,
    peering,
    processing,
    roles,
    sessions,
    waf,
)
from replgen.backends.cdktf.context import Ctx, output_name, state_key
from replgen.backends.cdktf.functions import ARTIFACT_VARIABLE
from replgen.backends.provenance import Origin, Rendered, kinds_of, window
from replgen.plan import model
from replgen.plan import tags as plan_tags
from replgen.plan.layout import PER_PLACE, StackSlot, check_reads, lay_out
from replgen.plan.model import Peering, Plan, Site

Renderer = Callable[[Construct, str, Ctx, Site], Construct]
# The Construct building each kind of component (plan/components.py); each builds a site's
# components of its kinds, in this order (the order they read each other's values).
RENDERERS: dict[type, Renderer] = {
    model.Role: roles.Roles,
    model.Key: keys.Keys,
    model.Network: network.Network,
    model.Database: database.Database,
    model.Parameter: parameters.Parameters,
    model.Bucket: buckets.Buckets,
    model.Topic: monitoring.Monitoring,
    model.Alarm: monitoring.Monitoring,
    model.Queue: functions.Functions,
    model.Function: functions.Functions,
    model.StateMachine: functions.Functions,
    model.Schedule: functions.Functions,
    model.Permission: functions.Functions,
    model.Invocation: functions.Functions,
    model.LoadBalancer: processing.Processing,
    model.EventSource: processing.Processing,
    model.WebAcl: waf.Waf,
    model.Zone: dns.Dns,
    model.HealthCheck: dns.Dns,
    model.Record: dns.Dns,
    model.GlobalTable: sessions.Sessions,
    model.BackupPlan: backup.Backup,
}
# Kinds this backend builds nothing for, and why.
NOT_RENDERED: dict[type, str] = {
    model.Emptier: "force_destroy on buckets and vaults empties them on destroy",
    model.ParameterWriter: "aws_ssm_parameter writes SecureString parameters itself",
    model.Invoker: "aws_lambda_invocation invokes the function and waits for it itself",
}
COMPONENTS = tuple(dict.fromkeys(RENDERERS.values()))
KINDS = kinds_of(RENDERERS)
# The construct id of each renderer: a part of every Terraform address inside it, so it
# never changes when a module or class is renamed (a new address destroys and recreates).
ADDRESS: dict[Renderer, str] = {
    roles.Roles: "roles",
    keys.Keys: "keys",
    network.Network: "network",
    database.Database: "database",
    parameters.Parameters: "parameters",
    buckets.Buckets: "migrations",
    monitoring.Monitoring: "monitoring",
    functions.Functions: "sync",
    processing.Processing: "processing",
    waf.Waf: "waf",
    dns.Dns: "failover",
    sessions.Sessions: "sessions",
    backup.Backup: "backup",
}
# What a foundation stack builds; each of these renders only the components its stack holds.
FOUNDATION: tuple[Renderer, ...] = (
    roles.Roles,
    keys.Keys,
    buckets.Buckets,
    dns.Dns,
)


DEPLOY_MANIFEST = "deploy.json"  # replgen's own: cdktf owns manifest.json


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
    """Every stack of the plan's layout, built in one app."""

    def __init__(self, plan: Plan, outdir: str) -> None:
        self.plan = plan
        self.layout = lay_out(plan, PER_PLACE)
        self.app = App(outdir=outdir, skip_validation=False)
        self.contexts = [self._stack(slot) for slot in self.layout.stacks]
        self.slots = {slot.name: slot for slot in self.layout.stacks}
        by_name = {c.name: c for c in self.contexts}
        for ctx in self.contexts:
            check_reads(self.layout, ctx.name, ctx.reads)
        self._outputs(by_name)
        for ctx in self.contexts:
            for other in self.layout.depends(ctx.name):
                ctx.stack.add_dependency(by_name[other].stack)

    def _stack(self, slot: StackSlot) -> Ctx:
        stack = TerraformStack(self.app, slot.name)
        backend(stack, self.plan, slot.name)
        ctx = Ctx(self.plan, stack, slot.name, self.layout.stack_of)
        provider(stack, self.plan, slot.sites[0])
        if slot.peering is not None:
            self._peering(ctx, slot.peering)
        elif slot.kind == "foundation":
            scope = Construct(stack, slot.sites[0].slug)
            for component in FOUNDATION:
                _render(scope, component, ctx, slot.sites[0])
        else:
            self._sites(ctx, slot.sites)
        return ctx

    def _sites(self, ctx: Ctx, sites: tuple[Site, ...]) -> None:
        # Component by component across the stack's sites, so a site can read another's
        # values whatever their order in the spec.
        scopes = {s.id: Construct(ctx.stack, s.slug) for s in sites}
        for component in COMPONENTS:
            for site in sites:
                _render(scopes[site.id], component, ctx, site)
        for site in sites:
            for output, value in site.outputs:
                # For the people deploying: the stack's own values, by the plan's names.
                TerraformOutput(ctx.stack, output, value=ctx.value(value), sensitive=False)

    def _outputs(self, by_name: dict[str, Ctx]) -> None:
        """Each stack outputs what other stacks read from it and what a pause after it shows
        the people deploying (`Layout.outputs`)."""
        for name, producer in by_name.items():
            for ref in self.layout.outputs(name):
                TerraformOutput(
                    producer.stack,
                    output_name(ref, self.plan),
                    value=producer.ref(ref),
                    sensitive=False,
                )

    def _peering(self, ctx: Ctx, p: Peering) -> None:
        requester, accepter = self.plan.site(p.requester), self.plan.site(p.accepter)
        other = None
        if (requester.account_id, requester.region) != (accepter.account_id, accepter.region):
            other = provider(ctx.stack, self.plan, accepter, alias="accepter")
        built = peering.Peering(ctx.stack, "peering", ctx, p, other)
        ctx.attribute(built, Origin(None, (f"peering:{p.id}",)))


def _render(scope: Construct, renderer: Renderer, ctx: Ctx, site: Site) -> None:
    """What the renderer builds, attributed to the components it was called for (where
    it names no narrower one)."""
    built = renderer(scope, ADDRESS[renderer], ctx, site)
    ctx.attribute(built, window(site, KINDS.get(renderer, ())))


def _order(stacks: Stacks) -> list[Ctx]:
    """Every stack after the stacks whose state it reads, in the layout's order."""
    by_name = {c.name: c for c in stacks.contexts}
    return [by_name[n] for n in stacks.layout.deploy_order()]


def deploy_manifest(stacks: Stacks, plan: Plan) -> dict[str, Any]:
    """What `replgen deploy --backend cdktf` needs beyond cdktf's manifest: where each stack
    goes, where its variables come from, and where to stop for a human. replgen reads it,
    not Terraform: its text is the plan's as is."""
    entries = []
    for ctx in _order(stacks):
        site = stacks.slots[ctx.name].sites[0]
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
                "depends_on": stacks.layout.depends(ctx.name),
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
                "after": stacks.layout.stack_of(p.site, p.component),
                "reason": p.reason,
                "show": [
                    {
                        "stack": stacks.layout.stack_of(r.site, r.component),
                        "output": output_name(r, plan),
                    }
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


def synthesize(plan: Plan, recompile: str) -> Rendered:
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
    return Rendered(files, {name: ctx.provenance for name, ctx in contexts.items()})
