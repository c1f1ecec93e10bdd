"""团支部换届 through the HTTP API, each role in turn with its own token: the general branch starts the case,
the branch secretary requests, the paired Party branch and the general branch approve, the candidate list,
the election record, the report, the approval — and the roster shows the new posts and re-election date.
A user of another branch can neither see nor complete the tasks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service import clock
from tests.processes.process_harness import beijing

ROOT = Path(__file__).resolve().parents[2]
BRANCH = "TZB-JX2301"
T0 = beijing(2026, 9, 1)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def branch(college, make_person, make_user, deploy):
    people = [("S01", "赵一", "书记"), ("S02", "钱二", "组织委员"), ("S03", "孙三", "宣传委员"), ("S04", "李四", "无"),
              ("S05", "周五", "无")]
    for pid, name, post in people:
        make_person(pid, name, BRANCH, league_post=post)
    make_person("X01", "郑七", "TZB-JX2302", league_post="书记")
    make_user("secretary", roles=[("league_branch_secretary", BRANCH)], person="S01")
    make_user("other_secretary", roles=[("league_branch_secretary", "TZB-JX2302")], person="X01")
    make_user("party_s1", roles=[("party_branch_secretary", "DZB-S1")])
    make_user("party_s2", roles=[("party_branch_secretary", "DZB-S2")])
    make_user("tzz", roles=[("league_general_branch_secretary", "TZZ")])
    deploy(ROOT / "bpmn" / "branch_reelection.bpmn")
    return college


def _tasks(client, headers, name: str | None = None) -> list[dict[str, Any]]:
    items = client.get("/api/v1/tasks", query_string={"process": "branch_reelection", "subject": BRANCH},
                       headers=headers).get_json()["items"]
    return [t for t in items if name is None or t["name"] == name]


def _complete(client, login, username: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    headers = login(username)
    (task,) = _tasks(client, headers, name)
    with clock.frozen_at(T0):
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_reelection_journey_by_role(client, login, branch, db_session):
    tzz = login("tzz")
    with clock.frozen_at(T0):
        started = client.post("/api/v1/instances", json={"process": "branch_reelection", "subject": BRANCH, "data": {}},
                              headers=tzz)
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    # founded 2023-09-15 and never re-elected: the one-year term is over, the request is due at once
    assert [t["name"] for t in instance["ready_tasks"]] == ["request"]
    assert instance["milestone"] == "待提交换届请示"

    other = login("other_secretary")
    assert _tasks(client, other) == []  # another branch's secretary is not offered the task
    (request_task,) = _tasks(client, login("secretary"), "request")
    assert client.get(f"/api/v1/tasks/{request_task['id']}", headers=other).status_code in (403, 404)
    refused = client.post(f"/api/v1/tasks/{request_task['id']}/complete", headers=other,
                          json={"data": {"planned_date": "2026-09-18", "seats": 3, "work_report": "x"}})
    assert refused.status_code in (403, 404)

    form = client.get(f"/api/v1/tasks/{request_task['id']}", headers=login("secretary")).get_json()
    assert form["form"]["schema"]["title"].startswith("换届请示")
    assert {o["id"] for o in form["data"]["officers"]} == {"S01", "S02", "S03"}

    _complete(client, login, "secretary", "request",
              {"planned_date": "2026-09-18", "seats": 3, "work_report": "本届支委会工作总结", "plan": "换届方案"})
    assert _tasks(client, login("party_s2")) == []  # not the paired Party branch
    _complete(client, login, "party_s1", "party_approval", {"party_decision": "return", "party_comment": "请补充候选人产生办法"})
    _complete(client, login, "tzz", "general_approval", {"general_decision": "approve"})
    _complete(client, login, "secretary", "request",
              {"planned_date": "2026-09-18", "seats": 3, "work_report": "本届支委会工作总结", "plan": "由团员推荐产生候选人"})
    _complete(client, login, "party_s1", "party_approval", {"party_decision": "approve"})
    _complete(client, login, "tzz", "general_approval", {"general_decision": "approve"})

    candidates = [{"person": "S02", "name": "钱二", "post": "书记"}, {"person": "S04", "name": "李四", "post": "组织委员"},
                  {"person": "S05", "name": "周五", "post": "宣传委员"}, {"person": "S03", "name": "孙三", "post": "宣传委员"}]
    after = _complete(client, login, "secretary", "candidates", {"candidates": candidates[:3]})
    assert [t["name"] for t in after["ready_tasks"]] == ["candidates"]  # 3 candidates for 3 seats: refused
    _complete(client, login, "secretary", "candidates", {"candidates": candidates})
    _complete(client, login, "tzz", "candidates_review", {"candidates_decision": "approve"})

    bad = {"election_date": "2026-09-18", "entitled": 20, "present": 16, "ballots_issued": 16, "ballots_collected": 17,
           "votes": [{"person": "S02", "yes": 15}, {"person": "S04", "yes": 12}, {"person": "S05", "yes": 9},
                     {"person": "S03", "yes": 8}]}
    after = _complete(client, login, "secretary", "election_record", bad)
    assert [t["name"] for t in after["ready_tasks"]] == ["election_record"]
    _complete(client, login, "secretary", "election_record", {**bad, "ballots_collected": 16})
    (report,) = _tasks(client, login("secretary"), "report")
    assert report["due_at"].startswith("2026-09-25T15:59:59")  # end of 25 September, Beijing time
    _complete(client, login, "secretary", "report", {"report": "新一届支委会已完成分工"})
    done = _complete(client, login, "tzz", "results_review", {"results_decision": "approve"})
    assert done["status"] == "completed" and done["outcome"] == "reelected"

    secretary = login("secretary")
    posts = {pid: client.get(f"/api/v1/people/{pid}", headers=tzz).get_json()["league_post"]
             for pid in ("S01", "S02", "S03", "S04", "S05", "X01")}
    assert posts == {"S01": "无", "S02": "书记", "S03": "无", "S04": "组织委员", "S05": "宣传委员", "X01": "书记"}
    from service.org.models import OrgUnit
    from service.records.operations import facts_records

    db_session.expire_all()
    unit = db_session.scalar(select(OrgUnit).where(OrgUnit.code == BRANCH))
    assert unit.last_reelection == date(2026, 9, 18)
    (record,) = facts_records("org_unit", BRANCH)["reelection"]
    assert record["data"]["tallies"][0]["votes"]["S03"] == 8 and record["data"]["seats"] == 3
    assert client.get(f"/api/v1/instances/{instance['id']}", headers=secretary).status_code == 200
    assert client.get(f"/api/v1/instances/{instance['id']}", headers=other).status_code in (403, 404)


def test_the_general_branch_campaign_starts_one_case_per_branch_without_an_open_one(client, login, branch):
    tzz = login("tzz")
    with clock.frozen_at(T0):
        by_hand = client.post("/api/v1/instances", json={"process": "branch_reelection", "subject": BRANCH, "data": {}},
                              headers=tzz)
        assert by_hand.status_code == 201
        response = client.post("/api/v1/campaigns", json={"process": "branch_reelection", "year": 2026,
                                                          "deadline": "2026-12-31"}, headers=tzz)
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert campaign["instances"] == 2  # TZB-JX2302 and TZB-JX2401
    assert [(e["subject"], e["reason"][:8]) for e in campaign["excluded"]] == [(BRANCH, "已有进行中的案件")]
    with clock.frozen_at(T0):
        again = client.post("/api/v1/campaigns", json={"process": "branch_reelection", "year": 2027,
                                                       "deadline": "2027-12-31"}, headers=tzz)
    assert again.status_code == 422  # every branch's case of this term is still open
    general = client.post("/api/v1/instances", json={"process": "branch_reelection", "subject": "TZZ", "data": {}},
                          headers=login("secretary"))
    assert general.status_code == 403  # a branch secretary cannot start the general branch's re-election


def test_a_units_facts_list_its_officers(branch, make_person):
    from service.instances.subjects import resolve_subject

    make_person("S06", "吴六", BRANCH, league_post=None)
    officers = resolve_subject("org_unit", BRANCH).facts["officers"]
    assert officers == [{"id": "S01", "name": "赵一", "league_post": "书记"},
                        {"id": "S02", "name": "钱二", "league_post": "组织委员"},
                        {"id": "S03", "name": "孙三", "league_post": "宣传委员"}]  # no post / 无 are not officers
