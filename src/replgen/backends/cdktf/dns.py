"""DNS failover: the primary's public zone with a health check per region, and each
site's records (its regional name, and its weight in the shared name) on its ALB."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordWeightedRoutingPolicy,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, skip, snake, tags
from replgen.plan.model import HealthCheck, Record, Site, Zone


class Dns(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        if site.zone is not None and ctx.here(site, "zone"):
            with ctx.one(self, site, site.zone):
                self._zone(site.zone)
        if site.record is not None and ctx.here(site, "record"):
            with ctx.one(self, site, site.record):
                self._records(site.record)

    def _zone(self, plan_zone: Zone) -> None:
        zone = Route53Zone(
            self,
            "zone",
            name=plan_zone.name,
            comment=plan_zone.comment,
            # Destroyable: the validation records other regions wrote go with the zone.
            force_destroy=True,
            tags=tags(plan_zone.name),
        )
        skip(zone, plan_zone.waivers)
        self.ctx.put(self.site, "zone", "id", zone.zone_id)
        self.ctx.put(self.site, "zone", "name_servers", Fn.join(",", zone.name_servers))
        for check in self.ctx.each(self, self.site, plan_zone.health_checks):
            self._health_check(check)

    def _health_check(self, check: HealthCheck) -> None:
        resource = Route53HealthCheck(
            self,
            snake(check.key),
            type=check.protocol,
            fqdn=check.fqdn,
            port=check.port,
            resource_path=check.path,
            request_interval=check.interval,
            failure_threshold=check.failure_threshold,
            enable_sni=check.sni,
            tags=tags(check.name),
        )
        self.ctx.put(self.site, check.key, "id", resource.id)

    def _records(self, record: Record) -> None:
        lb = self.ctx.get(self.site, "load_balancer")
        zone_id = self.ctx.ref(record.zone_id)
        # The name the health check probes: this region alone, healthy or not.
        Route53Record(
            self,
            "regional_record",
            zone_id=zone_id,
            name=record.regional_name,
            type="A",
            alias=Route53RecordAlias(
                name=lb.dns_name,
                zone_id=lb.zone_id,
                evaluate_target_health=record.regional_evaluates_health,
            ),
        )
        alias = Route53RecordAlias(
            name=lb.dns_name,
            zone_id=lb.zone_id,
            evaluate_target_health=record.weighted_evaluates_health,
        )
        Route53Record(
            self,
            "weighted_record",
            zone_id=zone_id,
            name=record.weighted_name,
            type="A",
            set_identifier=record.set_identifier,
            weighted_routing_policy=Route53RecordWeightedRoutingPolicy(weight=record.weight),
            health_check_id=self.ctx.ref(record.health_check),
            alias=alias,
        )
