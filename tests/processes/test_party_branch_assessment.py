"""党支部党建带团建工作考核 at engine level: every path through bpmn/party_branch_assessment.bpmn with the
real forms and bpmn/party_branch_grade.dmn, time moved by the tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from processes.party_branch_assessment import evidence_for, weighted_total
from tests.processes.coordination_harness import beijing, start_case
from tests.processes.process_harness import FormRejected

KEY = "party_branch_assessment"
T0 = beijing(2026, 12, 1)
DEADLINE = "2026-12-20"
DUE = beijing(2026, 12, 20, 23, 59, 59)
LEAGUE_WORK = {
    "paired_league_branches": ["TZB-JX2301", "TZB-JX2302"],
    "finished": {"2026": {"recommendation": {"accepted": 3, "declined": 1}, "branch_assessment": {"good": 2}},
                 "2025": {"recommendation": {"accepted": 9}}},
    "running": {"rectification": 1, "recommendation": 2},
    "records": {"2026": {"coordination_meeting": 2, "contact_visit": 3}, "2025": {"contact_visit": 1}},
}
FACTS = {"code": "DZB-S1", "name": "学生第一党支部", "kind": "party_branch", "parent": "DZZ", "league_work": LEAGUE_WORK}
FULL = {"leadership": 10, "recommendation": 9, "contact": 9, "cadres": 8, "rectification": 9}  # 90.5
POOR = {"leadership": 5, "recommendation": 4, "contact": 5, "cadres": 5, "rectification": 5}  # 47.5


def start(**data):
    return start_case(KEY, FACTS, {"year": 2026, "deadline": DEADLINE, "campaign_id": 1, **data}, at=T0)


def test_evidence_is_computed_at_start_from_the_facts_and_shown_in_the_forms():
    case = start()
    evidence = case.data["evidence"]
    assert evidence["recommendations"] == {"total": 4, "by_outcome": {"accepted": 3, "declined": 1}}
    assert (evidence["coordination_meetings"], evidence["contact_visits"], evidence["rectifications_open"]) == (2, 3, 1)
    assert case.ready == ["self_report"] and case.role("self_report") == "party_branch_secretary"
    lines = case.task("self_report").data["evidence_lines"]
    assert "2026 年办结推优 4 件（确定为积极分子 3，不同意 1）" in lines and "联系点走访 3 次" in lines
    assert case.milestone() == "党支部自查报告"
    assert case.next_timer() == DUE - timedelta(days=3)  # the reminder first


def test_good_result_no_rectification():
    case = start().complete("self_report", {"report": "全年研究团建工作 4 次", "highlights": "推优规范"})
    assert case.ready == ["score"] and case.role("score") == "party_general_branch_secretary"
    assert case.task("score").data["report_view"] == "全年研究团建工作 4 次"
    case.complete("score", {"scores": FULL, "comment": "工作扎实"})
    assert case.completed and case.outcome == "good"
    assert case.data["total"] == 90.5 and case.data["grade_title"] == "好"
    effects = case.effects()
    assert [e["kind"] for e in effects] == ["record"]
    assert effects[0]["record"] == KEY and effects[0]["year"] == 2026 and effects[0]["data"]["grade"] == "good"


@pytest.mark.parametrize(("scores", "grade"), [
    ({**FULL, "leadership": 7}, "fairly_good"),  # 84
    ({"leadership": 7, "recommendation": 7, "contact": 7, "cadres": 7, "rectification": 7}, "fairly_good"),  # 70
    ({"leadership": 6, "recommendation": 7, "contact": 6, "cadres": 6, "rectification": 6}, "average"),  # 62.5
    (POOR, "poor"),
], ids=["84", "70", "62.5", "47.5"])
def test_grade_bands_come_from_the_dmn(scores, grade):
    case = start().complete("self_report", {"report": "总结"}).complete("score", {"scores": scores})
    assert case.outcome == grade


def test_weak_result_opens_a_rectification_issued_by_the_party_general_branch():
    case = start().complete("self_report", {"report": "总结"})
    case.complete("score", {"scores": POOR, "problems": ["未召开党团联席会议", "推优台账不全"]})
    assert case.outcome == "poor"
    record, rectification = case.effects()
    assert record["kind"] == "record"
    assert rectification["kind"] == "start_process" and rectification["process"] == "rectification"
    assert rectification["subject"] == "DZB-S1"
    assert rectification["data"]["issuer"] == "party_general_branch"
    assert rectification["data"]["problems"] == ["未召开党团联席会议", "推优台账不全"]
    assert rectification["data"]["deadline"] == "2027-03-20"  # 90 days after the deadline


def test_weak_result_without_listed_problems_names_the_weak_indicators():
    case = start().complete("self_report", {"report": "总结"}).complete("score", {"scores": POOR})
    problems = case.effects()[1]["data"]["problems"]
    assert any(p.startswith("推优入党") for p in problems) and len(problems) == 5


def test_reminder_then_deadline_escalates_and_the_general_branch_extends():
    case = start()
    case.fire_timers(DUE - timedelta(days=3) + timedelta(minutes=1))
    assert case.ready == ["self_report"] and case.next_timer() == DUE  # reminded; the deadline is next
    case.fire_timers(DUE + timedelta(minutes=1))
    assert case.ready == ["self_report_overdue"] and case.milestone() == "自查报告逾期，待党总支处理"
    with pytest.raises(FormRejected) as rejected:
        case.complete("self_report_overdue", {"overdue_action": "extend"})
    assert "new_deadline" in rejected.value.fields
    case.complete("self_report_overdue", {"overdue_action": "extend", "new_deadline": "2026-12-31"})
    assert case.ready == ["self_report"] and case.data["extensions"] == 1
    assert case.next_timer() == beijing(2026, 12, 28, 23, 59, 59)
    case.complete("self_report", {"report": "补交的总结"}).complete("score", {"scores": FULL})
    assert case.outcome == "good"


def test_deadline_passed_general_branch_scores_without_the_report():
    case = start().fire_timers(DUE + timedelta(hours=1))
    case.complete("self_report_overdue", {"overdue_action": "skip", "overdue_note": "多次催交未交"})
    assert case.ready == ["score"] and case.data["self_report_missing"] is True
    assert case.task("score").data["report_view"] == "（党支部未提交自查报告）"
    case.complete("score", {"scores": POOR})
    assert case.outcome == "poor" and case.effects()[1]["process"] == "rectification"


def test_score_form_refuses_scores_above_the_maximum():
    case = start().complete("self_report", {"report": "总结"})
    with pytest.raises(FormRejected) as rejected:
        case.complete("score", {"scores": {**FULL, "leadership": 11}})
    assert "scores.leadership" in rejected.value.fields


def test_year_defaults_to_the_current_year_and_hand_started_cases_need_no_campaign():
    case = start_case(KEY, FACTS, {"deadline": "2027-01-15"}, at=beijing(2027, 1, 2))
    assert case.data["year"] == 2027 and case.data["evidence"]["recommendations"]["total"] == 0


def test_weighted_total_and_evidence_helpers():
    indicators = [{"key": "a", "weight": 60, "max": 10}, {"key": "b", "weight": 40, "max": 5}]
    assert weighted_total({"a": 5, "b": 5}, indicators) == 70.0
    assert weighted_total({"a": 50, "b": "x"}, indicators) == 60.0  # clamped; not a number counts 0
    assert evidence_for({}, 2026)["recommendations"]["total"] == 0
