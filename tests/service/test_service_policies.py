"""Policies (admin-editable numbers) and the landing page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.audit import AuditEvent
from service.extensions import db
from service.pack import ProcessDefinition


@pytest.fixture
def pack_with_policy(app):
    definition = ProcessDefinition(key="approval", title="测试审批", title_en="Test approval", subject_kind="person",
                                   policies={"quorum_rule": "more_than_half", "publicity_days": 5},
                                   start_roles=("league_branch_secretary",))
    app.extensions["pack"] = {"approval": definition}
    return definition


def test_policies_list_and_change(client, college, make_user, login, deploy, make_person, pack_with_policy):
    deploy("approval")
    make_user("admin", [("admin", None)])
    make_user("sec", [("league_branch_secretary", "TZB-JX2301")])
    admin, sec = login("admin"), login("sec")
    listed = client.get("/api/v1/process-models/approval/policies", headers=sec).get_json()
    assert {p["key"]: p["value"] for p in listed} == {"quorum_rule": "more_than_half", "publicity_days": 5}
    assert client.put("/api/v1/process-models/approval/policies/publicity_days", json={"value": 7},
                      headers=sec).status_code == 403
    bad = client.put("/api/v1/process-models/approval/policies/publicity_days", json={"value": "seven"}, headers=admin)
    assert bad.status_code == 422
    ok = client.put("/api/v1/process-models/approval/policies/publicity_days", json={"value": 7}, headers=admin)
    assert ok.status_code == 200 and ok.get_json()["overridden"] is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy_changed"))
    assert event.details["old"] == 5 and event.details["new"] == 7
    # a case records the values in force when it started
    make_person("2023010101", "张三", "TZB-JX2301")
    started = client.post("/api/v1/instances", json={"process": "approval", "subject": "2023010101"}, headers=sec)
    assert started.status_code == 201, started.get_json()
    from service.instances.models import Instance
    from service.instances.operations import restore_case

    case = restore_case(db.session.get(Instance, started.get_json()["id"]))
    assert case.data["policies"] == {"quorum_rule": "more_than_half", "publicity_days": 7}
    assert client.put("/api/v1/process-models/approval/policies/nope", json={"value": 1},
                      headers=admin).status_code == 404


def test_landing_page(client, deploy, college):
    deploy("approval")
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "已部署流程" in text and "approval" in text
    assert 'name="viewport"' in text  # usable on a phone


def test_roster_facts_win_over_start_data(app, client, college, make_user, login, deploy, make_person):
    app.extensions["pack"] = {"approval": ProcessDefinition(
        key="approval", title="测试审批", title_en="Test approval", subject_kind="person",
        start_roles=("member",), start_defaults={"track": "A"},
        initial_data=lambda facts: {"birth_date": facts["birth_date"], "party_status": facts["party_status"]})}
    deploy("approval")
    make_person("2023010101", "张三", "TZB-JX2301")
    make_user("zhangsan", [("member", "TZB-JX2301")], person="2023010101")
    started = client.post("/api/v1/instances", headers=login("zhangsan"), json={
        "process": "approval", "subject": "2023010101",
        "data": {"birth_date": "1990-01-01", "party_status": "full", "track": "B"}})
    assert started.status_code == 201, started.get_json()
    from service.instances.models import Instance
    from service.instances.operations import restore_case

    data = restore_case(db.session.get(Instance, started.get_json()["id"])).data
    assert data["birth_date"] == "2004-03-01" and data["party_status"] == "applicant"  # from the roster
    assert data["track"] == "B"  # optional start data is the caller's to choose


def test_start_data_is_checked_against_the_start_schema(app, client, college, make_user, login, deploy):
    app.extensions["pack"] = {"deadline": ProcessDefinition(
        key="deadline", title="限期任务", title_en="Deadline", subject_kind="org_unit",
        start_roles=("league_general_branch_secretary",),
        start_schema={"type": "object", "required": ["problems"],
                      "properties": {"problems": {"type": "array", "items": {"type": "string"}}}})}
    deploy("deadline")
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    headers = login("tzz")
    bad = client.post("/api/v1/instances", headers=headers,
                      json={"process": "deadline", "subject": "TZB-JX2301", "data": {"problems": "not a list"}})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"][0]["field"] == "problems"
    from service.instances.models import Instance

    assert db.session.scalar(select(Instance.id)) is None  # nothing started
    good = client.post("/api/v1/instances", headers=headers,
                       json={"process": "deadline", "subject": "TZB-JX2301", "data": {"problems": ["记录不全"]}})
    assert good.status_code == 201, good.get_json()
