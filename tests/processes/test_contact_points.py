"""联系点安排 at engine level: every path through bpmn/contact_points.bpmn with the real form — a table that
holds (one contact_visit per contact point, due by 31 December, and a record), tables sent back (a leader
with 0 or 3 branches, a branch twice, unknown leaders and branches, a leader on two rows) and fixed — plus
the start rules (one table per year) and last year's table offered again."""

from __future__ import annotations

import pytest

from processes.contact_points import check_assignments, start_check
from service import clock
from service.inbox.task_page import render_instructions
from tests.processes.coordination_harness import beijing, start_case
from tests.processes.process_harness import FormRejected

KEY = "contact_points"
T0 = beijing(2026, 3, 2)
BRANCHES = [{"code": "TZB-JX2301", "name": "机械2301团支部"}, {"code": "TZB-JX2302", "name": "机械2302团支部"},
            {"code": "TZB-JX2401", "name": "机械2401团支部"}]
LEADERS = [{"username": "dzz_shuji", "name": "刘建国", "roles": ["party_general_branch_secretary"]},
           {"username": "dzbs1_shuji", "name": "王芳", "roles": ["party_branch_secretary"]},
           {"username": "dzbs2_shuji", "name": "李静", "roles": ["party_branch_secretary"]}]
FACTS = {"code": "DZZ", "name": "机械工程学院党总支", "kind": "party_general_branch",
         "structure": {"league_branches": BRANCHES, "party_leaders": LEADERS}, "records": {}}
VALID = [{"leader": "dzz_shuji", "branches": ["TZB-JX2301", "TZB-JX2401"], "note": "重点联系新生团支部"},
         {"leader": "dzbs1_shuji", "branches": ["TZB-JX2302"]}]


def start(facts=FACTS, data=None, **kwargs):
    return start_case(KEY, facts, data or {}, at=T0, **kwargs)


def assign(case, rows):
    return case.complete("assign", {"assignments": rows})


def fields(case):
    return [p["field"] for p in case.data["assignment_problems"]]


def test_a_valid_table_starts_one_visit_per_contact_point_and_is_recorded():
    case = start()
    assert case.ready == ["assign"] and case.role("assign") == "party_general_branch_secretary"
    assert case.milestone() == "待安排联系点" and case.data["year"] == 2026
    assert case.task("assign").data["assignments"] == []  # no earlier table to offer
    assign(case, [{**VALID[0], "branches": [" tzb-jx2301 ", "TZB-JX2401"]}, VALID[1]])  # codes tidied
    assert case.completed and case.outcome == "assigned"
    *visits, record = case.effects()
    assert [(v["kind"], v["process"], v["subject"], v["data"]) for v in visits] == [
        ("start_process", "contact_visit", "TZB-JX2301", {"leader": "dzz_shuji", "due": "2026-12-31", "year": 2026}),
        ("start_process", "contact_visit", "TZB-JX2401", {"leader": "dzz_shuji", "due": "2026-12-31", "year": 2026}),
        ("start_process", "contact_visit", "TZB-JX2302", {"leader": "dzbs1_shuji", "due": "2026-12-31", "year": 2026})]
    assert record == {"kind": "record", "record": KEY, "year": 2026, "data": {"assignments": [
        {"leader": "dzz_shuji", "branches": ["TZB-JX2301", "TZB-JX2401"], "note": "重点联系新生团支部"},
        {"leader": "dzbs1_shuji", "branches": ["TZB-JX2302"], "note": ""}]}}


def test_a_leader_with_no_branch_or_three_is_sent_back_then_fixed():
    case = assign(start(), [{"leader": "dzbs1_shuji", "branches": []},
                            {"leader": "dzbs2_shuji", "branches": [b["code"] for b in BRANCHES]}])
    assert not case.completed and case.ready == ["assign"] and case.milestone() == "待安排联系点"
    assert fields(case) == ["assignments.0.branches", "assignments.1.branches"]
    first, second = (p["message"] for p in case.data["assignment_problems"])
    assert first == "第 1 行：dzbs1_shuji 联系团支部 0 个，须为 1–2 个 / row 1: dzbs1_shuji has 0 contact branches, 1–2 required"
    assert "dzbs2_shuji 联系团支部 3 个" in second and "has 3 contact branches" in second
    task = case.task("assign")  # the form comes back with what was entered and the problems listed
    assert task.data["assignments"][1]["branches"] == [b["code"] for b in BRANCHES]
    shown = str(render_instructions(task.instructions, task.data))
    assert "请修改：第 1 行：dzbs1_shuji 联系团支部 0 个" in shown
    assert "dzbs1_shuji（王芳）" in shown and "TZB-JX2401 机械2401团支部" in shown and "2026 年 12 月 31 日" in shown
    assign(case, VALID)
    assert case.completed and case.outcome == "assigned" and case.data["assignment_problems"] == []
    assert len(case.effects()) == 4


def test_a_branch_twice_for_one_leader_is_sent_back_but_two_leaders_may_share_one():
    case = assign(start(), [{"leader": "dzz_shuji", "branches": ["TZB-JX2301", "tzb-jx2301"]},
                            {"leader": "dzbs1_shuji", "branches": ["TZB-JX2301"]}])
    assert case.ready == ["assign"] and fields(case) == ["assignments.0.branches"]
    assert case.data["assignment_problems"][0]["message"] == "第 1 行：团支部 TZB-JX2301 重复填写 / row 1: TZB-JX2301 listed twice"
    assign(case, [{"leader": "dzz_shuji", "branches": ["TZB-JX2301"]}, {"leader": "dzbs1_shuji", "branches": ["TZB-JX2301"]}])
    assert case.completed and [e["subject"] for e in case.effects()[:-1]] == ["TZB-JX2301", "TZB-JX2301"]


def test_unknown_leaders_and_branches_and_a_leader_on_two_rows_are_sent_back():
    case = assign(start(), [{"leader": "nobody", "branches": ["TZB-XX9999", "TZZ"]},
                            {"leader": "dzz_shuji", "branches": ["TZB-JX2301"]},
                            {"leader": " dzz_shuji ", "branches": ["TZB-JX2302"]},
                            {"leader": "  ", "branches": ["TZB-JX2401"]}])
    messages = [p["message"] for p in case.data["assignment_problems"]]
    assert fields(case) == ["assignments.0.leader", "assignments.0.branches", "assignments.2.leader", "assignments.3.leader"]
    assert "nobody 不是本党总支党组织负责人的账号" in messages[0]
    assert "团支部 TZB-XX9999、TZZ 不存在或不属于本党总支" in messages[1]
    assert "dzz_shuji 已在第 2 行" in messages[2] and "one row per leader" in messages[2]
    assert "未填写联系领导账号" in messages[3]
    assert case.ready == ["assign"]


def test_the_form_itself_needs_a_row_with_a_leader():
    case = start()
    with pytest.raises(FormRejected):
        assign(case, [])
    with pytest.raises(FormRejected) as rejected:
        assign(case, [{"branches": ["TZB-JX2301"]}])
    assert any(f.startswith("assignments") for f in rejected.value.fields)
    assert case.ready == ["assign"]


def test_the_policies_set_how_many_branches_a_leader_has():
    case = start(policies={"max_branches_per_leader": 3})
    assign(case, [{"leader": "dzz_shuji", "branches": [b["code"] for b in BRANCHES]}])
    assert case.completed and len(case.effects()) == 4
    case = assign(start(policies={"min_branches_per_leader": 2}), [VALID[1]])
    assert "须为 2–2 个" in case.data["assignment_problems"][0]["message"]


def test_last_years_table_is_offered_again_and_the_year_is_given():
    last_year = {"kind": KEY, "year": 2025, "data": {"assignments": [
        {"leader": "dzbs2_shuji", "branches": ["TZB-JX2401"], "note": "继续联系"}]}}
    case = start({**FACTS, "records": {KEY: [last_year]}}, {"year": 2027})
    assert case.data["year"] == 2027
    assert case.task("assign").data["assignments"] == [{"leader": "dzbs2_shuji", "branches": ["TZB-JX2401"], "note": "继续联系"}]
    assign(case, case.task("assign").data["assignments"])
    assert case.effects()[0]["data"] == {"leader": "dzbs2_shuji", "due": "2027-12-31", "year": 2027}


def test_the_year_is_beijings():
    late = start_case(KEY, FACTS, {}, at=beijing(2027, 1, 1, 0, 30))  # still 2026 in UTC
    assert late.data["year"] == 2027


def test_one_table_per_general_branch_and_year_for_this_year_or_the_next():
    roles = frozenset({"party_general_branch_secretary"})
    done = {**FACTS, "records": {KEY: [{"kind": KEY, "year": 2026, "data": {"assignments": []}}]}}
    with clock.frozen_at(T0):
        assert start_check(roles, FACTS, {"year": None}) is None
        assert start_check(roles, FACTS, {"year": 2027}) is None
        assert "已安排" in start_check(roles, done, {"year": None})
        assert start_check(roles, done, {"year": 2027}) is None
        assert "今年或明年" in start_check(roles, FACTS, {"year": 2025})
        assert "今年或明年" in start_check(roles, FACTS, {"year": 2028})
        assert "主体须为党总支" in start_check(roles, {**FACTS, "kind": "league_branch"}, {"year": None})


def test_without_roster_facts_only_the_counts_are_checked():
    """A dry run in the modeler has no roster: the leaders and codes cannot be checked there."""
    rows = [{"leader": "anyone", "branches": ["X-1", "X-2", "X-3"]}, {"leader": "other", "branches": ["Y-1"]}]
    checked = check_assignments(rows, None, None, {})
    assert [p["field"] for p in checked["problems"]] == ["assignments.0.branches"]
    assert checked["assignments"][1] == {"leader": "other", "branches": ["Y-1"], "note": ""}
