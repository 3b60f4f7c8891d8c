"""DNS failover: the public zone, every region's health check, each member's records."""

from __future__ import annotations

from replgen.plan.dr.topology import Topology
from replgen.plan.model import (
    HealthCheck,
    Place,
    Record,
    Ref,
    Zone,
)
from replgen.plan.network import health_port
from replgen.plan.waivers import Waiver, waive


def hosted_zone(t: Topology) -> Zone:
    checks = tuple(
        HealthCheck(
            key=f"healthcheck:{m.slug}",
            name=t.name("tag", m, "health"),
            fqdn=t.regional(m),
            path=t.dr.dns.health_check_path,
            port=health_port(t.api.auth),
            interval=10,  # fast checks: a region is seen down within 30 s
            failure_threshold=3,
        )
        for m in t.members
    )
    return Zone(
        t.dr.dns.zone,
        f"replgen {t.ctx.namer.prefix}: disaster recovery",
        checks,
        waive(Waiver.NO_DNSSEC, Waiver.NO_QUERY_LOGS),
    )


def zone_keys(t: Topology) -> tuple[str, ...]:
    return ("zone", *(f"healthcheck:{m.slug}" for m in t.members))


def site_records(t: Topology, site: Place) -> Record:
    return Record(
        zone_id=Ref(t.primary.id, "zone", "id"),
        regional_name=t.regional(site),
        weighted_name=t.record,
        set_identifier=site.slug,
        weight=100 if site.primary else 0,
        health_check=Ref(t.primary.id, f"healthcheck:{site.slug}", "id"),
    )


def health_url(t: Topology) -> str:
    """Where the failover function probes the primary: the port Route 53 checks too, since
    under mutual TLS the API's own port refuses a caller without a client certificate (the
    probe would then always fail, and one of the three signals would always say "down")."""
    port = health_port(t.api.auth)
    host = t.regional(t.primary) + ("" if port == 443 else f":{port}")
    return f"https://{host}{t.dr.dns.health_check_path}"
