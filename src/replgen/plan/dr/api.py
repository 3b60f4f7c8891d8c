"""The API in front of txnproc: who may call it (mTLS, OIDC or none), the web ACL, the ALB."""

from __future__ import annotations

from typing import Literal

from replgen.plan.arns import account_root
from replgen.plan.components import site_key
from replgen.plan.context import function_logs
from replgen.plan.dr.topology import Topology
from replgen.plan.model import (
    ApiAuth,
    LoadBalancer,
    OidcAuth,
    Place,
    Ref,
    TrustStore,
    WebAcl,
)
from replgen.plan.network import health_port
from replgen.plan.waivers import Waiver, waive

# Where ALB access logs come from: the region's ELB account, for regions opened before
# August 2022; later regions deliver with the log-delivery service principal instead.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}


LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"


SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


# AWS's managed rule groups every API gets: the common rule set (OWASP top risks) and known
# bad inputs (Log4Shell and similar), evaluated after the rate limit.
WAF_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _log_writer(region: str) -> tuple[Literal["AWS", "Service"], str]:
    account = ELB_ACCOUNTS.get(region)
    return ("AWS", account_root(region, account)) if account else ("Service", LOG_DELIVERY)


def _auth(t: Topology, site: Place) -> ApiAuth:
    api = t.api
    if api.auth == "mtls":
        assert api.trust_store is not None  # the rules guarantee it
        bucket, _, key = api.trust_store.removeprefix("s3://").partition("/")
        store = TrustStore(t.name("alb", site, "trust"), bucket, key)
        return ApiAuth("mtls", trust_store=store, health_port=health_port("mtls"))
    if api.auth == "oidc":
        assert api.oidc is not None
        o = api.oidc
        oidc = OidcAuth(
            o.issuer,
            o.authorization_endpoint,
            o.token_endpoint,
            o.user_info_endpoint,
            o.client_id,
            o.client_secret_arn,
        )
        return ApiAuth("oidc", oidc=oidc)
    return ApiAuth("none")


def _web_acl(t: Topology, site: Place) -> WebAcl:
    name = t.name("waf", site, "api")
    return WebAcl(
        name=name,
        rate_limit=t.api.rate_limit,
        managed_rule_groups=WAF_RULE_GROUPS,
        log_group=function_logs(
            t.ctx.namer.check("log", f"aws-waf-logs-{name}"),
            t.ctx.spec.functions.log_retention_days,
            site_key(site.id),
        ),
    )


def api_load_balancer(t: Topology, site: Place) -> LoadBalancer:
    return LoadBalancer(
        name=t.name("alb", site),
        target_group=t.name("alb", site, "tg"),
        function="function:txnproc",
        domain=t.regional(site),
        alternative_names=(t.record,),
        zone_id=Ref(t.primary.id, "zone", "id"),
        ssl_policy=SSL_POLICY,
        idle_timeout=60,
        access_logs_bucket="bucket:access-logs",
        access_logs_prefix="alb",
        log_writer=_log_writer(site.region),
        health_check_path=t.dr.dns.health_check_path,
        permission="permission:txnproc-alb",
        auth=_auth(t, site),
        web_acl=_web_acl(t, site),
        waivers=waive(Waiver.DESTROYABLE_LOAD_BALANCER, Waiver.WAF_BY_ASSOCIATION),
    )
