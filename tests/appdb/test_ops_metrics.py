"""Operations metrics on a small book, each figure computed by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from test_publish_operations import CSM, MANAGER, fired, publish, stage, tasks

from quarterdeck.appdb.book_actions import acknowledge_alert, close_task
from quarterdeck.appdb.database import session
from quarterdeck.appdb.operations_models import Alert
from quarterdeck.appdb.ops_metrics import ops_metrics
from quarterdeck.errors import UnknownTableError

START, DAY = date(2026, 6, 10), date(2026, 6, 30)


def _stages(renewal_c: date | None = None, renewal_d: date | None = None) -> list[dict]:
    return [
        stage("a", "at_risk", arr=6000, last_qbr_on=date(2026, 5, 1),
              customer_since=date(2026, 3, 1), onboarding_on_time=True,
              first_value_on=date(2026, 3, 21), time_to_value_days=20),
        stage("b", "onboarding", arr=4000, last_qbr_on=date(2025, 12, 1),
              customer_since=date(2026, 2, 1), onboarding_on_time=False,
              first_value_on=date(2026, 4, 2), time_to_value_days=60),
        stage("c", "mature", arr=2000, segment="Enterprise", customer_since=date(2024, 1, 1),
              renewal_date=renewal_c),
        stage("d", "churned", status="churned", arr=0, renewal_date=renewal_d),
    ]


def _triggers() -> list[dict]:
    return [{"playbook": "risk_recovery", "trigger": "stage", "account_id": "a",
             "trigger_key": "stage=at_risk", "anchor_date": None},
            {"playbook": "onboarding", "trigger": "stage", "account_id": "b",
             "trigger_key": "stage=onboarding", "anchor_date": date(2026, 6, 1)}]


@pytest.fixture
def book(engine):
    publish(engine, START, _stages(date(2026, 6, 20), date(2026, 6, 15)),
            [fired("usage_drop", "a"), fired("high_churn_risk", "c"),
             fired("high_churn_risk", "d")], _triggers())
    with session(engine) as db:
        usage = db.scalar(select(Alert.id).where(Alert.signal == "usage_drop"))
    acknowledge_alert(engine, usage, actor=CSM, on=date(2026, 6, 12))  # 2 days to respond
    t = tasks(engine)
    # risk_recovery from Wednesday 06-10: diagnose due Friday 06-12, executive call 06-19.
    close_task(engine, t["diagnose"].id, actor=CSM, outcome="found it", on=date(2026, 6, 12))
    close_task(engine, t["executive_call"].id, actor=MANAGER, outcome="late",
               on=date(2026, 6, 25))
    publish(engine, DAY, _stages(), [fired("usage_drop", "a"), fired("high_churn_risk", "c"),
                                     fired("high_churn_risk", "d")], _triggers())
    return engine


def _rows(engine, by):
    return {r["group"]: r for r in ops_metrics(engine, as_of=DAY, by=by).to_pylist()}


def test_operations_metrics_by_csm_are_the_hand_computed_ones(book) -> None:
    ana = _rows(book, "csm")[CSM]
    # 3 paying accounts and 12,000 ARR against 2 accounts and 10,000: 150% and 120% → over.
    assert (ana["accounts"], ana["arr"], ana["utilisation"], ana["capacity_flag"]) == (
        3, 12000.0, 1.5, "over")
    # Due in the 90 days: diagnose (done on its day), onboarding kickoff 06-01 and technical
    # setup 06-10 (still open: overdue). 1 of 3 on time.
    assert (ana["tasks_due_90d"], ana["tasks_done_on_time"], ana["overdue_tasks"]) == (3, 1, 2)
    assert ana["execution_rate"] == pytest.approx(1 / 3, abs=1e-4)
    # a on time, b late; time to value 20 and 60 days.
    assert (ana["onboarding_completion_rate"], ana["median_time_to_value_days"]) == (0.5, 40.0)
    assert ana["qbr_coverage"] == pytest.approx(1 / 3, abs=1e-4)  # a's QBR of 05-01
    assert ana["median_alert_response_days"] == 2.0
    # Risk alerts whose renewal (as known when they fired) is past: c renewed, d churned.
    assert (ana["risk_alerts_decided"], ana["alert_renewal_rate"]) == (2, 0.5)


def test_the_manager_owns_their_tasks_and_the_total_adds_up(book) -> None:
    rows = _rows(book, "csm")
    assert (rows[MANAGER]["tasks_due_90d"], rows[MANAGER]["execution_rate"]) == (1, 0.0)
    assert rows["total"]["tasks_due_90d"] == 4
    assert rows["total"]["execution_rate"] == 0.25
    assert rows["total"]["overdue_tasks"] == 2


def test_by_segment_and_team(book) -> None:
    segments = _rows(book, "segment")
    assert (segments["SMB"]["accounts"], segments["Enterprise"]["accounts"]) == (2, 1)
    assert segments["SMB"]["capacity_flag"] is None  # capacity is per person
    teams = _rows(book, "team")
    assert teams[MANAGER]["accounts"] == 3  # Ana's accounts roll up to Mo


def test_a_day_never_published_says_so(engine) -> None:
    with pytest.raises(UnknownTableError, match="run `quarterdeck run --as-of 2026-06-30`"):
        ops_metrics(engine, as_of=DAY)


def test_a_day_after_the_last_published_one_names_the_day_to_ask_for(book) -> None:
    from datetime import timedelta

    from quarterdeck.appdb.operations_exports import operations_table

    later = DAY + timedelta(days=65)
    for ask in (lambda: ops_metrics(book, as_of=later),
                lambda: operations_table(book, "lifecycle_stages", later)):
        with pytest.raises(UnknownTableError,
                           match=f"the latest published day before it is {DAY}; pass "
                                 f"--as-of {DAY}"):
            ask()
