"""The failover watchdog of the secondary region.

Runs outside any VPC (it must reach the primary's public health URL and the AWS APIs even
when the VPC's endpoints are what broke), every minute from EventBridge (what the RTO rests
on: it needs nothing in the primary's region) and at once from SNS when an alarm of the
primary's region publishes to its topic.

Each run is one **evaluation**. It gathers three independent signals (``evidence``: our
probes of the primary's public ``/health``, Route 53's checkers, and the target cluster's
replication metric in this region's CloudWatch) and judges the primary *down* only when all
three agree. The streak of consecutive down evaluations lives in the sessions table
(``ledger``); any evaluation that is not down resets it. The primary counts as gone only when
the streak holds ``FAILOVER_EVALUATIONS`` evaluations spanning ``FAILOVER_SUSTAIN_SECONDS``.
Then, by ``FAILOVER_MODE``:

- ``automatic``: one invocation (a conditional write decides which) starts the managed
  *unplanned* failover (``AllowDataLoss``: the primary cannot flush its last writes; losing up
  to the replication lag is what the RPO allows);
- ``manual`` (the default): nothing is promoted. The function raises ``FailoverRecommended``
  (a metric an alarm watches), publishes the decision it would take with its evidence and the
  command that carries it out, and repeats that every 15 minutes while the primary stays down.

A human carries a decision out (or drills a planned switchover) by invoking this function with
``{"action": "promote", "global_cluster": "<id>", "to_region": "<this region>"}``: a
switchover (no data loss) when the primary still answers, a failover with data loss only when
it does not. Every decision, with its evidence, goes to the sessions table, SNS and the log.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from txnproc import announce, aws, promote
from txnproc.config import FailoverConfig, load_failover
from txnproc.errors import InvalidEvent
from txnproc.evidence import Evidence, Sleep, probe, replication_view, route53_view
from txnproc.ledger import Ledger, Streak, ledger_key
from txnproc.observe import emit_metrics, log

Clock = Callable[[], datetime]


@dataclass
class Clients:
    rds: Any  # this (the secondary) region's RDS
    route53: Any
    cloudwatch: Any  # this region's: where the target cluster's metrics are
    dynamodb: Any
    sns: Any
    rds_in: Callable[[str], Any]  # RDS of another region (the writer's own, for a promote)

    @classmethod
    def create(cls, config: FailoverConfig) -> Clients:
        return cls(
            rds=aws.client("rds", config.region),
            route53=aws.client("route53", config.region, fast=True),
            cloudwatch=aws.client("cloudwatch", config.region, fast=True),
            dynamodb=aws.client("dynamodb", config.region),
            sns=aws.client("sns", config.region),
            rds_in=lambda region: aws.client("rds", region, fast=True),
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def gather(
    config: FailoverConfig,
    clients: Clients,
    sleep: Sleep,
    moment: datetime,
    writer: str | None,
) -> Evidence:
    probes = probe(config.primary_health_url, config.probes, config.probe_timeout_seconds, sleep)
    return Evidence(
        probes=tuple(probes),
        route53=route53_view(clients.route53, config.health_check_id),
        replication=replication_view(
            clients.cloudwatch,
            config.target_cluster_id,
            moment,
            stale_seconds=config.metric_stale_seconds,
            lag_down_seconds=config.lag_down_seconds,
            source_region=promote.region_of(writer) if writer else None,
        ),
    )


def _ledger(config: FailoverConfig, clients: Clients) -> Ledger:
    return Ledger(
        clients.dynamodb, config.sessions_table, ledger_key(config.global_cluster_id, config.region)
    )


def _none(reason: str, level: str = "info", **fields: Any) -> dict[str, Any]:
    log(level, "failover_skipped", reason=reason, **fields)
    return {"action": "none", "reason": reason}


def _streak_json(streak: Streak) -> dict[str, Any]:
    return {k: v for k, v in asdict(streak).items() if k != "version"}


# --------------------------------------------------------------------------- the evaluation


def _precheck(
    config: FailoverConfig, clients: Clients, trigger: str, moment: datetime
) -> tuple[dict[str, Any] | None, str | None]:
    """(an answer that ends the evaluation, or None; the current writer)."""
    cluster = promote.find_global_cluster(clients.rds, config.global_cluster_id)
    writer = promote.writer_of(cluster)
    if writer == config.target_cluster_arn:
        # Promoted (by us or anyone): a new era; a later failback starts from nothing.
        _ledger(config, clients).clear(moment.timestamp(), {"writer": writer})
        return _none("already-primary", trigger=trigger, writer=writer), writer
    if promote.busy(cluster):
        answer = _none(
            "failover-in-progress",
            trigger=trigger,
            status=cluster.get("Status"),
            failover_state=cluster.get("FailoverState"),
        )
        return answer, writer
    members = promote.members_of(cluster)
    if config.target_cluster_arn not in members:
        # Detached by hand, or a wrong ARN: failing over to it is impossible; say so loudly.
        return _none("target-not-member", "error", trigger=trigger, members=members), writer
    return None, writer


def run(
    config: FailoverConfig,
    clients: Clients,
    *,
    sleep: Sleep = time.sleep,
    now: Clock = _utcnow,
    trigger: str = "direct",
) -> dict[str, Any]:
    moment = now()
    done, writer = _precheck(config, clients, trigger, moment)
    if done is not None:
        return done
    evidence = gather(config, clients, sleep, moment, writer)
    kind = "promote" if config.mode == "automatic" else "recommend"
    decision_id = uuid.uuid4().hex[:12]
    streak, won = _ledger(config, clients).observe(
        evidence.down,
        moment.timestamp(),
        evidence.to_json(),
        act_id=f"{kind}:{decision_id}",
        evaluations=config.evaluations,
        sustain_seconds=config.sustain_seconds,
    )
    sustained = streak.sustained(config.evaluations, config.sustain_seconds)
    emit_metrics(
        "failover",
        {
            "PrimaryProbeFailures": float(sum(not p.ok for p in evidence.probes)),
            "FailoverSignalsAgreeing": float(len(evidence.agreeing)),
            "FailoverDownStreak": float(streak.count),
            "FailoverRecommended": float(sustained),
        },
    )
    if not won:
        reason = (
            "primary-healthy"
            if not evidence.probes_down
            else "signals-disagree"
            if not evidence.down
            else "not-sustained"
            if not sustained
            else "already-acted"
        )
        log(
            "info" if reason == "primary-healthy" else "warning",
            "failover_evaluated",
            reason=reason,
            trigger=trigger,
            mode=config.mode,
            streak=_streak_json(streak),
            evidence=evidence.to_json(),
        )
        return {"action": "none", "reason": reason, "streak": streak.count}
    decision = _decision(config, decision_id, kind, moment, trigger, writer, evidence)
    decision["streak"] = _streak_json(streak)
    if kind == "recommend":
        return _recommend(config, clients, decision)
    return _promote(config, clients, decision, planned=False, moment=moment)


def _decision(
    config: FailoverConfig,
    decision_id: str,
    kind: str,
    moment: datetime,
    trigger: str,
    writer: str | None,
    evidence: Evidence,
) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "decision": kind,
        "decided_at": moment.isoformat(),
        "mode": config.mode,
        "trigger": trigger,
        "region": config.region,
        "global_cluster_id": config.global_cluster_id,
        "target_cluster_arn": config.target_cluster_arn,
        "previous_writer": writer,
        "evidence": evidence.to_json(),
    }


def _recommend(
    config: FailoverConfig, clients: Clients, decision: dict[str, Any]
) -> dict[str, Any]:
    decision["would"] = "failover"
    decision["command"] = announce.promote_command(config)
    announce.publish(
        config,
        clients.dynamodb,
        clients.sns,
        decision,
        level="critical",
        event="failover_recommended",
    )
    return {"action": "recommend", "reason": "primary-down-sustained", **decision}


def _promote(
    config: FailoverConfig,
    clients: Clients,
    decision: dict[str, Any],
    *,
    planned: bool,
    moment: datetime,
) -> dict[str, Any]:
    ledger = _ledger(config, clients)
    act_id = f"promote:{decision['decision_id']}"
    try:
        started = promote.start(
            clients.rds, config.global_cluster_id, config.target_cluster_arn, planned=planned
        )
    except promote.UnderWay:
        ledger.release(act_id, moment.timestamp(), {"released": "under-way"})
        return _none("failover-in-progress", trigger=decision["trigger"], raced=True)
    except Exception:
        # Let the next evaluation (or the human) try again instead of waiting for expiry.
        ledger.release(act_id, moment.timestamp(), {"released": "failed"})
        raise
    decision.update(started)
    announce.publish(
        config, clients.dynamodb, clients.sns, decision, level="critical", event="failover_started"
    )
    emit_metrics("failover", {"FailoverStarted": 1.0})
    return {"action": started["operation"], "reason": decision["decision"], **decision}


# --------------------------------------------------------------------------- a human's promote


def _refuse(
    config: FailoverConfig, clients: Clients, moment: datetime, why: str, event: Mapping[str, Any]
) -> dict[str, Any]:
    decision = {
        "decision_id": uuid.uuid4().hex[:12],
        "decision": "refused",
        "decided_at": moment.isoformat(),
        "mode": config.mode,
        "trigger": "manual",
        "region": config.region,
        "global_cluster_id": config.global_cluster_id,
        "target_cluster_arn": config.target_cluster_arn,
        "refusal": why,
        # What was asked, cut short: it is caller input.
        "requested": {k: str(event.get(k))[:100] for k in ("global_cluster", "to_region")},
    }
    announce.publish(
        config, clients.dynamodb, clients.sns, decision, level="error", event="promote_refused"
    )
    return {"action": "refused", "reason": why, "decision_id": decision["decision_id"]}


def promote_action(
    config: FailoverConfig,
    clients: Clients,
    event: Mapping[str, Any],
    *,
    sleep: Sleep = time.sleep,
    now: Clock = _utcnow,
) -> dict[str, Any]:
    """``{"action": "promote", "global_cluster": ..., "to_region": ...}``: a human's decision."""
    moment = now()
    asked = str(event.get("global_cluster") or "")
    if asked.lower() != config.global_cluster_id.lower():
        return _refuse(config, clients, moment, "global_cluster does not match", event)
    if event.get("to_region") != config.region:
        return _refuse(config, clients, moment, "to_region is not this function's region", event)
    done, writer = _precheck(config, clients, "manual", moment)
    if done is not None:
        return done
    evidence = gather(config, clients, sleep, moment, writer)
    answers, writer_state = _primary_answers(clients, writer, evidence)
    decision = _decision(
        config, uuid.uuid4().hex[:12], "manual-promote", moment, "manual", writer, evidence
    )
    decision["writer_status"] = writer_state
    act_id = f"promote:{decision['decision_id']}"
    if not _ledger(config, clients).take(act_id, moment.timestamp(), decision["evidence"]):
        return _none("already-acted", trigger="manual")
    return _promote(config, clients, decision, planned=answers, moment=moment)


def _primary_answers(
    clients: Clients, writer: str | None, evidence: Evidence
) -> tuple[bool, str | None]:
    """Whether a switchover can work: replication runs (the metric is fresh and low), or,
    when the metric says nothing either way, the writer's own region reports it available."""
    verdict = evidence.replication.verdict
    if verdict == "healthy":
        return True, None
    if verdict in ("stale", "lagging") or writer is None:
        return False, None
    region = promote.region_of(writer)
    status = promote.writer_status(clients.rds_in(region), writer) if region else "unknown"
    return status == "available", status


# --------------------------------------------------------------------------- the handler


def trigger_of(event: Any) -> str:
    if isinstance(event, Mapping):
        records = event.get("Records")
        first = records[0] if isinstance(records, list) and records else None
        if isinstance(first, Mapping) and first.get("EventSource") == "aws:sns":
            return "sns"
        if event.get("source") == "aws.events" or "detail-type" in event:
            return "schedule"
    return "direct"


_clients: tuple[FailoverConfig, Clients] | None = None
SLEEP: Sleep = time.sleep  # tests replace it
NOW: Clock = _utcnow  # tests replace it


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    global _clients
    config = load_failover()
    if _clients is None or _clients[0] != config:
        _clients = (config, Clients.create(config))
    clients = _clients[1]
    if isinstance(event, Mapping) and "action" in event:
        if event["action"] != "promote":
            raise InvalidEvent("unknown action; the failover function takes: promote")
        return promote_action(config, clients, event, sleep=SLEEP, now=NOW)
    return run(config, clients, sleep=SLEEP, now=NOW, trigger=trigger_of(event))
