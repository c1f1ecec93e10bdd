"""团支部年度考核: the self-assessment deadline (reminder before it, escalation at it), the return loops
of confirmation and Party acceptance, and what a finished case asks the service to do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from branch_assessment_support import DUE, REMINDER, T0, beijing, sheet

from processes.branch_assessment import DEFINITION
from service.engine import ScriptFailure
from tests.processes.process_harness import FormRejected

SECOND = timedelta(seconds=1)


def test_the_first_step_is_the_branch_secretarys_self_assessment(start):
    case = start()

    (task,) = case.case.ready_human_tasks()
    assert task.name == "self_assessment"
    assert task.lane == "league_branch_secretary"
    assert task.due_at == DUE  # the campaign's deadline: the end of that day, Beijing time
    assert task.reminders == [REMINDER]  # policy reminder_days_before = 3
    assert case.case.next_timer_due() == REMINDER
    assert task.data["founded"] == "2023-09-15"  # the branch's facts prefill the form
    assert task.data["deadline_at"] == "2026-11-30T23:59:59+08:00"


def test_the_reminder_fires_before_the_deadline_and_keeps_the_task(start):
    case = start()
    task_id = case.task("self_assessment").id

    case.fire_timers(REMINDER - SECOND)
    assert case.task("self_assessment").reminders == [REMINDER]  # nothing was due yet

    case.fire_timers(REMINDER + SECOND)  # the engine fires a timer once its moment has passed
    task = case.task("self_assessment")
    assert task.id == task_id  # non-interrupting: the same task stays with the branch
    assert task.reminders == []  # the reminder has been given
    assert task.due_at == DUE
    assert case.case.next_timer_due() == DUE
    assert case.ready == ["self_assessment"]

    case.self_assess(88)  # the branch still submits in time
    assert case.ready == ["review", "review"]
    assert case.data["self_filled_in"] is False


def test_the_reminder_days_are_a_policy(start):
    case = start(policies={"reminder_days_before": 7})
    assert case.task("self_assessment").reminders == [DUE - timedelta(days=7)]


def test_at_the_deadline_the_general_branch_secretary_takes_over(start):
    case = start().fire_timers(REMINDER + SECOND)

    case.fire_timers(DUE - SECOND)
    assert case.ready == ["self_assessment"]

    case.fire_timers(DUE + SECOND)
    assert case.ready == ["self_assessment_overdue"]  # the branch's own task is withdrawn
    overdue = case.task("self_assessment_overdue")
    assert overdue.lane == "league_general_branch_secretary"
    assert DEFINITION.milestones["self_assessment_overdue"]
    assert case.case.next_timer_due() is None


def test_the_general_branch_secretary_extends_the_deadline(start):
    case = start().fire_timers(DUE + SECOND)
    with pytest.raises(FormRejected) as rejected:
        case.complete("self_assessment_overdue", {"overdue_action": "extend"})
    assert rejected.value.fields == {"new_deadline"}

    case.complete("self_assessment_overdue", {"overdue_action": "extend", "new_deadline": "2026-12-10",
                                              "comment": "班级实习，延期十天"}, at=DUE + timedelta(hours=9))

    task = case.task("self_assessment")  # back with the branch, with the new deadline and a new reminder
    new_due = beijing(2026, 12, 10, 23, 59, 59)
    assert task.due_at == new_due
    assert task.reminders == [new_due - timedelta(days=3)]
    assert case.data["extensions"] == 1

    case.fire_timers(new_due + SECOND)  # missed again: escalated again
    assert case.ready == ["self_assessment_overdue"]
    case.complete("self_assessment_overdue", {"overdue_action": "extend", "new_deadline": "2026-12-15"})
    case.self_assess(81)
    assert case.data["extensions"] == 2
    assert case.data["self_total"] == 81
    assert case.data["self_filled_in"] is False


def test_the_general_branch_secretary_fills_in_the_self_assessment(start):
    case = start().fire_timers(DUE + SECOND)
    with pytest.raises(FormRejected) as rejected:
        case.complete("self_assessment_overdue", {"overdue_action": "fill_in"})
    assert rejected.value.fields == {"scores", "evidence"}

    case.complete("self_assessment_overdue", {"overdue_action": "fill_in", "scores": sheet(61),
                                              "evidence": "支部未提交材料，按团总支掌握情况填写"})

    assert case.ready == ["review", "review"]
    assert case.data["self_total"] == 61
    assert case.data["self_filled_in"] is True
    case.review({"rev_wang": 58, "rev_li": 60}).confirm().accept()
    assert case.outcome == "weak"


def test_returned_at_confirmation_the_reviewers_score_again(start):
    case = start().self_assess().review({"rev_wang": 95, "rev_li": 93})
    assert case.data["grade"] == "excellent"
    with pytest.raises(FormRejected) as rejected:
        case.confirm("return")
    assert rejected.value.fields == {"comment"}

    case.confirm("return", "五星名额有限，请按指标重新核分")

    tasks = case.case.ready_human_tasks()
    assert sorted(t.data["reviewer"] for t in tasks) == ["rev_li", "rev_wang"]  # every reviewer, anew
    assert case.data["review_round"] == 2
    assert case.data["reviews"] == []
    assert case.data["grade"] is None  # no grade stands while the review is redone
    assert case.data["previous_grade"] == "excellent"
    assert [r["total"] for r in case.data["previous_reviews"]] == [95, 93]

    for task in case.case.ready_human_tasks():  # the reviewers' forms do not start with the return comment
        assert (task.data["comment"], task.data["veto"]) == ("", False)
    assert case.data["review_return_reason"] == "五星名额有限，请按指标重新核分"

    case.review({"rev_li": 88, "rev_wang": 86})
    assert case.ready == ["confirm"]
    assert case.data["review_mean"] == 87
    assert case.data["grade"] == "good"
    case.confirm().accept()
    assert case.outcome == "good"


def test_returned_by_the_party_general_branch_it_is_confirmed_again(start):
    case = start().self_assess().review({"rev_wang": 75, "rev_li": 77}).confirm()
    assert case.ready == ["party_acceptance"]
    party = case.task("party_acceptance")
    assert party.lane == "party_general_branch_secretary"
    with pytest.raises(FormRejected):
        case.accept("return")  # a return needs a reason

    case.accept("return", "请补充支部组织生活会记录后再报")
    assert case.ready == ["confirm"]
    confirm = case.task("confirm")  # the form starts empty; the Party's reason is shown beside it
    assert (confirm.data["decision"], confirm.data["comment"]) == (None, "")
    assert confirm.data["party_return_reason"] == "请补充支部组织生活会记录后再报"
    assert case.data["grade"] == "fair"  # the grade stands; the general branch may confirm or send it back

    case.confirm("return", "按党总支意见重新评审").review({"rev_wang": 68, "rev_li": 66})
    assert case.data["grade"] == "lagging"
    case.confirm().accept("accept", "同意")
    assert case.outcome == "lagging"
    assert case.data["review_round"] == 2


def test_the_loops_survive_several_rounds(start):
    case = start().self_assess().review({"rev_wang": 80, "rev_li": 80})
    for _ in range(4):
        case.confirm().accept("return", "再议")
    for _ in range(3):
        case.confirm("return", "重评").review({"rev_wang": 80, "rev_li": 80})
    case.confirm().accept()
    assert case.outcome == "good"
    assert case.data["review_round"] == 4


@pytest.mark.parametrize("grade_total", [("lagging", 65), ("weak", 30)])
def test_a_lagging_or_weak_branch_gets_a_rectification_case(start, grade_total):
    grade, total = grade_total
    case = start().self_assess().review({"rev_wang": total, "rev_li": total}).confirm().accept()
    assert case.outcome == grade

    assert DEFINITION.on_complete is not None
    effects = DEFINITION.on_complete(case.outcome, case.data, {"code": "TZB-JX2301"})

    (effect,) = effects
    assert effect["kind"] == "start_process"
    assert effect["process"] == "rectification"
    assert effect["subject"] == "TZB-JX2301"
    data = effect["data"]
    assert data["issuer"] == "league_general_branch"
    assert data["source"] == "branch_assessment"
    assert data["deadline"] == "2027-02-28"  # 90 days (policy rectification_days) after the 2026-11-30 deadline
    assert data["assessment_grade"] == grade and data["assessment_year"] == 2026
    assert data["problems"] and all(isinstance(p, str) and p for p in data["problems"])
    assert any(p.startswith("支委会建设") for p in data["problems"])  # the indicators below 60 % are named


def test_a_veto_reason_becomes_a_problem_to_rectify(start):
    case = start().self_assess().review({"rev_wang": 95, "rev_li": 94}, vetoes={"rev_wang": "支部委员长期缺位"})
    case.confirm().accept()
    effects = DEFINITION.on_complete(case.outcome, case.data, {"code": "TZB-JX2301"})
    assert effects[0]["data"]["problems"] == ["否决项：支部委员长期缺位"]


@pytest.mark.parametrize("total", [95, 85, 75])
def test_good_branches_need_no_rectification(start, total):
    case = start().self_assess().review({"rev_wang": total, "rev_li": total}).confirm().accept()
    assert DEFINITION.on_complete(case.outcome, case.data, {"code": "TZB-JX2301"}) == []


def test_a_case_without_a_deadline_stops_with_a_clear_error(start):
    with pytest.raises(ScriptFailure) as failure:
        start(deadline=None)
    assert failure.value.element_id == "prepare"
    assert "deadline" in failure.value.message


def test_the_case_starts_at_the_launch_time(start):
    case = start(at=T0)
    assert case.now == T0
