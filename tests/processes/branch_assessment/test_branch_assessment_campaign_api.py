"""团支部年度考核 through the HTTP API: a campaign launched for the `college` fixture's League branches,
each person in turn doing their step, the campaign-wide quota check at confirmation, the Party
general branch's acceptance, and the rectification a lagging branch gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from branch_assessment_support import ROOT, beijing, sheet
from sqlalchemy import select

from service import clock
from service.audit import AuditEvent
from service.campaigns.operations import quota_violations
from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.instances.operations import restore_case
from service.timers.operations import run_due

BRANCHES = ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]
SECRETARY = {"TZB-JX2301": "sec2301", "TZB-JX2302": "sec2302", "TZB-JX2401": "sec2401"}
LAUNCH = beijing(2025, 3, 15)  # TZB-JX2401 was founded 2024-09-15: exactly six months before
DEADLINE = "2025-04-15"
USERS = {
    "admin": [("admin", None)],
    "tzz_sec": [("league_general_branch_secretary", "TZZ")],
    "rev_wang": [("league_general_branch_committee", "TZZ")],
    "rev_li": [("league_general_branch_committee", "TZZ")],
    "dzz_sec": [("party_general_branch_secretary", "DZZ")],
    "sec2301": [("league_branch_secretary", "TZB-JX2301")],
    "sec2302": [("league_branch_secretary", "TZB-JX2302")],
    "sec2401": [("league_branch_secretary", "TZB-JX2401")],
}


@dataclass
class Campus:
    client: Any
    auth: dict[str, dict[str, str]]
    now: datetime = LAUNCH
    campaign: dict[str, Any] = field(default_factory=dict)

    def call(self, user: str | None, method: str, path: str, status: int | None = None, **kwargs: Any) -> Any:
        headers = dict(self.auth[user]) if user else {}
        with clock.frozen_at(self.now):
            response = self.client.open(path, method=method, headers=headers, **kwargs)
        if status is not None:
            assert response.status_code == status, (method, path, response.status_code, response.get_data(as_text=True))
        return response.get_json()

    def get(self, user: str, path: str, status: int = 200) -> Any:
        return self.call(user, "GET", path, status)

    def post(self, user: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        return self.call(user, "POST", path, status, **kwargs)

    # -- the campaign's steps ------------------------------------------------------------------------
    def launch(self, user: str = "tzz_sec", status: int = 201, **body: Any) -> Any:
        result = self.post(user, "/api/v1/campaigns", status,
                           json={"process": "branch_assessment", "year": 2024, "deadline": DEADLINE, **body})
        if status == 201:
            self.campaign = result
        return result

    def progress(self, user: str = "tzz_sec", status: int = 200) -> Any:
        return self.get(user, f"/api/v1/campaigns/{self.campaign['id']}", status)

    def rows(self, user: str = "tzz_sec") -> dict[str, dict[str, Any]]:
        return {row["subject"]: row for row in self.progress(user)["items"]}

    def inbox(self, user: str, subject: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        query = "?process=branch_assessment" + (f"&subject={subject}" if subject else "")
        items = self.get(user, f"/api/v1/tasks{query}")["items"]
        return [t for t in items if name is None or t["name"] == name]

    def do(self, user: str, subject: str, name: str, data: dict[str, Any], status: int = 200) -> Any:
        (task,) = self.inbox(user, subject, name)
        return self.post(user, f"/api/v1/tasks/{task['id']}/complete", status, json={"data": data})

    def self_assess(self, subject: str, total: float) -> Any:
        return self.do(SECRETARY[subject], subject, "self_assessment",
                       {"scores": sheet(total), "evidence": "支委会会议记录", "representative": "团员代表"})

    def review(self, subject: str, totals: dict[str, float]) -> None:
        for reviewer, total in totals.items():
            self.do(reviewer, subject, "review", {"scores": sheet(total), "veto": False})

    def graded(self, grades: dict[str, tuple[float, float]]) -> None:
        """Every branch self-assesses and both reviewers score it: subject -> (wang's, li's) totals."""
        for subject, (wang, li) in grades.items():
            self.self_assess(subject, 90)
            self.review(subject, {"rev_wang": wang, "rev_li": li})

    def confirm_campaign(self, user: str = "tzz_sec", status: int = 200) -> Any:
        return self.post(user, f"/api/v1/campaigns/{self.campaign['id']}/confirm", status)


@pytest.fixture
def campus(college: Any, make_user: Callable[..., Any], login: Callable[[str], dict[str, str]], client: Any,
           deploy: Callable[..., Any]) -> Campus:
    for username, roles in USERS.items():
        make_user(username, roles)
    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")
    return Campus(client, {name: login(name) for name in USERS})


def _instance(instance_id: int) -> Instance:
    db.session.expire_all()
    instance = db.session.get(Instance, instance_id)
    assert instance is not None
    return instance


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# -- launching -----------------------------------------------------------------------------------------------
def test_a_branch_exactly_six_months_old_takes_part(campus):
    launched = campus.launch()

    assert launched["instances"] == 3
    assert launched["excluded"] == []
    assert launched["reviewers"] == ["rev_li", "rev_wang"]  # the general branch committee, by default
    rows = campus.rows()
    assert sorted(rows) == BRANCHES
    assert {r["ready_tasks"][0] for r in rows.values()} == {"self_assessment"}
    assert {r["milestone"] for r in rows.values()} == {"支部自评"}
    for instance_id in launched["instance_ids"]:
        instance = _instance(instance_id)
        assert instance.campaign_id == launched["id"]
        assert clock.as_utc(instance.next_timer_at) == beijing(2025, 4, 12, 23, 59, 59)  # the reminder, 3 days before

    # each branch secretary sees their own branch's task, and only that
    for subject, secretary in SECRETARY.items():
        assert [t["subject"] for t in campus.inbox(secretary)] == [subject]
        (task,) = campus.inbox(secretary)
        assert task["due_at"].startswith("2025-04-15T15:59:59")  # 23:59:59 Beijing time, in UTC


def test_a_branch_younger_than_six_months_is_left_out(campus):
    campus.now = beijing(2025, 3, 14)
    launched = campus.launch()

    assert launched["instances"] == 2
    (excluded,) = launched["excluded"]
    assert excluded["subject"] == "TZB-JX2401"
    assert excluded["founded"] == "2024-09-15"
    assert sorted(campus.rows()) == ["TZB-JX2301", "TZB-JX2302"]
    assert campus.inbox("sec2401") == []


def test_who_may_launch_and_with_what(campus):
    assert campus.launch("sec2301", 403)["error"]["code"] == "forbidden"
    assert campus.launch("rev_wang", 403)["error"]["code"] == "forbidden"
    anonymous = campus.call(None, "POST", "/api/v1/campaigns", 401,
                            json={"process": "branch_assessment", "year": 2024, "deadline": DEADLINE})
    assert anonymous["error"]["code"] == "unauthorized"
    past = campus.launch(status=422, deadline="2025-03-15")
    assert past["error"]["details"][0]["field"] == "deadline"
    unknown = campus.launch(status=422, reviewers=["rev_wang", "nobody"])
    assert "nobody" in unknown["error"]["details"][0]["message"]
    assert campus.launch(status=422, year=1999)["error"]["code"] == "validation_failed"
    assert campus.launch(status=422, process="no_such_process")["error"]["code"] == "validation_failed"
    assert db.session.scalar(select(Instance.id)) is None  # nothing was started by the refused requests

    campus.launch("admin")
    again = campus.launch(status=409)
    assert again["error"]["code"] == "conflict"
    assert {d["subject"] for d in again["error"]["details"]} == set(BRANCHES)


def test_the_launcher_names_the_reviewers(campus):
    campus.launch(reviewers=["rev_wang"])
    campus.self_assess("TZB-JX2301", 80)
    assert [t["subject"] for t in campus.inbox("rev_wang", name="review")] == ["TZB-JX2301"]
    assert campus.inbox("rev_li") == []


# -- the journey ---------------------------------------------------------------------------------------------
def test_the_whole_campaign(campus):
    campus.launch()
    campus.now += timedelta(days=3)

    campus.self_assess("TZB-JX2301", 86)
    # reviewers each get their own task for that branch; the other branches are still self-assessing
    assert [t["subject"] for t in campus.inbox("rev_wang", name="review")] == ["TZB-JX2301"]
    (task,) = campus.inbox("rev_li", name="review")
    detail = campus.get("rev_li", f"/api/v1/tasks/{task['id']}")
    assert detail["form"]["schema"]["title"].startswith("团总支评审")
    assert detail["data"] == {"veto": False, "comment": ""}  # the reviewer starts from an empty sheet

    # someone of another branch can neither see the case nor act on it
    instance_id = campus.rows()["TZB-JX2301"]["instance_id"]
    campus.get("sec2302", f"/api/v1/instances/{instance_id}", 404)
    (mine,) = campus.inbox("rev_wang", "TZB-JX2301", "review")
    campus.post("sec2302", f"/api/v1/tasks/{mine['id']}/complete", 404, json={"data": {"scores": sheet(10), "veto": False}})
    campus.post("rev_li", f"/api/v1/tasks/{mine['id']}/complete", 403, json={"data": {"scores": sheet(10), "veto": False}})
    assert [r["subject"] for r in campus.progress("sec2302")["items"]] == ["TZB-JX2302"]  # a secretary sees their own row

    campus.review("TZB-JX2301", {"rev_wang": 84, "rev_li": 82})
    campus.graded({"TZB-JX2302": (76, 74), "TZB-JX2401": (66, 62)})

    rows = campus.rows()
    assert {s: r["grade"] for s, r in rows.items()} == {"TZB-JX2301": "good", "TZB-JX2302": "fair",
                                                       "TZB-JX2401": "lagging"}
    assert rows["TZB-JX2301"]["self_total"] == 86
    assert rows["TZB-JX2301"]["review_mean"] == 83
    assert rows["TZB-JX2401"]["grade_title"] == "后进"
    assert {r["ready_tasks"][0] for r in rows.values()} == {"confirm"}
    summary = campus.progress()["summary"]
    assert summary["graded"] == 3 and summary["quota_violations"] == []

    confirmed = campus.confirm_campaign()
    assert confirmed["confirmed"] == 3
    assert confirmed["status"] == "confirmed"
    assert {r["ready_tasks"][0] for r in confirmed["items"]} == {"party_acceptance"}
    assert len(_audit("campaign_confirmed")) == 1

    for subject in BRANCHES:
        campus.do("dzz_sec", subject, "party_acceptance", {"decision": "accept"})
    rows = campus.rows()
    assert {s: (r["status"], r["outcome"]) for s, r in rows.items()} == {
        "TZB-JX2301": ("completed", "good"), "TZB-JX2302": ("completed", "fair"),
        "TZB-JX2401": ("completed", "lagging")}

    # rectification is not deployed here: the lagging branch's effect is an audited no-op
    (skipped,) = _audit("effect_skipped")
    assert skipped.instance_id == rows["TZB-JX2401"]["instance_id"]
    assert skipped.details["process"] == "rectification"
    assert skipped.details["reason"] == "not_deployed"


def test_quota_exceeded_at_confirmation_confirms_nothing(campus):
    campus.launch()
    campus.graded({"TZB-JX2301": (95, 93), "TZB-JX2302": (85, 83), "TZB-JX2401": (75, 73)})

    refused = campus.confirm_campaign(status=409)
    error = refused["error"]
    assert error["code"] == "quota_exceeded"
    # nor can one branch's grade be confirmed alone from the inbox, round the campaign's quota check
    alone = campus.do("tzz_sec", "TZB-JX2301", "confirm", {"decision": "confirm"}, status=409)
    assert alone["error"]["code"] == "conflict" and "campaign" in alone["error"]["message"]
    # 1 excellent of 3 graded branches is 33 % > 20 %: none is allowed
    assert error["details"] == [{"grade": "excellent", "count": 1, "allowed": 0, "graded": 3, "quota": 0.2}]
    rows = campus.rows()
    assert {r["ready_tasks"][0] for r in rows.values()} == {"confirm"}  # nothing was confirmed
    assert _audit("campaign_confirmed") == []
    assert campus.progress()["summary"]["quota_violations"] == error["details"]

    # the general branch sends the excellent branch back for a new review
    campus.do("tzz_sec", "TZB-JX2301", "confirm", {"decision": "return", "comment": "超出五星名额，请重新核分"})
    assert campus.rows()["TZB-JX2301"]["grade"] is None
    campus.confirm_campaign(status=409)  # not every branch is graded now
    campus.review("TZB-JX2301", {"rev_wang": 79, "rev_li": 77})

    confirmed = campus.confirm_campaign()
    assert confirmed["confirmed"] == 3
    assert confirmed["summary"]["by_grade"] == {"fair": 2, "good": 1}


def test_quota_arithmetic():
    quotas = {"excellent": 0.2, "good": 0.6}
    assert quota_violations(["excellent", "good", "good", "good", "fair"], quotas) == []  # 20 % and 60 %: at the limit
    assert quota_violations(["excellent", "excellent", "good", "fair", "fair"], quotas) == [
        {"grade": "excellent", "count": 2, "allowed": 1, "graded": 5, "quota": 0.2}]
    assert quota_violations(["good"] * 4 + ["fair"], quotas) == [
        {"grade": "good", "count": 4, "allowed": 3, "graded": 5, "quota": 0.6}]
    assert quota_violations([], quotas) == []


def test_confirmation_waits_until_every_branch_is_graded(campus):
    campus.launch()
    campus.graded({"TZB-JX2301": (85, 83)})

    refused = campus.confirm_campaign(status=409)
    assert {d["subject"] for d in refused["error"]["details"]} == {"TZB-JX2302", "TZB-JX2401"}
    assert campus.rows()["TZB-JX2301"]["ready_tasks"] == ["confirm"]


def test_only_the_general_branch_secretary_confirms(campus):
    campus.launch()
    campus.graded({"TZB-JX2301": (85, 83), "TZB-JX2302": (75, 73), "TZB-JX2401": (65, 63)})

    for user in ("rev_wang", "sec2301", "admin"):  # the admin holds no secretary role: the confirmation is not theirs
        assert campus.confirm_campaign(user, 403)["error"]["code"] == "forbidden"
    campus.confirm_campaign("dzz_sec", 403)
    assert {r["ready_tasks"][0] for r in campus.rows().values()} == {"confirm"}


def test_the_party_general_branch_returns_a_result(campus):
    campus.launch()
    campus.graded({"TZB-JX2301": (85, 83), "TZB-JX2302": (75, 73), "TZB-JX2401": (65, 63)})
    campus.confirm_campaign()

    campus.do("dzz_sec", "TZB-JX2302", "party_acceptance", {"decision": "return"}, status=422)  # a reason is required
    campus.do("dzz_sec", "TZB-JX2302", "party_acceptance", {"decision": "return", "comment": "请核实组织生活记录"})
    assert campus.rows()["TZB-JX2302"]["ready_tasks"] == ["confirm"]

    again = campus.confirm_campaign()  # the quota check runs again over the whole campaign
    assert again["confirmed"] == 1
    assert campus.rows()["TZB-JX2302"]["ready_tasks"] == ["party_acceptance"]


def test_the_deadline_reminds_then_escalates_through_the_worker(campus):
    launched = campus.launch()
    campus.self_assess("TZB-JX2301", 90)
    reminder, due = beijing(2025, 4, 12, 23, 59, 59), beijing(2025, 4, 15, 23, 59, 59)

    assert run_due(reminder - timedelta(seconds=1)).fired == 0
    assert run_due(reminder + timedelta(seconds=1)).fired == 2  # the two branches that have not submitted
    assert {r["ready_tasks"][0] for s, r in campus.rows().items() if s != "TZB-JX2301"} == {"self_assessment"}

    assert run_due(due + timedelta(seconds=1)).fired == 2
    campus.now = due + timedelta(hours=1)
    overdue = campus.inbox("tzz_sec", name="self_assessment_overdue")
    assert sorted(t["subject"] for t in overdue) == ["TZB-JX2302", "TZB-JX2401"]
    assert campus.inbox("sec2302") == []  # withdrawn from the branch

    campus.do("tzz_sec", "TZB-JX2302", "self_assessment_overdue", {"overdue_action": "extend", "new_deadline": "2025-04-20"})
    campus.do("tzz_sec", "TZB-JX2401", "self_assessment_overdue",
              {"overdue_action": "fill_in", "scores": sheet(64), "evidence": "团总支掌握情况"})
    rows = campus.rows()
    assert rows["TZB-JX2302"]["ready_tasks"] == ["self_assessment"]
    assert rows["TZB-JX2401"]["self_total"] == 64
    assert sorted(rows["TZB-JX2401"]["ready_tasks"]) == ["review", "review"]
    assert launched["instances"] == 3


RECTIFICATION_STUB = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_stub"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="rectification" name="整改（测试替身）" isExecutable="true">
    <bpmn:laneSet id="LaneSet_stub">
      <bpmn:lane id="Lane_stub" name="league_branch_secretary">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>acknowledge</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="acknowledge" name="签收整改通知"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="acknowledge" />
    <bpmn:sequenceFlow id="f2" sourceRef="acknowledge" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _lagging_branch_through_acceptance(campus: Campus) -> None:
    campus.launch()
    campus.graded({"TZB-JX2301": (85, 83), "TZB-JX2302": (75, 73), "TZB-JX2401": (65, 63)})
    campus.confirm_campaign()
    for subject in BRANCHES:
        campus.do("dzz_sec", subject, "party_acceptance", {"decision": "accept"})


def _started_rectification() -> Instance:
    started = list(db.session.scalars(select(Instance).where(Instance.process_key == "rectification")))
    assert [i.subject for i in started] == ["TZB-JX2401"]  # the lagging branch only
    assert _audit("effect_skipped") == []
    (effect,) = _audit("effect_start_process")
    assert effect.details["started"] == started[0].id
    return started[0]


def test_a_lagging_branch_gets_a_rectification_case(campus, deploy):
    deploy(RECTIFICATION_STUB)  # a stand-in: what matters here is what the assessment hands over
    _lagging_branch_through_acceptance(campus)

    rectification = _started_rectification()
    data = restore_case(rectification).data
    # processes/rectification.py initial_data must not return defaults for these keys: since start_instance
    # lets the roster facts (initial_data) win over start data, they would wipe what the assessment hands over
    assert data["source"] == "branch_assessment", "rectification's initial_data overrides the start data"
    assert data["issuer"] == "league_general_branch"
    assert data["deadline"] == "2025-07-14"  # 90 days after the assessment's deadline
    assert data["assessment_grade"] == "lagging" and data["assessment_year"] == 2024
    assert any(p.startswith("支委会建设") for p in data["problems"])
    (task,) = campus.get("sec2401", "/api/v1/tasks?process=rectification")["items"]
    assert task["subject"] == "TZB-JX2401" and task["name"] == "acknowledge"


def test_a_lagging_branch_gets_a_case_of_the_real_rectification_process(campus, deploy):
    if not (ROOT / "bpmn" / "rectification.bpmn").is_file() or not (ROOT / "forms" / "rectification").is_dir():
        pytest.skip("bpmn/rectification.bpmn and forms/rectification/ are not both there yet")
    deploy(ROOT / "bpmn" / "rectification.bpmn")
    _lagging_branch_through_acceptance(campus)

    rectification = _started_rectification()
    assert rectification.status == "running", rectification.error
    ready = db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == rectification.id,
                                                            HumanTask.status == "ready")).all()
    assert ready  # the branch has something to do (acknowledge the order)
