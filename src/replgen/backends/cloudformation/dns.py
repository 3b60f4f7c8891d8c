"""DNS failover: the public zone and every region's health check (with the primary), and
each site's records: its regional name, and its weight in the name every region answers."""

from __future__ import annotations

from typing import Any

import troposphere as t
from troposphere import route53

from replgen.backends.cloudformation.context import Ctx, tags
from replgen.plan.model import HealthCheck, Record, Site, Zone


def render(ctx: Ctx, site: Site) -> None:
    if site.zone is not None and ctx.owns(site, "zone"):
        with ctx.one(site, site.zone):
            _zone(ctx, site, site.zone)
        for check in ctx.each(site, site.zone.health_checks):
            _health_check(ctx, site, check)
    if site.record is not None and ctx.owns(site, "record"):
        with ctx.one(site, site.record):
            _records(ctx, site, site.record)


def _zone(ctx: Ctx, site: Site, zone: Zone) -> None:
    ctx.add(
        route53.HostedZone(
            ctx.lid(site, "HostedZone"),
            Name=zone.name,
            HostedZoneConfig=route53.HostedZoneConfiguration(Comment=zone.comment),
            HostedZoneTags=tags(ctx.plan, zone.name),
        )
    )


def _health_check(ctx: Ctx, site: Site, check: HealthCheck) -> None:
    ctx.add(
        route53.HealthCheck(
            ctx.component_lid(site, check.key, "HealthCheck"),
            HealthCheckConfig=route53.HealthCheckConfig(
                Type=check.protocol,
                FullyQualifiedDomainName=check.fqdn,
                ResourcePath=check.path,
                Port=check.port,
                RequestInterval=check.interval,
                FailureThreshold=check.failure_threshold,
                EnableSNI=check.sni,
            ),
            HealthCheckTags=tags(ctx.plan, check.name),  # the console lists checks by Name
        )
    )


def _alias(ctx: Ctx, site: Site, evaluate: bool) -> route53.AliasTarget:
    lb = ctx.lid(site, "LoadBalancer")
    return route53.AliasTarget(
        HostedZoneId=t.GetAtt(lb, "CanonicalHostedZoneID"),
        DNSName=t.GetAtt(lb, "DNSName"),
        EvaluateTargetHealth=evaluate,
    )


def _records(ctx: Ctx, site: Site, record: Record) -> None:
    zone: Any = ctx.ref(record.zone_id, site)
    # The name the health check probes: this region alone, healthy or not.
    ctx.add(
        route53.RecordSetType(
            ctx.lid(site, "RegionalRecord"),
            HostedZoneId=zone,
            Name=record.regional_name,
            Type="A",
            AliasTarget=_alias(ctx, site, record.regional_evaluates_health),
        )
    )
    # The name clients use: answered by the healthy regions, by weight.
    ctx.add(
        route53.RecordSetType(
            ctx.lid(site, "WeightedRecord"),
            HostedZoneId=zone,
            Name=record.weighted_name,
            Type="A",
            SetIdentifier=record.set_identifier,
            Weight=record.weight,
            HealthCheckId=ctx.ref(record.health_check, site),
            AliasTarget=_alias(ctx, site, record.weighted_evaluates_health),
        )
    )
