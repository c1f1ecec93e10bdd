"""党建带团建目标责任书 at engine level: every path through bpmn/responsibility_letter.bpmn with the real
forms, time moved to the next spring's review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from processes.responsibility_letter import DEFAULT_TARGETS, calendar_items
from tests.processes.coordination_harness import beijing, start_case
from tests.processes.process_harness import FormRejected

KEY = "responsibility_letter"
T0 = beijing(2026, 3, 10)
REVIEW = beijing(2027, 3, 1, 9)


def facts(kind: str = "league_branch") -> dict:
    codes = {"league_branch": "TZB-JX2301", "party_branch": "DZB-S1", "league_general_branch": "TZZ"}
    return {"code": codes[kind], "name": "机械2301团支部", "kind": kind}


def signed(kind: str = "league_branch"):
    case = start_case(KEY, facts(kind), {"year": 2026}, at=T0)
    case.complete("set_targets", {"targets": case.data["targets"]})
    case.complete("sign", {"decision": "sign", "signed_by": "李四", "signed_on": "2026-03-12"})
    return case.complete("counter_sign", {"counter_signed_by": "王五", "counter_signed_on": "2026-03-13"})


@pytest.mark.parametrize(("kind", "superior", "unit"), [
    ("league_branch", "league_general_branch_secretary", "league_branch_secretary"),
    ("party_branch", "party_general_branch_secretary", "party_branch_secretary"),
    ("league_general_branch", "party_general_branch_secretary", "league_general_branch_secretary"),
], ids=["league_branch", "party_branch", "league_general_branch"])
def test_targets_by_policy_and_lanes_by_level(kind, superior, unit):
    case = start_case(KEY, facts(kind), {"year": 2026}, at=T0)
    assert case.ready == ["set_targets"] and case.role("set_targets") == superior
    assert case.data["targets"] == DEFAULT_TARGETS[kind]
    case.complete("set_targets", {"targets": case.data["targets"]})
    assert case.role("sign") == unit and case.milestone() == "责任单位签订"


def test_signed_counter_signed_then_reviewed_next_spring():
    case = signed()
    assert case.ready == [] and case.milestone() == "已签订，待来年考评"
    assert case.next_timer() == REVIEW
    assert calendar_items(case.data) == [{"date": "2027-03-01", "kind": "review",
                                          "title": "目标责任书年度考评：机械2301团支部（2026 年度）"}]
    case.fire_timers(REVIEW - timedelta(days=1))
    assert case.ready == []
    case.fire_timers(REVIEW + timedelta(minutes=1))
    assert case.ready == ["self_review"] and case.role("self_review") == "league_branch_secretary"
    rows = case.task("self_review").data["self_results"]
    assert [r["target"] for r in rows] == DEFAULT_TARGETS["league_branch"] and not any(r["met"] for r in rows)
    results = [{**r, "met": i != 3, "note": "完成" if i != 3 else "换届推迟"} for i, r in enumerate(rows)]
    case.complete("self_review", {"self_results": results, "self_summary": "基本完成"})
    assert case.role("review") == "league_general_branch_secretary"
    assert case.task("review").data["results"] == results  # prefilled from the self-review
    case.complete("review", {"results": results, "review_comment": "换届需抓紧"})
    assert case.completed and case.outcome == "partly_met"
    [record] = case.effects()
    assert record["record"] == KEY and record["year"] == 2026 and record["data"]["signed_on"] == "2026-03-12"


def test_all_targets_met_and_none_met():
    case = signed().fire_timers(REVIEW + timedelta(hours=1))
    rows = case.task("self_review").data["self_results"]
    case.complete("self_review", {"self_results": rows, "self_summary": "未完成"})
    case.complete("review", {"results": [{**r, "met": True} for r in rows], "review_comment": "上级认定全部完成"})
    assert case.outcome == "all_met"
    case = signed().fire_timers(REVIEW + timedelta(hours=1))
    case.complete("self_review", {"self_results": rows, "self_summary": "未完成"})
    case.complete("review", {"results": rows, "review_comment": "均未完成"})
    assert case.outcome == "none_met"


def test_an_objection_goes_back_to_the_superior():
    case = start_case(KEY, facts(), {"year": 2026, "targets": ["目标一", "目标二"]}, at=T0)
    assert case.data["targets"] == ["目标一", "目标二"]
    case.complete("set_targets", {"targets": ["目标一", "目标二"]})
    with pytest.raises(FormRejected) as rejected:
        case.complete("sign", {"decision": "object"})
    assert "sign_comment" in rejected.value.fields
    with pytest.raises(FormRejected):
        case.complete("sign", {"decision": "sign"})  # who signed and when are required
    case.complete("sign", {"decision": "object", "sign_comment": "目标二不切实际"})
    assert case.ready == ["set_targets"] and case.task("set_targets").data["objection"] == "目标二不切实际"
    case.complete("set_targets", {"targets": ["目标一", "目标二（调整）"]})
    case.complete("sign", {"decision": "sign", "signed_by": "李四", "signed_on": "2026-03-20"})
    assert case.ready == ["counter_sign"] and case.data["revisions"] == 1
    assert case.task("counter_sign").data["targets_view"] == ["目标一", "目标二（调整）"]
