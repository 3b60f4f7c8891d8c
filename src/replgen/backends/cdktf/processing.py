"""Transaction processing: the site's internet-facing ALB (HTTPS only, its certificate
validated by DNS in the primary's zone) forwarding to txnproc, and the queue txnproc reads.
"""

from __future__ import annotations

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_version import (
    DataAwsSecretsmanagerSecretVersion,
)
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionAuthenticateOidc,
    LbListenerDefaultActionFixedResponse,
    LbListenerMutualAuthentication,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpRequestMethod,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.lb_trust_store import LbTrustStore
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, skip, snake, tags
from replgen.plan.model import ApiAuth, EventSource, LoadBalancer, Site


class Processing(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        if site.load_balancer is not None:
            with ctx.one(self, site, site.load_balancer):
                self._load_balancer(site.load_balancer)
        for source in ctx.each(self, site, site.event_sources):
            self._event_source(source)

    # ------------------------------------------------------------ the load balancer

    def _load_balancer(self, plan_lb: LoadBalancer) -> None:
        ctx, site = self.ctx, self.site
        # By name, as CloudFormation does: the bucket is in the site's foundation, which
        # deploys before this stack whatever it reads.
        logs = next(b.name for b in site.buckets if b.key == plan_lb.access_logs_bucket)
        lb = Lb(
            self,
            "load_balancer",
            name=plan_lb.name,
            internal=False,
            load_balancer_type="application",
            subnets=[s.id for s in ctx.get(site, "subnets:public")],
            security_groups=[ctx.get(site, "sg:alb").id],
            drop_invalid_header_fields=True,
            idle_timeout=plan_lb.idle_timeout,
            enable_deletion_protection=False,
            access_logs=LbAccessLogs(bucket=logs, prefix=plan_lb.access_logs_prefix, enabled=True),
            tags=tags(plan_lb.name),
        )
        skip(lb, plan_lb.waivers)
        ctx.keep(site, "load_balancer", lb)
        ctx.put(site, "load_balancer", "dns_name", lb.dns_name)
        ctx.put(site, "load_balancer", "arn", lb.arn)
        target_group = self._target_group(plan_lb)
        certificate = self._certificate(plan_lb)
        forward = LbListenerDefaultAction(type="forward", target_group_arn=target_group.arn)
        auth = plan_lb.auth
        listener = LbListener(
            self,
            "https_listener",
            load_balancer_arn=lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=plan_lb.ssl_policy,
            certificate_arn=certificate.certificate_arn,
            default_action=[*self._authenticate(auth), forward],
            mutual_authentication=self._mutual(auth),
            tags=tags(plan_lb.name),
        )
        if auth.mode == "oidc":  # Route 53's checkers cannot sign in: /health stays open
            self._health_rule(plan_lb, listener, target_group, "health_rule")
        if auth.health_port != 443:  # nor present a client certificate: its own port
            health = LbListener(
                self,
                "health_listener",
                load_balancer_arn=lb.arn,
                port=auth.health_port,
                protocol="HTTPS",
                ssl_policy=plan_lb.ssl_policy,
                certificate_arn=certificate.certificate_arn,
                default_action=[
                    LbListenerDefaultAction(
                        type="fixed-response",
                        fixed_response=LbListenerDefaultActionFixedResponse(
                            content_type="text/plain",
                            status_code=auth.health_port_default_status,
                        ),
                    )
                ],
                tags=tags(plan_lb.name),
            )
            self._health_rule(plan_lb, health, target_group, "health_listener_rule")

    def _authenticate(self, auth: ApiAuth) -> list[LbListenerDefaultAction]:
        if auth.oidc is None:
            return []
        o = auth.oidc
        # ELB takes the secret itself: Terraform reads it at plan time (it is in the state,
        # marked sensitive; CloudFormation resolves it at deploy time instead).
        secret = DataAwsSecretsmanagerSecretVersion(
            self, "oidc_client_secret", secret_id=o.client_secret_arn
        )
        config = LbListenerDefaultActionAuthenticateOidc(
            issuer=o.issuer,
            authorization_endpoint=o.authorization_endpoint,
            token_endpoint=o.token_endpoint,
            user_info_endpoint=o.user_info_endpoint,
            client_id=o.client_id,
            client_secret=secret.secret_string,
            on_unauthenticated_request=o.on_unauthenticated,
        )
        return [
            LbListenerDefaultAction(type="authenticate-oidc", order=1, authenticate_oidc=config)
        ]

    def _mutual(self, auth: ApiAuth) -> LbListenerMutualAuthentication | None:
        plan_store = auth.trust_store
        if plan_store is None:
            return None
        store = LbTrustStore(
            self,
            "trust_store",
            name=plan_store.name,
            ca_certificates_bundle_s3_bucket=plan_store.bucket,
            ca_certificates_bundle_s3_key=plan_store.key,
            tags=tags(plan_store.name),
        )
        return LbListenerMutualAuthentication(mode="verify", trust_store_arn=store.arn)

    def _health_rule(
        self, plan_lb: LoadBalancer, listener: LbListener, group: LbTargetGroup, id: str
    ) -> None:
        LbListenerRule(
            self,
            id,
            listener_arn=listener.arn,
            priority=1,
            condition=[
                LbListenerRuleCondition(
                    path_pattern=LbListenerRuleConditionPathPattern(
                        values=[plan_lb.health_check_path]
                    )
                ),
                LbListenerRuleCondition(
                    http_request_method=LbListenerRuleConditionHttpRequestMethod(
                        values=[plan_lb.auth.health_method]
                    )
                ),
            ],
            action=[LbListenerRuleAction(type="forward", target_group_arn=group.arn)],
        )

    def _target_group(self, plan_lb: LoadBalancer) -> LbTargetGroup:
        function = self.ctx.get(self.site, plan_lb.function)
        group = LbTargetGroup(
            self,
            "target_group",
            name=plan_lb.target_group,
            target_type="lambda",
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=plan_lb.health_check_path, matcher=plan_lb.health_check_matcher
            ),
            tags=tags(plan_lb.target_group),
        )
        LbTargetGroupAttachment(
            self,
            "target",
            target_group_arn=group.arn,
            target_id=function.arn,
            # ELB checks it may invoke the function when it is registered.
            depends_on=[self.ctx.get(self.site, plan_lb.permission)],
        )
        return group

    # ------------------------------------------------------------ the certificate

    def _certificate(self, plan_lb: LoadBalancer) -> AcmCertificateValidation:
        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=plan_lb.domain,
            subject_alternative_names=list(plan_lb.alternative_names),
            validation_method="DNS",
            key_algorithm=plan_lb.certificate_key_algorithm,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            tags=tags(plan_lb.domain),
        )
        # One record per name to validate, keyed by the name: ACM gives the records only
        # once the certificate is requested, so they are iterated at apply time.
        options = TerraformIterator.from_complex_list(
            certificate.domain_validation_options, "domain_name"
        )
        records = Route53Record(
            self,
            "certificate_validation_records",
            for_each=options,
            zone_id=self.ctx.ref(plan_lb.zone_id),
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
            # Every region's certificate names the shared weighted record, and ACM gives
            # one account the same validation record for a name: whoever writes it first
            # serves all of them.
            allow_overwrite=True,
        )
        return AcmCertificateValidation(
            self,
            "certificate_validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=_fqdns(records),
        )

    # ------------------------------------------------------------ the queue

    def _event_source(self, source: EventSource) -> None:
        LambdaEventSourceMapping(
            self,
            snake(source.key),
            function_name=self.ctx.get(self.site, source.function).arn,
            event_source_arn=self.ctx.get(self.site, source.queue).arn,
            batch_size=source.batch_size,
            maximum_batching_window_in_seconds=source.batching_window_seconds,
            # A failed message is retried alone, not with the batch that carried it.
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=LambdaEventSourceMappingScalingConfig(
                maximum_concurrency=source.max_concurrency
            ),
        )


def _fqdns(records: Route53Record) -> list[str]:
    """Every validation record's name: `[for r in aws_route53_record.x : r.fqdn]`."""
    return Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn"))
