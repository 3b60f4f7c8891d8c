"""Transaction processing: the internet-facing ALB (certificate, HTTPS listener, Lambda
target group) in front of txnproc, and the queues' event source mappings."""

from __future__ import annotations

from typing import Any

import troposphere as t
from troposphere import awslambda
from troposphere import certificatemanager as acm
from troposphere import elasticloadbalancingv2 as elb
from troposphere.validators import integer

from replgen.backends.cloudformation.context import Ctx, skipped, tags
from replgen.backends.cloudformation.functions import function_arn, permission_lid
from replgen.plan.model import ApiAuth, EventSource, LoadBalancer, Site


class QueueScaling(awslambda.ScalingConfig):  # type: ignore[misc]
    """EventSourceMapping's ScalingConfig: troposphere's class of that name is shadowed by
    another resource's (MaxEnvironments), so it rejects MaximumConcurrency."""

    props = {"MaximumConcurrency": (integer, True)}  # noqa: RUF012 (troposphere's own shape)


def render(ctx: Ctx, site: Site) -> None:
    if site.load_balancer is not None:
        with ctx.one(site, site.load_balancer):
            _load_balancer(ctx, site, site.load_balancer)
            _certificate(ctx, site, site.load_balancer)
            _target_group(ctx, site, site.load_balancer)
            _listener(ctx, site, site.load_balancer)
    for source in ctx.each(site, site.event_sources):
        _event_source(ctx, site, source)


def _attributes(site: Site, lb: LoadBalancer) -> list[elb.LoadBalancerAttributes]:
    bucket = next(b for b in site.buckets if b.key == lb.access_logs_bucket)
    values = {
        "deletion_protection.enabled": "false",
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "idle_timeout.timeout_seconds": str(lb.idle_timeout),
        "access_logs.s3.enabled": "true",
        # A name known in advance: the bucket is in the site's foundation, deployed first.
        "access_logs.s3.bucket": bucket.name,
        "access_logs.s3.prefix": lb.access_logs_prefix,
    }
    return [elb.LoadBalancerAttributes(Key=k, Value=v) for k, v in values.items()]


def _load_balancer(ctx: Ctx, site: Site, lb: LoadBalancer) -> None:
    ctx.add(
        elb.LoadBalancer(
            ctx.lid(site, "LoadBalancer"),
            Name=lb.name,
            Type="application",
            Scheme="internet-facing",
            IpAddressType="ipv4",
            Subnets=ctx.subnet_ids(site, public=True),
            SecurityGroups=[ctx.security_group(site, "alb")],
            LoadBalancerAttributes=_attributes(site, lb),
            Tags=tags(ctx.plan, lb.name),
            # Internet-facing needs the internet gateway attached to the VPC first.
            DependsOn=[ctx.lid(site, "GatewayAttachment")],
            **skipped(lb.waivers),
        )
    )


def _certificate(ctx: Ctx, site: Site, lb: LoadBalancer) -> None:
    zone = ctx.ref(lb.zone_id, site)
    ctx.add(
        acm.Certificate(
            ctx.lid(site, "Certificate"),
            DomainName=lb.domain,
            SubjectAlternativeNames=list(lb.alternative_names),
            ValidationMethod="DNS",
            KeyAlgorithm=lb.certificate_key_algorithm,
            # CloudFormation writes the validation records into the zone itself.
            DomainValidationOptions=[
                acm.DomainValidationOption(DomainName=name, HostedZoneId=zone)
                for name in (lb.domain, *lb.alternative_names)
            ],
            Tags=tags(ctx.plan, lb.domain),
        )
    )


def _target_group(ctx: Ctx, site: Site, lb: LoadBalancer) -> None:
    ctx.add(
        elb.TargetGroup(
            ctx.lid(site, "TargetGroup"),
            Name=lb.target_group,
            TargetType="lambda",
            Targets=[elb.TargetDescription(Id=function_arn(ctx, site, lb.function))],
            HealthCheckEnabled=True,
            HealthCheckPath=lb.health_check_path,
            Matcher=elb.Matcher(HttpCode=lb.health_check_matcher),
            Tags=tags(ctx.plan, lb.target_group),
            # Registering a function target fails until ELB may invoke it.
            DependsOn=[permission_lid(ctx, site, lb.permission)],
        )
    )


def _listener(ctx: Ctx, site: Site, lb: LoadBalancer) -> None:
    # HTTPS only: no port-80 listener to redirect from, the security group admits 443 alone.
    auth = lb.auth
    forward = elb.Action(Type="forward", TargetGroupArn=t.Ref(ctx.lid(site, "TargetGroup")))
    listener = ctx.lid(site, "HttpsListener")
    ctx.add(
        elb.Listener(
            listener,
            LoadBalancerArn=t.Ref(ctx.lid(site, "LoadBalancer")),
            Port=443,
            Protocol="HTTPS",
            SslPolicy=lb.ssl_policy,
            Certificates=[elb.Certificate(CertificateArn=t.Ref(ctx.lid(site, "Certificate")))],
            DefaultActions=[*_authenticate(auth), forward],
            **_mutual(ctx, site, auth),
        )
    )
    if auth.mode == "oidc":  # Route 53's checkers cannot sign in: /health stays open
        _health_rule(ctx, site, lb, listener, "HealthRule")
    if auth.health_port != 443:  # nor present a client certificate: /health on its own port
        _health_listener(ctx, site, lb)


def _authenticate(auth: ApiAuth) -> list[elb.Action]:
    if auth.oidc is None:
        return []
    o = auth.oidc
    config = elb.AuthenticateOidcConfig(
        Issuer=o.issuer,
        AuthorizationEndpoint=o.authorization_endpoint,
        TokenEndpoint=o.token_endpoint,
        UserInfoEndpoint=o.user_info_endpoint,
        ClientId=o.client_id,
        # Resolved by CloudFormation at deploy time: the secret is never in the template.
        ClientSecret=f"{{{{resolve:secretsmanager:{o.client_secret_arn}:SecretString}}}}",
        OnUnauthenticatedRequest=o.on_unauthenticated,
    )
    return [elb.Action(Type="authenticate-oidc", Order=1, AuthenticateOidcConfig=config)]


def _mutual(ctx: Ctx, site: Site, auth: ApiAuth) -> dict[str, Any]:
    store = auth.trust_store
    if store is None:
        return {}
    lid = ctx.lid(site, "TrustStore")
    ctx.add(
        elb.TrustStore(
            lid,
            Name=store.name,
            CaCertificatesBundleS3Bucket=store.bucket,
            CaCertificatesBundleS3Key=store.key,
            Tags=tags(ctx.plan, store.name),
        )
    )
    mutual = elb.MutualAuthentication(Mode="verify", TrustStoreArn=t.GetAtt(lid, "TrustStoreArn"))
    return {"MutualAuthentication": mutual}


def _health_listener(ctx: Ctx, site: Site, lb: LoadBalancer) -> None:
    lid = ctx.lid(site, "HealthListener")
    not_found = elb.FixedResponseConfig(
        StatusCode=lb.auth.health_port_default_status, ContentType="text/plain"
    )
    ctx.add(
        elb.Listener(
            lid,
            LoadBalancerArn=t.Ref(ctx.lid(site, "LoadBalancer")),
            Port=lb.auth.health_port,
            Protocol="HTTPS",
            SslPolicy=lb.ssl_policy,
            Certificates=[elb.Certificate(CertificateArn=t.Ref(ctx.lid(site, "Certificate")))],
            DefaultActions=[elb.Action(Type="fixed-response", FixedResponseConfig=not_found)],
        )
    )
    _health_rule(ctx, site, lb, lid, "HealthListenerRule")


def _health_rule(ctx: Ctx, site: Site, lb: LoadBalancer, listener: str, name: str) -> None:
    ctx.add(
        elb.ListenerRule(
            ctx.lid(site, name),
            ListenerArn=t.Ref(listener),
            Priority=1,
            Conditions=[
                elb.Condition(
                    Field="path-pattern",
                    PathPatternConfig=elb.PathPatternConfig(Values=[lb.health_check_path]),
                ),
                elb.Condition(
                    Field="http-request-method",
                    HttpRequestMethodConfig=elb.HttpRequestMethodConfig(
                        Values=[lb.auth.health_method]
                    ),
                ),
            ],
            Actions=[
                elb.ListenerRuleAction(
                    Type="forward", TargetGroupArn=t.Ref(ctx.lid(site, "TargetGroup"))
                )
            ],
        )
    )


def _event_source(ctx: Ctx, site: Site, source: EventSource) -> None:
    ctx.add(
        awslambda.EventSourceMapping(
            ctx.component_lid(site, source.key, "EventSourceMapping"),
            EventSourceArn=t.GetAtt(ctx.component_lid(site, source.queue, "Queue"), "Arn"),
            FunctionName=t.Ref(ctx.component_lid(site, source.function, "Function")),
            Enabled=True,
            BatchSize=source.batch_size,
            MaximumBatchingWindowInSeconds=source.batching_window_seconds,
            # Only the failed messages of a batch are retried, not the whole batch.
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig=QueueScaling(MaximumConcurrency=source.max_concurrency),
        )
    )
