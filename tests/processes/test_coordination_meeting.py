"""党团联席会议 at engine level: every path through bpmn/coordination_meeting.bpmn with the real forms,
time moved by the tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from processes.coordination_meeting import calendar_items, resolve_lane
from tests.processes.coordination_harness import beijing, start_case
from tests.processes.process_harness import FormRejected

KEY = "coordination_meeting"
T0 = beijing(2026, 12, 1)
LAST = {"kind": KEY, "year": 2026, "at": "2026-07-01T02:00:00+00:00", "instance": 1, "data": {"held_on": "2026-07-01"}}


def facts(kind: str = "party_general_branch", records: list | None = None) -> dict:
    return {"code": "DZZ" if kind == "party_general_branch" else "TZZ", "name": "机械工程学院党总支", "kind": kind,
            "records": {KEY: records} if records is not None else {}}


PLAN = {"meeting_date": "2026-12-20", "place": "学院会议室", "topics": ["推优工作", "年度考核安排"]}
MINUTES = {"held_on": "2026-12-20", "attendees": ["张书记", "李书记", "王老师"], "topics": ["推优工作", "年度考核安排"],
           "decisions": "一、规范推优台账；二、十二月底前完成考核。",
           "action_items": [
               {"title": "整理推优台账", "assignee_role": "league_general_branch_secretary", "due": "2027-01-10"},
               {"title": "起草考核方案", "assignee_role": "league_general_branch_committee", "assignee": "wei",
                "due": "2027-01-05"}]}


def test_plan_due_six_months_after_the_last_meeting_on_record():
    case = start_case(KEY, facts(records=[LAST]), at=T0)
    assert case.ready == ["plan_meeting"] and case.role("plan_meeting") == "party_general_branch_secretary"
    assert case.data["previous_meeting"] == "2026-07-01"
    assert case.task("plan_meeting").due_at == beijing(2027, 1, 1, 23, 59, 59)
    assert case.task("plan_meeting").data["due_note"] == "应于 2027-01-01 前召开（上次会议：2026-07-01）"
    assert case.milestone() == "筹备会议"


def test_first_meeting_without_a_record_is_due_after_first_meeting_days():
    case = start_case(KEY, facts("league_general_branch"), at=T0)
    assert case.role("plan_meeting") == "league_general_branch_secretary"
    assert case.task("plan_meeting").due_at == beijing(2026, 12, 31, 23, 59, 59)


def test_held_meeting_action_items_become_tasks_closed_with_notes():
    case = start_case(KEY, facts(records=[LAST]), at=T0).complete("plan_meeting", PLAN)
    assert case.ready == ["minutes"] and case.milestone() == "填写会议纪要"
    assert calendar_items(case.data) == [{"date": "2026-12-20", "kind": "meeting", "title": "召开党团联席会议：机械工程学院党总支"}]
    case.complete("minutes", MINUTES, at=beijing(2026, 12, 21))
    items = case.tasks("action_item")
    assert len(items) == 2 and case.milestone() == "落实会议事项"
    by_title = {t.data["item_title"]: t for t in items}
    assert by_title["起草考核方案"].data["assignee"] == "wei"  # assigneeVariable: that user alone
    assert by_title["整理推优台账"].data["assignee"] is None
    roles = sorted(case.role("action_item", i) for i in range(2))
    assert roles == ["league_general_branch_committee", "league_general_branch_secretary"]
    assert [i["title"] for i in calendar_items(case.data)] == ["会议事项到期：整理推优台账", "会议事项到期：起草考核方案"]
    with pytest.raises(FormRejected):
        case.complete("action_item", {"done": True})  # a note is required
    case.complete("action_item", {"note": "台账已整理", "done": True}, index=0)
    assert len(case.tasks("action_item")) == 1
    case.complete("action_item", {"note": "方案已印发"}, at=beijing(2027, 1, 4))
    assert case.completed and case.outcome == "held"
    assert sorted(r["note"] for r in case.data["action_results"]) == ["台账已整理", "方案已印发"]
    record, chained = case.effects()
    assert record["record"] == KEY and record["year"] == 2026 and record["data"]["held_on"] == "2026-12-20"
    assert record["data"]["attendees"] == MINUTES["attendees"] and record["data"]["action_items"] == 2
    assert chained == {"kind": "start_process", "process": KEY, "subject": "DZZ",
                       "data": {"previous_meeting": "2026-12-20"}}


def test_meeting_without_action_items_ends_at_the_minutes():
    case = start_case(KEY, facts(records=[LAST]), at=T0).complete("plan_meeting", PLAN)
    case.complete("minutes", {**MINUTES, "action_items": []})
    assert case.completed and case.outcome == "held" and case.data["action_results"] == []


def test_chained_case_is_due_six_months_after_the_meeting_it_follows():
    case = start_case(KEY, facts(records=[]), {"previous_meeting": "2026-12-20"}, at=beijing(2027, 1, 4))
    assert case.task("plan_meeting").due_at == beijing(2027, 6, 20, 23, 59, 59)
    assert case.next_timer() == beijing(2027, 6, 6, 23, 59, 59)  # the reminder, 14 days before


def test_reminder_then_overdue_escalates_to_the_party_general_branch_which_sets_a_new_date():
    case = start_case(KEY, facts("league_general_branch", records=[LAST]), at=T0)
    due = beijing(2027, 1, 1, 23, 59, 59)
    case.fire_timers(due - timedelta(days=13))
    assert case.ready == ["plan_meeting"] and case.next_timer() == due
    case.fire_timers(due + timedelta(hours=1))
    assert case.ready == ["meeting_overdue"] and case.role("meeting_overdue") == "party_general_branch_secretary"
    assert case.milestone() == "会议逾期，待党总支督促"
    case.complete("meeting_overdue", {"urge_note": "请于一月中旬前召开", "new_due": "2027-01-20"})
    assert case.ready == ["plan_meeting"] and case.data["overdue_notices"] == 1
    assert case.task("plan_meeting").due_at == beijing(2027, 1, 20, 23, 59, 59)
    assert case.task("plan_meeting").data["due_note"].endswith("（已督促）")
    case.complete("plan_meeting", PLAN).complete("minutes", {**MINUTES, "action_items": []})
    assert case.outcome == "held"


def test_a_new_date_in_the_past_still_gives_the_grace_period():
    case = start_case(KEY, facts(records=[LAST]), at=T0)
    late = beijing(2027, 1, 3)
    case.fire_timers(late)
    case.complete("meeting_overdue", {"urge_note": "尽快召开", "new_due": "2027-01-02"}, at=late)
    assert case.task("plan_meeting").due_at == late + timedelta(days=14)


def test_lanes_follow_the_convening_unit():
    assert resolve_lane("party_branch_secretary", "party_branch", {}) == "party_branch_secretary"
    assert resolve_lane("party_branch_secretary", "league_general_branch", {}) == "league_general_branch_secretary"
    assert resolve_lane("league_general_branch_committee", "party_general_branch",
                        {"item": {"assignee_role": "admin"}}) == "league_general_branch_secretary"
    assert resolve_lane("party_general_branch_secretary", "league_general_branch", {}) == "party_general_branch_secretary"
