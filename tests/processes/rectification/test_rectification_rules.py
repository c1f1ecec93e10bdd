"""整改: the pack's functions, lanes and hooks, and the consistency of the BPMN, forms and module."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from lxml import etree
from rectification_support import BPMN, FORMS, MEASURES, PROBLEMS

from processes import rectification as rect
from service import clock
from service.pack import ROLES

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
           "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


def _bpmn():
    return etree.parse(str(BPMN / "rectification.bpmn"))


# -- lanes -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lane", "unit_kind", "data", "role"), [
    # a League branch ordered by the League general branch: the lanes as drawn
    ("league_branch_secretary", "league_branch", {"issuer": "league_general_branch"}, "league_branch_secretary"),
    ("league_general_branch_secretary", "league_branch", {"issuer": "league_general_branch"},
     "league_general_branch_secretary"),
    ("party_general_branch_secretary", "league_branch", {"issuer": "league_general_branch"},
     "party_general_branch_secretary"),
    # a Party branch: its secretary; the Party general branch issues
    ("league_branch_secretary", "party_branch", {"issuer": "party_general_branch"}, "party_branch_secretary"),
    ("league_general_branch_secretary", "party_branch", {"issuer": "party_general_branch"},
     "party_general_branch_secretary"),
    ("league_general_branch_secretary", "party_branch", {}, "party_general_branch_secretary"),
    # a League branch ordered by the Party general branch directly
    ("league_general_branch_secretary", "league_branch", {"issuer": "party_general_branch"},
     "party_general_branch_secretary"),
    ("league_branch_secretary", "league_branch", {"issuer": "party_general_branch"}, "league_branch_secretary"),
    # the League general branch itself under rectification: the Party general branch orders it
    ("league_branch_secretary", "league_general_branch", {}, "league_general_branch_secretary"),
    ("league_general_branch_secretary", "league_general_branch", {}, "party_general_branch_secretary"),
    # an unknown unit kind leaves the lane as drawn
    ("league_branch_secretary", None, {}, "league_branch_secretary"),
])
def test_resolve_lane(lane, unit_kind, data, role):
    assert rect.resolve_lane(lane, unit_kind, data) == role
    assert role in ROLES


def test_a_party_branch_case_offers_its_tasks_to_the_party_secretaries(start):
    r = start(unit_kind="party_branch")
    assert r.data["issuer"] == "party_general_branch"  # the default issuer for a Party branch
    assert r.role("acknowledge") == "party_branch_secretary"
    r.acknowledge().submit_plan()
    assert r.role("plan_review") == "party_general_branch_secretary"
    r.review_plan()
    assert r.role("progress_report") == "party_branch_secretary"


def test_a_league_branch_case_offers_its_tasks_to_the_league_secretaries(start):
    r = start(unit_kind="league_branch")
    assert r.role("acknowledge") == "league_branch_secretary"
    r.acknowledge().submit_plan()
    assert r.role("plan_review") == "league_general_branch_secretary"


def test_an_order_of_the_party_general_branch_to_a_league_branch(start):
    r = start(data={"issuer": "party_general_branch"}).acknowledge().submit_plan()
    assert r.role("plan_review") == "party_general_branch_secretary"
    r.review_plan()
    assert r.role("progress_report") == "league_branch_secretary"


# -- time --------------------------------------------------------------------------------------------------
def test_deadline_moment():
    assert rect.deadline_moment("2027-03-31") == "2027-03-31T23:59:59+08:00"
    assert rect.deadline_moment("2027-03-31T18:00:00") == "2027-03-31T18:00:00+08:00"  # naive: Beijing time
    assert rect.deadline_moment("2027-03-31T10:00:00+00:00") == "2027-03-31T18:00:00+08:00"
    assert rect.deadline_moment(None) is None and rect.deadline_moment("") is None
    with pytest.raises(ValueError, match="整改期限"):
        rect.deadline_moment("下个月")


def test_reminder_moment():
    assert rect.reminder_moment("2027-03-31T23:59:59+08:00", 7) == "2027-03-24T23:59:59+08:00"
    assert rect.reminder_moment("2027-03-31T23:59:59+08:00", 0) is None
    assert rect.reminder_moment(None, 7) is None


def test_arm_deadline_skips_a_reminder_that_is_already_past():
    with clock.frozen_at(datetime(2027, 3, 1, tzinfo=UTC)):
        assert rect.arm_deadline("2027-03-31", 7)[2] == "reminder"
    with clock.frozen_at(datetime(2027, 3, 28, tzinfo=UTC)):
        assert rect.arm_deadline("2027-03-31", 7) == ("2027-03-31T23:59:59+08:00", "2027-03-24T23:59:59+08:00",
                                                      "deadline")
    assert rect.arm_deadline("2027-03-31", 0)[1:] == (None, "deadline")
    assert rect.arm_deadline(None, 7) == (None, None, "none")


def test_later_deadline():
    assert rect.later_deadline("2027-03-31", "2027-05-31") == "2027-05-31"
    assert rect.later_deadline("2027-03-31", "2027-03-01") == "2027-03-31"
    assert rect.later_deadline("2027-03-31", None) == "2027-03-31"
    assert rect.later_deadline(None, "2027-05-31") == "2027-05-31"
    assert rect.later_deadline("2027-03-31T12:00:00", "2027-03-31") == "2027-03-31"  # the end of that day is later


# -- problems ----------------------------------------------------------------------------------------------
def test_normalise_problems():
    assert rect.normalise_problems(PROBLEMS)[1] == {"title": "团员教育管理薄弱", "detail": "团员证注册率不足 80%"}
    assert rect.normalise_problems("单个问题") == [{"title": "单个问题", "detail": ""}]
    assert rect.normalise_problems([{"detail": "只有说明"}, "  ", None]) == [{"title": "只有说明", "detail": "只有说明"}]
    with pytest.raises(ValueError, match="问题清单"):
        rect.normalise_problems([])
    with pytest.raises(ValueError):
        rect.normalise_problems(None)


def test_problem_bookkeeping():
    status = ["open", "open", "open"]
    status = rect.mark_done(status, [0, "2", 9, True, 0])
    assert status == ["done", "open", "done"]
    assert rect.open_problems(status) == [1] and not rect.all_done(status)
    status = rect.mark_accepted(status, [0])
    assert status == ["accepted", "open", "done"]
    assert rect.unaccepted(status) == [1, 2]
    assert rect.reopen_unaccepted(status) == ["accepted", "open", "open"]
    assert rect.mark_done(["accepted", "open"], [0, 1]) == ["accepted", "done"]  # accepted stays accepted
    assert rect.all_done(["accepted", "done"])


def test_descriptions_for_the_forms():
    problems = rect.normalise_problems(PROBLEMS)
    assert rect.describe_problems(problems, ["accepted", "done", "open"]) == [
        "[0] 组织生活不规范，三会一课记录缺失（已验收）", "[1] 团员教育管理薄弱（已完成待验收）", "[2] 推优程序不完整（整改中）"]
    assert rect.describe_measures(problems, [MEASURES[0], {"problem": 9, "measure": "x"}, "junk"]) == [
        "[0] 组织生活不规范，三会一课记录缺失：补齐会议记录，每月召开支委会（时限 2027-01-31，责任人 李四）",
        "[9] （序号无效）：x（时限 ，责任人 ）"]
    assert rect.describe_deadline("2027-03-31", overdue=True) == "整改期限：2027-03-31（已逾期）"
    assert rect.describe_deadline("2027-03-31T18:00:00") == "整改期限：2027-03-31 18:00"
    assert rect.describe_deadline(None) == "整改期限：未设定"
    assert rect.describe_completion([]) == ""
    assert rect.describe_completion([{"round": 2, "report": "完成", "evidence": "台账"}]) == "第 2 轮整改报告：完成\n佐证材料：台账"


# -- hooks -------------------------------------------------------------------------------------------------
def test_initial_data_and_default_issuer():
    assert rect.initial_data({"name": "学生第一党支部", "kind": "party_branch", "code": "DZB-S1"}) == {
        "subject_name": "学生第一党支部", "subject_unit_kind": "party_branch"}
    assert rect.DEFINITION.start_defaults["issuer"] is None and rect.DEFINITION.start_defaults["source"] == "manual"
    assert rect.default_issuer(None, "party_branch") == "party_general_branch"
    assert rect.default_issuer(None, "league_branch") == "league_general_branch"
    assert rect.default_issuer("party_general_branch", "league_branch") == "party_general_branch"
    assert rect.default_issuer("somebody", "league_branch") == "league_general_branch"


def test_a_relapse_found_by_the_recheck_opens_a_new_rectification():
    data = {"subject": "TZB-JX2301", "problems": rect.normalise_problems(PROBLEMS), "issuer": "league_general_branch",
            "responsible": "李四", "recheck": {"relapsed": [1, 5], "new_deadline": "2027-09-30"}}
    effects = rect.on_complete("closed", data, {"code": "TZB-JX2301"})
    assert effects == [{"kind": "start_process", "process": "rectification", "subject": "TZB-JX2301", "data": {
        "problems": [{"title": "团员教育管理薄弱", "detail": "团员证注册率不足 80%"}], "deadline": "2027-09-30",
        "issuer": "league_general_branch", "responsible": "李四", "source": "recheck"}}]
    assert rect.on_complete("closed", {**data, "recheck": {"relapsed": []}}, {}) == []
    assert rect.on_complete("closed", {k: v for k, v in data.items() if k != "recheck"}, {}) == []
    assert rect.on_complete("terminated", data, {}) == []


# -- consistency of module, BPMN and forms -------------------------------------------------------------------
def test_every_user_task_has_its_forms_and_every_milestone_names_a_task():
    tree = _bpmn()
    user_tasks = {t.get("id"): t for t in tree.iter(f"{{{BPMN_NS['bpmn']}}}userTask")}
    assert {"acknowledge", "plan", "plan_review", "progress_report", "extension_request", "extension_review",
            "completion_report", "acceptance"} <= set(user_tasks)  # the data contract's task ids
    for task_id, task in user_tasks.items():
        props = {p.get("name"): p.get("value") for p in task.iter(f"{{{BPMN_NS['spiffworkflow']}}}property")}
        assert props == {"formJsonSchemaFilename": f"{task_id}.schema.json",
                         "formUiSchemaFilename": f"{task_id}.uischema.json"}
        schema = json.loads((FORMS / f"{task_id}.schema.json").read_text(encoding="utf-8"))
        ui = json.loads((FORMS / f"{task_id}.uischema.json").read_text(encoding="utf-8"))
        assert set(ui["ui:order"]) == set(schema["properties"]), task_id
        assert schema["additionalProperties"] is False
        for name in schema["properties"]:
            assert name not in rect.FUNCTIONS, f"{task_id}.{name} would shadow a script function"
    assert set(rect.DEFINITION.milestones) <= set(user_tasks)
    assert sorted(p.name for p in FORMS.iterdir()) == sorted(
        f"{t}.{kind}.json" for t in user_tasks for kind in ("schema", "uischema"))


def test_policies_and_definition():
    definition = rect.DEFINITION
    assert definition.key == "rectification" and definition.subject_kind == "org_unit"
    assert definition.policies == {"report_interval": "P30D", "reminder_days_before": 7, "max_plan_revisions": 3,
                                   "max_progress_reports": 12, "max_redos": 2, "recheck_enabled": False,
                                   "recheck_after": "P90D"}
    assert set(definition.start_roles) == {"league_general_branch_secretary", "party_general_branch_secretary"}
    assert definition.bpmn_filename == "rectification.bpmn"
