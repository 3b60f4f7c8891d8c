"""The site's alert topic, its email and function subscriptions, and every alarm of the plan."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, snake, tags
from replgen.plan import components
from replgen.plan.model import Alarm, Site


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        with ctx.one(self, site, site.topic):
            topic = self._topic()
        ctx.keep(site, site.topic.key, topic)  # "topic": sync publishes to it
        # An alarm's topic by component key; a site has exactly one topic.
        self.topics = {site.topic.key: topic}
        for alarm in ctx.each(self, site, site.alarms):
            self._alarm(alarm)

    def _topic(self) -> SnsTopic:
        plan_topic = self.site.topic
        topic = SnsTopic(
            self,
            "topic",
            name=plan_topic.name,
            kms_master_key_id=self.ctx.value(plan_topic.kms_key),
            tags=tags(plan_topic.name),
        )
        for email in plan_topic.emails:
            # Named after the address, not its position: reordering the list changes nothing.
            # Terraform cannot confirm an email subscription: it stays pending until the
            # recipient confirms it, and a destroy before that leaves it to expire.
            SnsTopicSubscription(
                self,
                snake("alert", email, "subscription"),
                topic_arn=topic.arn,
                protocol="email",
                endpoint=email,
            )
        for name, function in plan_topic.functions:
            # By ARN, in whatever region: SNS invokes a function across regions, and the
            # function's own permission (in its stack) names this topic.
            SnsTopicSubscription(
                self,
                snake("function", name, "subscription"),
                topic_arn=topic.arn,
                protocol="lambda",
                endpoint=function,
            )
        return topic

    def _alarm(self, alarm: Alarm) -> None:
        topic = self.topics[alarm.topic].arn
        CloudwatchMetricAlarm(
            self,
            snake(components.in_site(self.ctx.plan, self.site, alarm.name), "alarm"),
            alarm_name=alarm.name,
            alarm_description=alarm.description,
            namespace=alarm.namespace,
            metric_name=alarm.metric,
            dimensions={name: self.ctx.value(value) for name, value in alarm.dimensions},
            statistic=alarm.statistic,
            period=alarm.period,
            evaluation_periods=alarm.evaluation_periods,
            threshold=alarm.threshold,
            unit=alarm.unit,
            comparison_operator=alarm.comparison,
            treat_missing_data=alarm.treat_missing,
            actions_enabled=True,
            alarm_actions=[topic],
            ok_actions=[topic],
        )
