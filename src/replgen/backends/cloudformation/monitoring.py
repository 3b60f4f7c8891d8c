"""The site's alert topic, its email and function subscriptions, and every alarm of the plan."""

from __future__ import annotations

from typing import Any

from troposphere import cloudwatch, sns

from replgen.backends.cloudformation.context import Ctx, camel, tags
from replgen.plan import components
from replgen.plan.model import Alarm, Site


def render(ctx: Ctx, site: Site) -> None:
    with ctx.one(site, site.topic):
        _topic(ctx, site)
    for alarm in ctx.each(site, site.alarms):
        _alarm(ctx, site, alarm)


def _topic(ctx: Ctx, site: Site) -> None:
    ctx.add(
        sns.Topic(
            ctx.lid(site, "Topic"),
            TopicName=site.topic.name,
            KmsMasterKeyId=ctx.value(site.topic.kms_key, site),
            Tags=tags(ctx.plan, site.topic.name),
        )
    )
    for email in site.topic.emails:
        # Named after the address, not its position: reordering the list changes nothing.
        ctx.add(
            sns.SubscriptionResource(
                ctx.lid(site, "Alert", email, "Subscription"),
                TopicArn=ctx.topic_arn(site),
                Protocol="email",
                Endpoint=email,
            )
        )
    for name, arn in site.topic.functions:
        # A function of another region (failover) may subscribe: an ARN, not a reference.
        ctx.add(
            sns.SubscriptionResource(
                ctx.lid(site, "Alert", name, "Subscription"),
                TopicArn=ctx.topic_arn(site),
                Protocol="lambda",
                Endpoint=arn,
            )
        )


def _topic_arn(ctx: Ctx, site: Site, key: str) -> Any:
    """An alarm's topic, by component key; a site has exactly one topic."""
    topics = {site.topic.key: ctx.topic_arn}
    return topics[key](site)


def alarm_lid(ctx: Ctx, site: Site, name: str) -> str:
    """`dbrepl-prod01-prod-replica-lag` -> `ReplicaLagAlarm`: the site prefix adds nothing."""
    return ctx.lid(site, camel(components.in_site(ctx.plan, site, name)), "Alarm")


def _alarm(ctx: Ctx, site: Site, alarm: Alarm) -> None:
    topic = _topic_arn(ctx, site, alarm.topic)
    ctx.add(
        cloudwatch.Alarm(
            alarm_lid(ctx, site, alarm.name),
            AlarmName=alarm.name,
            AlarmDescription=alarm.description,
            Namespace=alarm.namespace,
            MetricName=alarm.metric,
            Dimensions=[
                cloudwatch.MetricDimension(Name=name, Value=ctx.value(value, site))
                for name, value in alarm.dimensions
            ],
            Statistic=alarm.statistic,
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            Threshold=alarm.threshold,
            Unit=alarm.unit,
            ComparisonOperator=alarm.comparison,
            TreatMissingData=alarm.treat_missing,
            AlarmActions=[topic],
            OKActions=[topic],
        )
    )
