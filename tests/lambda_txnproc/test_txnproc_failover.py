"""The failover watchdog: promotes only on sustained, agreeing, independent evidence, once.

See ``failover_harness`` for the world (moto, a local /health, a clock the test moves, and the
two things moto lacks injected through the ``Clients`` seam)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from dbservers import free_port
from failover_harness import (
    DR,
    GLOBAL_ID,
    PRIMARY_ARN,
    TABLE,
    TARGET_ARN,
    Checkers,
    build,
    failover_response,
)
from txnproc import evidence, failover
from txnproc.config import load_failover
from txnproc.errors import ConfigError, InvalidEvent
from txnproc.ledger import Ledger, Streak, ledger_key
from txnproc_helpers import SECONDARY, HealthServer, json_lines, load_handler

MINUTE = 60.0


@pytest.fixture
def dr(aws: None, primary: HealthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[DR]:
    monkeypatch.setenv("AWS_REGION", SECONDARY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", SECONDARY)
    yield build(primary)


def evaluate_every_minute(dr: DR, count: int, *, fresh_replication: bool = False) -> list[Any]:
    """``count`` scheduled evaluations a minute apart (the first at the clock's time)."""
    outcomes = []
    for i in range(count):
        if i:
            dr.clock.advance(MINUTE)
        if fresh_replication:
            dr.replication_running()
        outcomes.append(dr.run())
    return outcomes


def expect_failover(dr: DR) -> Any:
    stub = dr.stub_rds("failover_global_cluster", "switchover_global_cluster")
    operation, answer, params = failover_response(AllowDataLoss=True)
    stub.add_response(operation, answer, expected_params=params)
    return stub


# --------------------------------------------------------------------------- the cases


def test_a_flood_of_failing_probes_with_a_healthy_cluster_never_promotes(dr: DR) -> None:
    """A request flood at the primary's ALB: our probes fail, and so do Route 53's checkers
    (they go through the same front door). Replication, seen from here, runs: no promotion,
    however long it lasts, and no streak."""
    stub = dr.stub_rds("failover_global_cluster", "switchover_global_cluster")  # none queued
    dr.primary.status = 503
    dr.clients.route53 = Checkers(healthy=0)
    outcomes = evaluate_every_minute(dr, 12, fresh_replication=True)
    assert {o["reason"] for o in outcomes} == {"signals-disagree"}
    assert {o["action"] for o in outcomes} == {"none"}
    assert {o["streak"] for o in outcomes} == {0}
    stub.assert_no_pending_responses()
    assert dr.decisions() == [] and dr.announcements() == []
    assert dr.ledger() is None  # never down: nothing was ever counted


def test_probe_failures_alone_never_promote(dr: DR) -> None:
    """Only our probes fail (our region's network): Route 53 (moto's checkers) and the
    replication metric say the primary is fine."""
    dr.stub_rds("failover_global_cluster")
    dr.primary.status = 503
    outcomes = evaluate_every_minute(dr, 6, fresh_replication=True)
    assert {(o["action"], o["reason"]) for o in outcomes} == {("none", "signals-disagree")}


@pytest.mark.parametrize(
    "route53",
    ["unknown", "unreachable"],
)
def test_route53_that_says_nothing_is_not_agreement(dr: DR, route53: str) -> None:
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    if route53 == "unknown":
        dr.clients.route53 = Checkers(healthy=0, total=0)
    else:  # where Route 53's API would be, nothing answers (us-east-1 is down)
        dr.clients.route53 = boto3.client(
            "route53",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(connect_timeout=1, retries={"max_attempts": 1, "mode": "standard"}),
        )
    outcomes = evaluate_every_minute(dr, 6)
    assert {o["reason"] for o in outcomes} == {"signals-disagree"}


def test_a_replication_metric_never_seen_is_not_agreement(dr: DR) -> None:
    """No datapoint in the whole lookback: a wrong cluster id, not a dead primary."""
    dr.stub_rds("failover_global_cluster")
    dr.primary.status = 503
    dr.clients.route53 = Checkers(healthy=0)
    outcomes = evaluate_every_minute(dr, 6)
    assert {o["reason"] for o in outcomes} == {"signals-disagree"}


def test_down_for_fewer_than_n_evaluations_never_promotes(
    dr: DR, capsys: pytest.CaptureFixture[str]
) -> None:
    stub = dr.stub_rds("failover_global_cluster")  # none queued: a call fails the test
    dr.primary_down()
    # Two evaluations (N is 3), then the primary answers: the streak is gone.
    first = evaluate_every_minute(dr, 2)
    assert [(o["reason"], o["streak"]) for o in first] == [
        ("not-sustained", 1),
        ("not-sustained", 2),
    ]
    dr.clock.advance(MINUTE)
    dr.primary.status = 200
    assert dr.run() == {"action": "none", "reason": "primary-healthy", "streak": 0}
    # Down again: it counts from one.
    dr.clock.advance(MINUTE)
    dr.primary.status = 503
    again = evaluate_every_minute(dr, 2)
    assert [o["streak"] for o in again] == [1, 2]
    stub.assert_no_pending_responses()
    assert dr.decisions() == []
    evaluated = [
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "failover_evaluated"
    ]
    assert evaluated[0]["evidence"]["agreeing"] == ["probes", "route53", "replication"]
    assert evaluated[0]["evidence"]["replication"]["verdict"] == "stale"


def test_n_evaluations_must_also_span_the_sustain_window(dr: DR) -> None:
    """Three down evaluations a minute apart span 120 s, short of 180: not yet."""
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    outcomes = evaluate_every_minute(dr, 3)
    assert [o["streak"] for o in outcomes] == [1, 2, 3]
    assert outcomes[-1]["reason"] == "not-sustained"


def test_evaluations_close_together_count_once(dr: DR) -> None:
    """The schedule and an alarm firing together are one evaluation, not two."""
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    assert dr.run()["streak"] == 1
    dr.clock.advance(5)
    assert dr.run()["streak"] == 1
    dr.clock.advance(MINUTE)
    assert dr.run()["streak"] == 2


def test_a_gap_in_evaluations_breaks_the_streak(dr: DR) -> None:
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    evaluate_every_minute(dr, 2)
    dr.clock.advance(20 * MINUTE)  # nobody looked for 20 minutes
    assert dr.run()["streak"] == 1


def test_sustained_agreeing_evidence_promotes_exactly_once(
    dr: DR, capsys: pytest.CaptureFixture[str]
) -> None:
    stub = expect_failover(dr)  # exactly one failover answer queued
    dr.primary_down()
    outcomes = evaluate_every_minute(dr, 4)  # 0, 60, 120, 180 s: 4 evaluations over 180 s
    assert [o["action"] for o in outcomes] == ["none", "none", "none", "failover"]
    stub.assert_no_pending_responses()
    promoted = outcomes[-1]
    assert promoted["reason"] == "promote" and promoted["data_loss_allowed"] is True
    assert promoted["request_id"] == "req-0123" and promoted["previous_writer"] == PRIMARY_ARN
    assert promoted["recorded"] is True and promoted["announced"] is True

    # The same moment again (an alarm), and the next scheduled run: nobody promotes twice.
    assert dr.run()["reason"] == "already-acted"
    dr.clock.advance(MINUTE)
    assert dr.run()["reason"] == "already-acted"

    # The decision and its evidence: an item, an SNS message, a log line.
    [item] = dr.decisions()
    assert item["decision"] == {"S": "promote"}
    assert item["target_cluster_arn"] == {"S": TARGET_ARN}
    assert item["operation"] == {"S": "failover"}
    proof = item["evidence"]["M"]
    assert [v["S"] for v in proof["agreeing"]["L"]] == ["probes", "route53", "replication"]
    assert proof["route53"]["M"]["verdict"] == {"S": "unhealthy"}
    assert proof["replication"]["M"]["verdict"] == {"S": "stale"}
    assert [p["M"]["status"] for p in proof["probes"]["L"]] == [{"N": "503"}] * 3
    assert item["streak"]["M"]["count"] == {"N": "4"}
    assert "expires_at" not in item  # an audit record: no TTL
    [note] = dr.announcements()
    assert note["Subject"] == f"Aurora promote for {GLOBAL_ID} in {SECONDARY}"
    for part in (GLOBAL_ID, TARGET_ARN, PRIMARY_ARN, "req-0123", "with data loss", "stale"):
        assert part in note["Message"]
    lines = json_lines(capsys.readouterr().out)
    [started] = [r for r in lines if r.get("event") == "failover_started"]
    assert started["level"] == "critical" and started["evidence"]["down"] is True
    assert any(r.get("FailoverStarted") == 1.0 for r in lines)


def test_concurrent_invocations_count_once_and_promote_once(dr: DR) -> None:
    """Two invocations evaluate at the same instant (each its own sandbox): both read the
    ledger before either writes; the conditional write lets exactly one of them count (and, at
    the sustained evaluation, act)."""
    key = ledger_key(GLOBAL_ID, SECONDARY)
    barrier = threading.Barrier(2)

    class Racing:
        """A DynamoDB client that holds the first write until the other thread has read."""

        def __init__(self) -> None:
            self.real = boto3.client("dynamodb", region_name=SECONDARY)
            self.waited = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def put_item(self, **kwargs: Any) -> Any:
            if not self.waited:
                self.waited = True
                barrier.wait(timeout=10)
            return self.real.put_item(**kwargs)

    def observe(now: float, results: list[Any]) -> None:
        ledger = Ledger(Racing(), TABLE, key)
        results.append(
            ledger.observe(
                True,
                now,
                {},
                act_id=f"promote:{threading.get_ident()}",
                evaluations=2,
                sustain_seconds=60,
            )
        )

    for step, now in enumerate((1000.0, 1060.0)):
        results: list[Any] = []
        threads = [threading.Thread(target=observe, args=(now, results)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(results) == 2
        assert {streak.count for streak, _won in results} == {step + 1}
        assert sorted(won for _streak, won in results) == (
            [False, False] if step == 0 else [False, True]
        )
    final = Ledger(boto3.client("dynamodb", region_name=SECONDARY), TABLE, key).read()
    assert final.count == 2 and final.acted_by is not None and final.version == 2


def test_the_streak_survives_cold_starts(dr: DR) -> None:
    """Each evaluation with brand-new clients (a new sandbox): the count goes on."""
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    counts = []
    for i in range(3):
        if i:
            dr.clock.advance(MINUTE)
        dr.clients = failover.Clients.create(dr.config)
        dr.stub_rds("failover_global_cluster")
        dr.clients.route53 = Checkers(healthy=0)
        counts.append(dr.run()["streak"])
    assert counts == [1, 2, 3]


def test_manual_mode_never_promotes(dr: DR, capsys: pytest.CaptureFixture[str]) -> None:
    stub = dr.stub_rds("failover_global_cluster", "switchover_global_cluster")  # none queued
    dr.config = failover.FailoverConfig(**{**dr.config.__dict__, "mode": "manual"})
    dr.primary_down()
    outcomes = evaluate_every_minute(dr, 8)
    assert [o["action"] for o in outcomes] == ["none"] * 3 + ["recommend"] + ["none"] * 4
    assert outcomes[4]["reason"] == "already-acted"
    stub.assert_no_pending_responses()
    recommendation = outcomes[3]
    assert recommendation["would"] == "failover"
    assert '"action": "promote"' in recommendation["command"]
    assert f'"global_cluster": "{GLOBAL_ID}"' in recommendation["command"]

    [item] = dr.decisions()
    assert item["decision"] == {"S": "recommend"} and "operation" not in item
    [note] = dr.announcements()
    assert "recommends an unplanned failover" in note["Message"]
    assert "aws lambda invoke" in note["Message"]
    lines = json_lines(capsys.readouterr().out)
    recommended = [r["FailoverRecommended"] for r in lines if "FailoverRecommended" in r]
    assert recommended == [0.0, 0.0, 0.0] + [1.0] * 5  # the alarm's metric stays up

    # Still down 15 minutes later: the reminder goes out again.
    dr.clock.advance(16 * MINUTE - 4 * MINUTE)
    for _ in range(4):
        dr.clock.advance(MINUTE)
        dr.run()
    assert len(dr.decisions()) == 2
    stub.assert_no_pending_responses()


# --------------------------------------------------------------------------- a human's promote


def promote_event(**changes: Any) -> dict[str, Any]:
    return {"action": "promote", "global_cluster": GLOBAL_ID, "to_region": SECONDARY, **changes}


def test_manual_promote_switches_over_when_the_primary_answers(dr: DR) -> None:
    """A drill or a human's call while replication runs: a switchover, no data loss."""
    stub = dr.stub_rds("failover_global_cluster", "switchover_global_cluster")
    operation, answer, params = failover_response("switchover_global_cluster")
    stub.add_response(operation, answer, expected_params=params)
    dr.replication_running()
    outcome = dr.promote(promote_event())
    stub.assert_no_pending_responses()
    assert outcome["action"] == "switchover" and outcome["data_loss_allowed"] is False
    [item] = dr.decisions()
    assert item["decision"] == {"S": "manual-promote"} and item["trigger"] == {"S": "manual"}
    [note] = dr.announcements()
    assert "without data loss" in note["Message"]
    # Asked twice: the right to act is taken.
    assert dr.promote(promote_event())["reason"] == "already-acted"


def test_manual_promote_fails_over_when_the_primary_is_gone(dr: DR) -> None:
    stub = expect_failover(dr)
    dr.primary_down()
    outcome = dr.promote(promote_event())
    stub.assert_no_pending_responses()
    assert outcome["action"] == "failover" and outcome["data_loss_allowed"] is True


def test_manual_promote_asks_the_writers_region_when_the_metric_is_silent(dr: DR) -> None:
    """No replication metric at all: the writer's own region says "available" (moto)."""
    stub = dr.stub_rds("failover_global_cluster", "switchover_global_cluster")
    operation, answer, params = failover_response("switchover_global_cluster")
    stub.add_response(operation, answer, expected_params=params)
    outcome = dr.promote(promote_event())
    assert outcome["action"] == "switchover" and outcome["writer_status"] == "available"

    # The writer's region does not answer: failover with data loss.
    assert failover.promote.writer_status(
        boto3.client(
            "rds",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(connect_timeout=1, retries={"max_attempts": 1, "mode": "standard"}),
        ),
        PRIMARY_ARN,
    ).startswith("unreachable")


def test_manual_promote_overrides_the_recommendation(dr: DR) -> None:
    dr.config = failover.FailoverConfig(**{**dr.config.__dict__, "mode": "manual"})
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    assert evaluate_every_minute(dr, 4)[-1]["action"] == "recommend"
    expect_failover(dr)
    assert dr.promote(promote_event())["action"] == "failover"


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (promote_event(global_cluster="someone-elses-global"), "global_cluster does not match"),
        (promote_event(global_cluster=None), "global_cluster does not match"),
        (promote_event(to_region="eu-west-1"), "to_region is not this function's region"),
    ],
    ids=["other-cluster", "no-cluster", "other-region"],
)
def test_manual_promote_refuses_a_mismatch(dr: DR, event: dict[str, Any], why: str) -> None:
    stub = dr.stub_rds("failover_global_cluster", "switchover_global_cluster")  # none queued
    outcome = dr.promote(event)
    assert outcome["action"] == "refused" and outcome["reason"] == why
    stub.assert_no_pending_responses()
    [item] = dr.decisions()
    assert item["decision"] == {"S": "refused"} and item["refusal"] == {"S": why}
    [note] = dr.announcements()
    assert "refused a promote request" in note["Message"]


def test_manual_promote_when_already_primary(dr: DR) -> None:
    cluster = dr.described()
    for member in cluster["GlobalClusterMembers"]:
        member["IsWriter"] = member["DBClusterArn"] == TARGET_ARN
    stub = dr.stub_rds("describe_global_clusters", "switchover_global_cluster")
    stub.add_response("describe_global_clusters", {"GlobalClusters": [cluster]})
    assert dr.promote(promote_event()) == {"action": "none", "reason": "already-primary"}


# --------------------------------------------------------------------------- the preconditions


def test_already_primary_clears_the_ledger(dr: DR) -> None:
    dr.stub_rds("failover_global_cluster")
    dr.primary_down()
    evaluate_every_minute(dr, 2)
    assert dr.ledger()["streak"] == {"N": "2"}
    assert dr.run(target_cluster_arn=PRIMARY_ARN) == {"action": "none", "reason": "already-primary"}
    assert dr.primary.hits == 6  # that run probed nothing


@pytest.mark.parametrize(
    "state",
    [
        {"FailoverState": {"Status": "pending", "ToDbClusterArn": TARGET_ARN}},
        {"Status": "failing-over"},
        {"Status": "switching-over"},
    ],
    ids=["failover-state", "failing-over", "switching-over"],
)
def test_idempotent_while_failing_over(dr: DR, state: dict[str, Any]) -> None:
    dr.primary.status = 503
    cluster = {**dr.described(), **state}
    stub = dr.stub_rds("describe_global_clusters", "failover_global_cluster")
    stub.add_response(
        "describe_global_clusters",
        {"GlobalClusters": [cluster]},
        expected_params={"GlobalClusterIdentifier": GLOBAL_ID},
    )
    assert dr.run() == {"action": "none", "reason": "failover-in-progress"}
    assert dr.primary.hits == 0  # decided before probing anything
    stub.assert_no_pending_responses()
    assert dr.decisions() == [] and dr.announcements() == []


def test_target_not_member(dr: DR, capsys: pytest.CaptureFixture[str]) -> None:
    other = f"arn:aws:rds:{SECONDARY}:123456789012:cluster:somewhere-else"
    dr.stub_rds("failover_global_cluster")
    assert dr.run(target_cluster_arn=other) == {"action": "none", "reason": "target-not-member"}
    skipped = next(
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "failover_skipped"
    )
    assert skipped["level"] == "error"


def test_unknown_global_cluster_raises(dr: DR) -> None:
    with pytest.raises(Exception, match=r"GlobalClusterNotFound|not found"):
        dr.run(global_cluster_id="no-such-global")


def sustain_then(dr: DR) -> Any:
    """Three evaluations down; the fourth will act."""
    dr.primary_down()
    evaluate_every_minute(dr, 3)
    dr.clock.advance(MINUTE)
    return dr.stub_rds("describe_global_clusters", "failover_global_cluster")


def test_lost_race_with_a_concurrent_failover(dr: DR) -> None:
    before = dr.described()
    stub = sustain_then(dr)
    stub.add_response("describe_global_clusters", {"GlobalClusters": [before]})
    stub.add_client_error(
        "failover_global_cluster",
        service_error_code="InvalidGlobalClusterStateFault",
        service_message="Global cluster txn-global is in failing-over state",
    )
    stub.add_response(
        "describe_global_clusters", {"GlobalClusters": [{**before, "Status": "failing-over"}]}
    )
    assert dr.run() == {"action": "none", "reason": "failover-in-progress"}
    stub.assert_no_pending_responses()
    assert dr.decisions() == []
    assert "acted_by" not in dr.ledger()


def test_refused_failover_raises_and_lets_the_next_evaluation_retry(dr: DR) -> None:
    before = dr.described()
    stub = sustain_then(dr)
    stub.add_response("describe_global_clusters", {"GlobalClusters": [before]})
    stub.add_client_error("failover_global_cluster", service_error_code="InvalidParameterValue")
    with pytest.raises(Exception, match="InvalidParameterValue"):
        dr.run()
    assert "acted_by" not in dr.ledger()  # released
    dr.clock.advance(MINUTE)
    dr.clients.rds = dr.clients.rds.real  # moto describes again
    expect_failover(dr)
    assert dr.run()["action"] == "failover"


def test_record_failures_do_not_undo_the_failover(dr: DR) -> None:
    dr.primary_down()
    evaluate_every_minute(dr, 3)
    dr.clock.advance(MINUTE)
    expect_failover(dr)
    real = dr.clients.dynamodb

    class NoAudit:
        """The ledger works; the audit write does not."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def put_item(self, **kwargs: Any) -> Any:
            if kwargs["Item"]["session_id"]["S"].startswith("failover#decision#"):
                raise RuntimeError("throttled")
            return real.put_item(**kwargs)

    dr.clients.dynamodb = NoAudit()
    outcome = dr.run(topic_arn=f"arn:aws:sns:{SECONDARY}:123456789012:no-such-topic")
    assert outcome["action"] == "failover"
    assert outcome["recorded"] is False and outcome["announced"] is False


# --------------------------------------------------------------------------- the parts


def test_replication_view_verdicts(dr: DR) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=SECONDARY)

    def view() -> evidence.ReplicationView:
        return evidence.replication_view(
            cloudwatch, "txn-secondary", dr.clock.at, stale_seconds=300, lag_down_seconds=60
        )

    assert view().verdict == "no-data"
    dr.replication_at(dr.clock.at - timedelta(minutes=10), 100.0)
    assert view().verdict == "stale"
    dr.replication_at(dr.clock.at - timedelta(minutes=4), 75_000.0)
    lagging = view()
    assert lagging.verdict == "lagging" and lagging.lag_ms == 75_000.0
    dr.replication_at(dr.clock.at - timedelta(seconds=20), 90.0)
    assert view().verdict == "healthy"
    broken = evidence.replication_view(
        boto3.client(
            "cloudwatch",
            region_name=SECONDARY,
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(connect_timeout=1, retries={"max_attempts": 1, "mode": "standard"}),
        ),
        "txn-secondary",
        dr.clock.at,
        stale_seconds=300,
        lag_down_seconds=60,
    )
    assert broken.verdict == "unreachable" and broken.error


def test_streak_rules() -> None:
    s = Streak().after(True, 0.0)
    assert (s.count, s.first_down_at) == (1, 0.0)
    s = s.after(True, 60.0).after(True, 120.0)
    assert s.count == 3 and not s.sustained(3, 180)
    s = s.after(True, 180.0)
    assert s.sustained(3, 180)
    assert s.after(False, 200.0) == Streak()
    claimed = Streak(acted_by="recommend:x", acted_at=0.0)
    assert not claimed.may_act(100.0) and claimed.may_act(100.0, over_recommendation=True)
    assert claimed.may_act(1000.0)  # expired


def test_handler_entry_point(dr: DR, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "GLOBAL_CLUSTER_ID": GLOBAL_ID,
        "TARGET_CLUSTER_ARN": TARGET_ARN,
        "PRIMARY_HEALTH_URL": dr.primary.url,
        "HEALTH_CHECK_ID": dr.health_check_id,
        "SESSIONS_TABLE": TABLE,
        "TOPIC_ARN": dr.config.topic_arn,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(failover, "SLEEP", dr.sleeps.append)
    monkeypatch.setattr(failover, "NOW", dr.clock)
    monkeypatch.setattr(failover, "_clients", None)
    handler = load_handler()
    schedule = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert handler.failover(schedule, None)["reason"] == "primary-healthy"
    dr.primary.status = 503
    alarm = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]}
    assert handler.failover(alarm, None)["reason"] == "signals-disagree"
    assert dr.sleeps == [2.0, 2.0]
    refused = handler.failover(promote_event(global_cluster="other"), None)
    assert refused["action"] == "refused"
    with pytest.raises(InvalidEvent):
        handler.failover({"action": "deep_health"}, None)


def test_trigger_of() -> None:
    assert failover.trigger_of({"Records": [{"EventSource": "aws:sns"}]}) == "sns"
    assert failover.trigger_of({"source": "aws.events"}) == "schedule"
    assert failover.trigger_of({}) == "direct"
    assert failover.trigger_of(None) == "direct"


def test_failover_config() -> None:
    env = {
        "AWS_REGION": SECONDARY,
        "GLOBAL_CLUSTER_ID": GLOBAL_ID,
        "TARGET_CLUSTER_ARN": TARGET_ARN,
        "PRIMARY_HEALTH_URL": "https://us-east-1.api.txn.example.com/health",
        "HEALTH_CHECK_ID": "abc",
        "SESSIONS_TABLE": TABLE,
        "TOPIC_ARN": "arn:aws:sns:us-east-2:123456789012:t",
    }
    config = load_failover(env)
    assert config.probes == 3 and config.probe_timeout_seconds == 5.0
    assert (config.mode, config.evaluations, config.sustain_seconds) == ("manual", 3, 180)
    assert (config.metric_stale_seconds, config.lag_down_seconds) == (300, 60)
    assert config.target_cluster_id == "txn-secondary"
    tuned = load_failover(
        {
            **env,
            "PROBES": "5",
            "FAILOVER_MODE": "Automatic",
            "FAILOVER_EVALUATIONS": "5",
            "FAILOVER_SUSTAIN_SECONDS": "300",
        }
    )
    assert (tuned.probes, tuned.mode, tuned.evaluations, tuned.sustain_seconds) == (
        5,
        "automatic",
        5,
        300,
    )
    for bad in (
        {"PROBES": "0"},
        {"PROBES": "x"},
        {"PROBE_TIMEOUT_SECONDS": "nan"},
        {"PRIMARY_HEALTH_URL": "ftp://x"},
        {"TOPIC_ARN": ""},
        {"FAILOVER_MODE": "auto"},
        {"FAILOVER_EVALUATIONS": "1"},
        {"FAILOVER_SUSTAIN_SECONDS": "30"},
        {"FAILOVER_METRIC_STALE_SECONDS": "60"},
        {"FAILOVER_LAG_DOWN_SECONDS": "0"},
    ):
        with pytest.raises(ConfigError):
            load_failover({**env, **bad})


def test_probe_garbled_answer() -> None:
    """A server that answers with garbage (or hangs up) counts as a failed probe."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        for _ in range(2):
            conn, _addr = listener.accept()
            conn.recv(1024)
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/health"
    sleeps: list[float] = []
    results = evidence.probe(url, 2, 2.0, sleeps.append)
    thread.join(5)
    listener.close()
    assert [(r.ok, r.status) for r in results] == [(False, None), (False, None)]
    assert all(r.error for r in results) and sleeps == [2.0]


def test_the_metric_is_found_under_any_of_its_dimension_sets(dr: DR) -> None:
    """Published by source region only (as the console groups it): still seen, so a flood
    against a healthy primary is still told apart from a dead one."""
    boto3.client("cloudwatch", region_name=SECONDARY).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": evidence.REPLICATION_METRIC,
                "Dimensions": [{"Name": "SourceRegion", "Value": "us-east-1"}],
                "Timestamp": dr.clock.at - timedelta(seconds=30),
                "Value": 120.0,
            }
        ],
    )
    cloudwatch = boto3.client("cloudwatch", region_name=SECONDARY)
    seen = evidence.replication_view(
        cloudwatch,
        "txn-secondary",
        dr.clock.at,
        stale_seconds=300,
        lag_down_seconds=60,
        source_region="us-east-1",
    )
    assert seen.verdict == "healthy"
    blind = evidence.replication_view(
        cloudwatch, "txn-secondary", dr.clock.at, stale_seconds=300, lag_down_seconds=60
    )
    assert blind.verdict == "no-data"
    dr.stub_rds("failover_global_cluster")
    dr.primary.status = 503
    dr.clients.route53 = Checkers(healthy=0)
    assert dr.run()["reason"] == "signals-disagree"  # the writer's region is asked for
