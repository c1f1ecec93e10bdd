"""推优入党 through the HTTP API: the real BPMN, decision table and forms deployed, each person of the
branch logging in and doing their step, and people of another branch kept out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from recommendation_support import BPMN, CANDIDATE, beijing

from service import clock

SECRETARY = "2023010102"
OTHER_BRANCH_MEMBER = "2024010101"


@pytest.fixture
def cast(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any]) -> None:
    """TZB-JX2301 (paired with DZB-S1) has 6 League members, so its 20 % quota is one person."""
    make_person(CANDIDATE, "张三", "TZB-JX2301", birth_date=date(2005, 3, 1))
    make_person(SECRETARY, "李四", "TZB-JX2301", league_post="书记")
    for n in range(3, 7):
        make_person(f"202301010{n}", f"团员{n}", "TZB-JX2301")
    make_person(OTHER_BRANCH_MEMBER, "王五", "TZB-JX2401")
    make_user("zhangsan", [("member", None)], person=CANDIDATE)
    make_user("lisi", [("league_branch_secretary", "TZB-JX2301"), ("member", None)], person=SECRETARY)
    make_user("committee1", [("league_branch_committee", "TZB-JX2301")])
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])
    make_user("dzb2", [("party_branch_secretary", "DZB-S2")])
    make_user("sec3", [("league_branch_secretary", "TZB-JX2401"), ("league_branch_committee", "TZB-JX2401")])
    make_user("wangwu", [("member", None)], person=OTHER_BRANCH_MEMBER)


class Api:
    def __init__(self, client: Any, login: Callable[[str], dict[str, str]]):
        self.client, self.login = client, login
        self.now = beijing(2026, 9, 1)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        self.now = moment
        yield

    def call(self, user: str, method: str, path: str, status: int, **kwargs: Any) -> Any:
        with clock.frozen_at(self.now):
            headers = self.login(user)
            response = self.client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code == status, (user, method, path, response.status_code, response.get_json())
        return response.get_json()

    def inbox(self, user: str) -> list[dict[str, Any]]:
        return self.call(user, "GET", "/api/v1/tasks", 200)["items"]

    def task(self, user: str, name: str) -> dict[str, Any]:
        found = [t for t in self.inbox(user) if t["name"] == name]
        assert len(found) == 1, (user, name, [t["name"] for t in self.inbox(user)])
        return found[0]

    def complete(self, user: str, name: str, data: dict[str, Any], status: int = 200) -> Any:
        task = self.task(user, name)
        return self.call(user, "POST", f"/api/v1/tasks/{task['id']}/complete", status, json={"data": data})


@pytest.fixture
def api(cast: None, client: Any, login: Callable[[str], dict[str, str]], deploy: Callable[..., Any]) -> Api:
    deploy(BPMN / "recommendation.bpmn")
    return Api(client, login)


def _fire_timers(at: datetime) -> int:
    from service.timers.operations import run_due

    return run_due(now=at).fired


def test_the_recommendation_journey_over_http(api: Api, db_session: Any) -> None:
    # the member starts their own case and files the application
    case = api.call("zhangsan", "POST", "/api/v1/instances", 201,
                    json={"process": "recommendation", "subject": CANDIDATE, "data": {}})
    case_id = case["id"]
    assert case["status"] == "running" and case["milestone"] == "提交申请"
    detail = api.call("zhangsan", "GET", f"/api/v1/tasks/{api.task('zhangsan', 'apply')['id']}", 200)
    assert detail["form"]["schema"]["title"].startswith("推优入党申请")
    api.complete("zhangsan", "apply", {"statement": "我志愿加入中国共产党。", "academic_standing": "专业排名 5/62"})

    # the branch committee; the candidate has no business here, another branch cannot even see it
    review = api.task("committee1", "committee_review")
    assert api.inbox("zhangsan") == []
    api.call("zhangsan", "POST", f"/api/v1/tasks/{review['id']}/complete", 403,
             json={"data": {"decision": "approve"}})
    api.call("sec3", "GET", f"/api/v1/instances/{case_id}", 404)
    api.call("sec3", "GET", f"/api/v1/tasks/{review['id']}", 404)
    assert api.call("sec3", "POST", f"/api/v1/tasks/{review['id']}/complete", 404,
                    json={"data": {"decision": "approve"}})["error"]["code"] == "not_found"
    api.complete("committee1", "committee_review", {"decision": "reject"}, status=422)  # a rejection needs a reason
    api.complete("committee1", "committee_review", {"decision": "approve", "counsellor_opinion": "同意"})

    # the general branch approves the meeting; the Party branch is informed
    api.complete("tzz", "meeting_approval", {"decision": "approve", "meeting_date": "2026-09-10",
                                             "meeting_time": "14:30", "meeting_place": "一教 201"})

    # the branch secretary records the meeting: bad numbers are refused per field, a record that does
    # not add up comes back with its errors
    meeting = {"meeting_date": "2026-09-10", "entitled": 6, "present": 5, "yes": 4, "no": 1, "abstain": 0,
               "ballots_issued": 5, "ballots_collected": 5}
    refused = api.complete("lisi", "meeting_record", {**meeting, "present": -1}, status=422)
    assert [d["field"] for d in refused["error"]["details"]] == ["present"]
    api.complete("lisi", "meeting_record", {**meeting, "yes": 5, "no": 1})  # 6 votes from 5 members present
    sent_back = api.task("lisi", "meeting_record")
    prefilled = api.call("lisi", "GET", f"/api/v1/tasks/{sent_back['id']}", 200)["data"]
    assert prefilled["record_errors"][0]["field"] == "yes"
    api.complete("lisi", "meeting_record", meeting)

    # committee opinion on Friday 27 Nov: the notice runs 5 working days, to Friday 4 Dec
    with api.at(beijing(2026, 11, 27)):
        api.complete("committee1", "committee_opinion", {"opinion": "同意推荐。"})
        state = api.call("tzz", "GET", f"/api/v1/instances/{case_id}", 200)
    assert state["ready_tasks"] == [] and state["milestone"] == "公示中"
    assert datetime.fromisoformat(state["next_timer_at"]).replace(tzinfo=None) == datetime(2026, 12, 4, 15, 59, 59)

    # anyone in the college may object; the general branch investigates and dismisses it
    with api.at(beijing(2026, 11, 30)):
        api.call("wangwu", "POST", f"/api/v1/instances/{case_id}/messages", 200,
                 json={"name": "objection", "data": {"reason": "反映该同志团费未交"}})
        investigation = api.task("tzz", "investigate_objection")
        shown = api.call("tzz", "GET", f"/api/v1/tasks/{investigation['id']}", 200)["data"]
        assert shown["objection"] == {"reason": "反映该同志团费未交", "sent_by": "wangwu"}
        api.complete("tzz", "investigate_objection", {"upheld": False, "finding": "团费已按时交纳"})

    # the notice ends on its own date (not restarted by the objection); the worker fires it
    assert _fire_timers(beijing(2026, 12, 4, 22, 0)) == 0
    assert _fire_timers(beijing(2026, 12, 5, 0, 1)) == 1
    with api.at(beijing(2026, 12, 7)):
        api.complete("tzz", "general_branch_review", {"decision": "approve", "comment": "同意推荐"})
        decision = api.task("dzb1", "party_branch_decision")
        assert decision["due_at"].startswith("2028-12-07")
        # the Party branch of another pairing cannot act on it
        assert api.inbox("dzb2") == []
        api.call("dzb2", "POST", f"/api/v1/tasks/{decision['id']}/complete", 404,
                 json={"data": {"decision": "decline", "reason": "x"}})
        api.complete("dzb1", "party_branch_decision", {"decision": "accept"}, status=422)  # contacts required
        done = api.complete("dzb1", "party_branch_decision", {"decision": "accept", "contacts": [SECRETARY]})
    assert done["status"] == "completed" and done["outcome"] == "accepted"

    from service.org.models import Person

    db_session.expire_all()
    assert db_session.get(Person, CANDIDATE).party_status == "activist"
    mine = api.call("zhangsan", "GET", f"/api/v1/people/{CANDIDATE}/instances", 200)
    assert [(i["process"], i["outcome"]) for i in mine["items"]] == [("recommendation", "accepted")]


def test_a_secretary_candidate_is_recorded_by_a_committee_member_not_by_themselves(api: Api) -> None:
    case = api.call("lisi", "POST", "/api/v1/instances", 201,
                    json={"process": "recommendation", "subject": SECRETARY, "data": {}})
    api.complete("lisi", "apply", {"statement": "我志愿加入中国共产党。"})
    api.complete("committee1", "committee_review", {"decision": "approve"})
    api.complete("tzz", "meeting_approval", {"decision": "approve", "meeting_date": "2026-09-10",
                                             "meeting_place": "一教 201"})
    assert api.inbox("lisi") == []  # the secretary holds the role, but it is their own case
    api.task("committee1", "meeting_record")
    state = api.call("tzz", "GET", f"/api/v1/instances/{case['id']}", 200)
    assert [(t["name"], t["lane"]) for t in state["ready_tasks"]] == [("meeting_record", "league_branch_committee")]


def test_the_quota_counts_the_branch_members_from_the_roster(api: Api) -> None:
    case = api.call("lisi", "POST", "/api/v1/instances", 201,
                    json={"process": "recommendation", "subject": CANDIDATE, "data": {"round_recommended": 1}})
    api.complete("zhangsan", "apply", {"statement": "我志愿加入中国共产党。"})
    done = api.complete("committee1", "committee_review", {"decision": "approve"})  # 2 of 6 is over 20 %
    assert done["status"] == "completed" and done["outcome"] == "rejected"
    assert done["id"] == case["id"]
