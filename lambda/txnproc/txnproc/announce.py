"""How the watchdog tells people what it decided: the audit item, the SNS message (one line of
plain text an on-call engineer can act on, with the evidence and, for a recommendation, the
command that carries it out) and the log line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from txnproc.config import FailoverConfig
from txnproc.ledger import record_decision
from txnproc.observe import emit_metrics, log


def promote_command(config: FailoverConfig) -> str:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "<failover function>")
    payload = (
        f'{{"action": "promote", "global_cluster": "{config.global_cluster_id}", '
        f'"to_region": "{config.region}"}}'
    )
    return (
        f"aws lambda invoke --region {config.region} --function-name {function} "
        f"--cli-binary-format raw-in-base64-out --payload '{payload}' answer.json"
    )


def message(config: FailoverConfig, decision: Mapping[str, Any]) -> str:
    evidence = decision.get("evidence") or {}
    probes = evidence.get("probes") or []
    route53 = evidence.get("route53") or {}
    replication = evidence.get("replication") or {}
    what = {
        "recommend": "recommends an unplanned failover (with data loss) of",
        "promote": "started a promotion of",
        "manual-promote": "started, on request, a promotion of",
        "refused": "refused a promote request for",
    }[decision["decision"]]
    parts = [
        f"At {decision['decided_at']} the failover function in {config.region} ({config.mode} "
        f"mode) {what} Aurora global database {config.global_cluster_id} to "
        f"{config.target_cluster_arn}, away from writer "
        f"{decision.get('previous_writer') or 'unknown'}.",
    ]
    if decision.get("operation"):
        loss = "with data loss" if decision.get("data_loss_allowed") else "without data loss"
        parts.append(
            f"Operation: {decision['operation']} ({loss}), RDS request id "
            f"{decision.get('request_id')}."
        )
    if decision.get("refusal"):
        parts.append(f"Refused: {decision['refusal']}.")
    if evidence:
        streak = decision.get("streak") or {}
        parts.append(
            f"Evidence: signals agreeing that the primary is down: "
            f"{', '.join(evidence.get('agreeing') or []) or 'none'}; "
            f"probes of {config.primary_health_url}: "
            f"{'; '.join(str(p['status'] or p['error']) for p in probes) or 'none'}; "
            f"Route 53 check {config.health_check_id}: {route53.get('verdict')} "
            f"({route53.get('healthy')} of {route53.get('checkers')} checkers healthy); "
            f"replication lag metric: {replication.get('verdict')} (newest "
            f"{replication.get('latest_at')}, {replication.get('lag_ms')} ms); "
            f"down streak: {streak.get('count', 'n/a')} evaluations."
        )
    if decision.get("command"):
        parts.append(f"To carry it out: {decision['command']}")
    return " ".join(parts)


def publish(
    config: FailoverConfig,
    dynamodb: Any,
    sns: Any,
    decision: dict[str, Any],
    *,
    level: str,
    event: str,
) -> None:
    """The decision to the sessions table, SNS and the log; never raises (it stands anyway)."""
    decision["recorded"] = record_decision(dynamodb, config.sessions_table, decision)
    try:
        sns.publish(
            TopicArn=config.topic_arn,
            Subject=f"Aurora {decision['decision']} for {config.global_cluster_id} "
            f"in {config.region}"[:100],
            Message=message(config, decision),
        )
        decision["announced"] = True
    except Exception as exc:
        log("error", "failover_announce_failed", error=repr(exc)[:500])
        decision["announced"] = False
    log(level, event, **decision)
    failures = (not decision["recorded"]) + (not decision["announced"])
    emit_metrics("failover", {"FailoverRecordFailures": float(failures)})
