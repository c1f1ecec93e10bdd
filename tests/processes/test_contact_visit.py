"""联系点走访 at engine level: every path through bpmn/contact_visit.bpmn with the real forms, time moved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from processes.contact_visit import calendar_items
from tests.processes.coordination_harness import beijing, start_case
from tests.processes.process_harness import FormRejected

KEY = "contact_visit"
T0 = beijing(2026, 9, 1)
FACTS = {"code": "TZB-JX2301", "name": "机械2301团支部", "kind": "league_branch", "paired_with": "DZB-S1"}
YEAR_END = beijing(2026, 12, 31, 23, 59, 59)
PROBLEMS = [
    {"title": "主题团日活动记录不全", "detail": "近三个月无记录", "handling": "follow_up"},
    {"title": "推优程序不规范", "detail": "未通知党支部列席", "handling": "rectification"},
    {"title": "团费收缴滞后", "handling": "follow_up"},
]


def start(**data):
    return start_case(KEY, FACTS, {"leader": "dzz_shuji", **data}, at=T0)


def visit(case, problems=PROBLEMS, at=None):
    return case.complete("visit", {"visited_on": "2026-10-12", "visit_form": "座谈会", "findings": "支部工作总体正常",
                                   "problems": problems}, at=at or beijing(2026, 10, 12))


def test_the_visit_goes_to_the_leader_and_is_due_at_the_end_of_the_year():
    case = start(planned_date="2026-10-12")
    assert case.ready == ["visit"] and case.task("visit").properties["assigneeVariable"] == "leader"
    assert case.task("visit").data["leader"] == "dzz_shuji"
    assert case.role("visit") == "party_branch_secretary"  # the lane if nobody is named
    assert case.task("visit").due_at == YEAR_END and case.milestone() == "待走访"
    assert calendar_items(case.data)[0]["date"] == "2026-10-12"


def test_problems_become_follow_up_tasks_and_a_rectification():
    case = visit(start())
    assert calendar_items(case.data) == []
    follow_ups = case.tasks("follow_up")
    assert len(follow_ups) == 2 and case.role("follow_up") == "league_branch_secretary"
    assert sorted(t.data["problem_title"] for t in follow_ups) == ["主题团日活动记录不全", "团费收缴滞后"]
    with pytest.raises(FormRejected):
        case.complete("follow_up", {"resolved": True})
    case.complete("follow_up", {"note": "已补齐记录", "resolved": True}).complete("follow_up", {"note": "已催缴", "resolved": False})
    assert case.completed and case.outcome == "visited"
    record, rectification = case.effects()
    assert record["record"] == KEY and record["year"] == 2026 and record["data"]["leader"] == "dzz_shuji"
    assert record["data"]["problems"] == [p["title"] for p in PROBLEMS]
    assert sorted(r["resolved"] for r in record["data"]["follow_up_results"]) == [False, True]
    assert rectification["process"] == "rectification" and rectification["subject"] == "TZB-JX2301"
    assert rectification["data"]["problems"] == [{"title": "推优程序不规范", "detail": "未通知党支部列席"}]
    assert rectification["data"]["issuer"] == "party_general_branch" and rectification["data"]["deadline"] == "2026-12-11"


def test_a_visit_without_problems_ends_at_once():
    case = visit(start(), problems=[])
    assert case.completed and case.outcome == "visited" and [e["kind"] for e in case.effects()] == ["record"]


def test_only_rectification_problems_need_no_follow_up_task():
    case = visit(start(), problems=[PROBLEMS[1]])
    assert case.completed and [e["kind"] for e in case.effects()] == ["record", "start_process"]


def test_overdue_visit_is_extended_by_the_party_general_branch():
    case = start(due="2026-10-31").fire_timers(beijing(2026, 11, 1, 9))
    assert case.ready == ["visit_overdue"] and case.role("visit_overdue") == "party_general_branch_secretary"
    assert case.task("visit_overdue").data["leader_view"] == "dzz_shuji"
    with pytest.raises(FormRejected):
        case.complete("visit_overdue", {"overdue_action": "extend"})  # the new date is required
    case.complete("visit_overdue", {"overdue_action": "extend", "new_due": "2026-11-30"})
    assert case.ready == ["visit"] and case.task("visit").due_at == beijing(2026, 11, 30, 23, 59, 59)
    visit(case, problems=[], at=beijing(2026, 11, 20))
    assert case.outcome == "visited" and case.data["extensions"] == 1


def test_overdue_visit_can_be_cancelled():
    case = start().fire_timers(YEAR_END + timedelta(minutes=5))
    case.complete("visit_overdue", {"overdue_action": "cancel", "overdue_note": "联系领导调离"})
    assert case.completed and case.outcome == "cancelled" and case.effects() == []
