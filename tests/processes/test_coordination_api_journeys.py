"""The coordination processes through the HTTP API, each role in turn: a coordination meeting whose action
items land in the right inboxes, a contact visit whose problems become a follow-up and a rectification,
the Party branch assessment (launched as a campaign) reading that visit as evidence, and a
responsibility letter signed, counter-signed and reviewed the next spring. Another branch is kept out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service import clock
from tests.processes.process_harness import beijing

ROOT = Path(__file__).resolve().parents[2]
T0 = beijing(2026, 12, 1)
USERS = ("admin", "dzz", "tzz", "dzb1", "sec1", "sec2")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


class Api:
    def __init__(self, client: Any, login: Callable[[str], dict[str, str]]):
        self.client, self.now = client, T0
        with clock.frozen_at(T0):
            self.headers = {user: login(user) for user in USERS}

    def call(self, user: str, method: str, path: str, status: int | tuple[int, ...], **kwargs: Any) -> Any:
        with clock.frozen_at(self.now):
            response = self.client.open(path, method=method, headers=self.headers[user], **kwargs)
        wanted = status if isinstance(status, tuple) else (status,)
        assert response.status_code in wanted, (user, method, path, response.status_code, response.get_json())
        return response.get_json()

    def start(self, user: str, process: str, subject: str, data: dict[str, Any], status: int = 201) -> Any:
        return self.call(user, "POST", "/api/v1/instances", status,
                         json={"process": process, "subject": subject, "data": data})

    def tasks(self, user: str, process: str, name: str) -> list[dict[str, Any]]:
        items = self.call(user, "GET", f"/api/v1/tasks?process={process}", 200)["items"]
        return [t for t in items if t["name"] == name]

    def complete(self, user: str, process: str, name: str, data: dict[str, Any], status: int = 200) -> Any:
        found = self.tasks(user, process, name)
        assert found, (user, process, name)
        return self.call(user, "POST", f"/api/v1/tasks/{found[0]['id']}/complete", status, json={"data": data})

    def instances(self, process: str) -> list[dict[str, Any]]:
        return self.call("admin", "GET", f"/api/v1/instances?process={process}", 200)["items"]

    def fire(self, at: datetime) -> None:
        from service.timers.operations import run_due

        self.now = at
        run_due(now=at)


@pytest.fixture
def api(college: Any, make_user: Callable[..., Any], deploy: Callable[..., Any], client: Any,
        login: Callable[[str], dict[str, str]]) -> Api:
    make_user("admin", [("admin", None)])
    make_user("dzz", [("party_general_branch_secretary", "DZZ")])
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])
    make_user("sec1", [("league_branch_secretary", "TZB-JX2301")])
    make_user("sec2", [("league_branch_secretary", "TZB-JX2401")])
    with clock.frozen_at(T0):
        for key in ("coordination_meeting", "contact_visit", "party_branch_assessment", "responsibility_letter",
                    "rectification"):
            assert deploy(ROOT / "bpmn" / f"{key}.bpmn").warnings == []
    return Api(client, login)


def test_a_coordination_meeting_and_its_action_items(api: Api) -> None:
    api.start("sec1", "coordination_meeting", "DZZ", {}, status=403)
    case = api.start("dzz", "coordination_meeting", "DZZ", {})
    assert api.tasks("tzz", "coordination_meeting", "plan_meeting") == []
    api.complete("dzz", "coordination_meeting", "plan_meeting",
                 {"meeting_date": "2026-12-15", "topics": ["推优工作"], "place": "会议室"})
    api.complete("dzz", "coordination_meeting", "minutes", {
        "held_on": "2026-12-15", "attendees": ["党总支书记", "团总支书记"], "topics": ["推优工作"],
        "decisions": "规范推优台账", "action_items": [
            {"title": "整理推优台账", "assignee_role": "league_general_branch_secretary", "due": "2027-01-10"},
            {"title": "支部自查", "assignee_role": "league_general_branch_committee", "assignee": "sec1",
             "due": "2027-01-05"}]})
    [mine] = api.tasks("tzz", "coordination_meeting", "action_item")
    assert mine["lane"] == "league_general_branch_secretary"
    assert [t["name"] for t in api.tasks("sec1", "coordination_meeting", "action_item")] == ["action_item"]
    assert api.tasks("sec2", "coordination_meeting", "action_item") == []
    api.complete("tzz", "coordination_meeting", "action_item", {"note": ""}, status=422)
    api.complete("tzz", "coordination_meeting", "action_item", {"note": "台账已整理"})
    api.complete("sec1", "coordination_meeting", "action_item", {"note": "自查完成", "done": True})
    done = api.call("dzz", "GET", f"/api/v1/instances/{case['id']}", 200)
    assert done["status"] == "completed" and done["outcome"] == "held"
    api.call("sec2", "GET", f"/api/v1/instances/{case['id']}", (403, 404))
    running = [i for i in api.instances("coordination_meeting") if i["status"] == "running"]
    assert len(running) == 1 and running[0]["subject"] == "DZZ"  # the next meeting's case


def test_a_contact_visit_feeds_the_party_branch_assessment(api: Api) -> None:
    api.start("sec2", "contact_visit", "TZB-JX2301", {"leader": "dzb1"}, status=403)
    api.start("dzb1", "contact_visit", "TZB-JX2301", {"leader": "dzb1"}, status=201)
    assert api.tasks("dzz", "contact_visit", "visit") == []  # the named leader alone
    api.complete("dzb1", "contact_visit", "visit", {
        "visited_on": "2026-12-02", "findings": "总体良好", "problems": [
            {"title": "团日活动记录不全", "handling": "follow_up"},
            {"title": "推优未通知党支部", "detail": "程序不完整", "handling": "rectification"}]})
    api.complete("sec1", "contact_visit", "follow_up", {"note": "已补齐", "resolved": True})
    [visit] = api.instances("contact_visit")
    assert visit["status"] == "completed" and visit["outcome"] == "visited"
    [rectification] = api.instances("rectification")
    assert rectification["subject"] == "TZB-JX2301"
    api.call("sec2", "GET", f"/api/v1/instances/{visit['id']}", (403, 404))

    api.call("dzb1", "POST", "/api/v1/campaigns", 403,
             json={"process": "party_branch_assessment", "year": 2026, "deadline": "2026-12-20"})
    launched = api.call("dzz", "POST", "/api/v1/campaigns", 201,
                        json={"process": "party_branch_assessment", "year": 2026, "deadline": "2026-12-20"})
    assert launched["instances"] == 2  # DZB-S1 and DZB-S2
    [report] = api.tasks("dzb1", "party_branch_assessment", "self_report")
    task = api.call("dzb1", "GET", f"/api/v1/tasks/{report['id']}", 200)
    assert "联系点走访 1 次" in task["data"]["evidence_lines"]
    assert "未完成的整改 1 件" in task["data"]["evidence_lines"]
    from service.instances.subjects import resolve_subject

    work = resolve_subject("org_unit", "DZB-S1").facts["league_work"]  # the Party branch's figures
    assert work["paired_league_branches"] == ["TZB-JX2301", "TZB-JX2302"]
    assert work["finished"]["2026"]["contact_visit"] == {"visited": 1}
    assert work["records"]["2026"] == {"contact_visit": 1} and work["running"]["rectification"] == 1
    api.complete("dzb1", "party_branch_assessment", "self_report", {"report": "全年工作总结"})
    scores = {"leadership": 5, "recommendation": 5, "contact": 5, "cadres": 5, "rectification": 5}
    assert api.tasks("dzb1", "party_branch_assessment", "score") == []  # the general branch scores
    api.complete("dzz", "party_branch_assessment", "score", {"scores": scores, "problems": ["联系指导不够"]})
    graded = [i for i in api.instances("party_branch_assessment") if i["subject"] == "DZB-S1"][0]
    assert graded["status"] == "completed" and graded["outcome"] == "poor"
    ordered = [i for i in api.instances("rectification") if i["subject"] == "DZB-S1"]
    assert len(ordered) == 1
    assert [t["name"] for t in api.tasks("dzb1", "rectification", "acknowledge")] == ["acknowledge"]


def test_a_responsibility_letter_signed_and_reviewed_next_spring(api: Api) -> None:
    api.start("sec1", "responsibility_letter", "TZB-JX2301", {"year": 2026}, status=403)
    case = api.start("tzz", "responsibility_letter", "TZB-JX2301", {"year": 2026})
    api.complete("tzz", "responsibility_letter", "set_targets", {"targets": ["目标一", "目标二"]})
    assert api.tasks("sec2", "responsibility_letter", "sign") == []
    api.complete("sec1", "responsibility_letter", "sign",
                 {"decision": "sign", "signed_by": "李四", "signed_on": "2026-12-02"})
    api.complete("tzz", "responsibility_letter", "counter_sign",
                 {"counter_signed_by": "王五", "counter_signed_on": "2026-12-03"})
    waiting = api.call("tzz", "GET", f"/api/v1/instances/{case['id']}", 200)
    assert waiting["milestone"] == "已签订，待来年考评" and waiting["ready_tasks"] == []
    api.fire(beijing(2027, 3, 1, 10))
    [review] = api.tasks("sec1", "responsibility_letter", "self_review")
    rows = api.call("sec1", "GET", f"/api/v1/tasks/{review['id']}", 200)["data"]["self_results"]
    results = [{**rows[0], "met": True, "note": "完成"}, {**rows[1], "met": False, "note": "未完成"}]
    api.complete("sec1", "responsibility_letter", "self_review", {"self_results": results, "self_summary": "基本完成"})
    api.complete("tzz", "responsibility_letter", "review", {"results": results, "review_comment": "继续努力"})
    done = api.call("tzz", "GET", f"/api/v1/instances/{case['id']}", 200)
    assert done["status"] == "completed" and done["outcome"] == "partly_met"
