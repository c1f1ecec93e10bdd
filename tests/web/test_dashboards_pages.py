"""The dashboards (/dashboards): numbers checked against cases created through the real operations —
推优 cases taken to different stages (one all the way to the Party branch's acceptance), a finished
assessment campaign with a lagging branch (which starts a rectification), a later campaign left overdue,
a terminated rectification — and the scope of a branch secretary."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from test_campaign_board_pages import ROOT, USERS, actor, run_campaign, sheet
from web_support import sign_in

from service import clock
from service.campaigns.operations import confirm_campaign, launch_campaign
from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.instances.operations import complete_task, start_instance, terminate_instance
from service.timers.operations import run_due
from service.tracking import dashboards


def beijing(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


A, B, C, D = "2023010101", "2023020101", "2023010103", "2023020102"  # 2301, 2302, 2301, 2302
VIEW = beijing(2026, 12, 20)
MEETING = {"meeting_date": "2026-09-10", "entitled": 6, "present": 6, "yes": 5, "no": 1, "abstain": 0,
           "ballots_issued": 6, "ballots_collected": 6}


def step(username: str, instance_id: int, name: str, data: dict[str, Any], at: datetime) -> None:
    with clock.frozen_at(at):
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.status == "ready", HumanTask.name == name)).one()
        complete_task(actor(username), task.id, data)
        db.session.commit()


def start(person: str, at: datetime) -> int:
    with clock.frozen_at(at):
        instance = start_instance(None, "recommendation", person, {})
        db.session.commit()
        return instance.id


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def scene(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
          deploy: Callable[..., Any]) -> dict[str, int]:
    for username, roles in USERS.items():
        make_user(username, roles)
    make_user("committee2301", [("league_branch_committee", "TZB-JX2301")])
    make_user("committee2302", [("league_branch_committee", "TZB-JX2302")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])
    for branch, prefix in (("TZB-JX2301", "20230101"), ("TZB-JX2302", "20230201")):
        for n in range(1, 7):
            make_person(f"{prefix}{n:02d}", f"团员{branch[-4:]}-{n}", branch)
    for person in (A, B, C, D):
        make_user(f"u{person}", [("member", None)], person=person)
    for name in ("recommendation", "branch_assessment", "rectification"):
        deploy(ROOT / "bpmn" / f"{name}.bpmn")

    t0 = beijing(2026, 9, 1)
    cases = {person: start(person, t0) for person in (A, B, C, D)}
    step(f"u{A}", cases[A], "apply", {"statement": "申请"}, t0 + timedelta(hours=2))
    step(f"u{B}", cases[B], "apply", {"statement": "申请"}, t0 + timedelta(hours=4))
    step(f"u{D}", cases[D], "apply", {"statement": "申请"}, t0 + timedelta(hours=6))
    day2 = beijing(2026, 9, 2)
    step("committee2301", cases[A], "committee_review", {"decision": "approve"}, day2)
    step("committee2302", cases[B], "committee_review", {"decision": "reject", "reason": "条件不足"}, day2)
    step("committee2302", cases[D], "committee_review", {"decision": "approve"}, day2)
    for case in (cases[A], cases[D]):
        step("tzz_sec", case, "meeting_approval", {"decision": "approve", "meeting_date": "2026-09-10",
                                                  "meeting_time": "14:30", "meeting_place": "一教 201"}, day2)
    step("sec2301", cases[A], "meeting_record", MEETING, beijing(2026, 9, 10))
    step("sec2302", cases[D], "meeting_record", {**MEETING, "yes": 2, "no": 4}, beijing(2026, 9, 10))  # not passed
    step("committee2301", cases[A], "committee_opinion", {"opinion": "同意"}, beijing(2026, 11, 27))
    assert run_due(now=beijing(2026, 12, 5, 1)).fired == 1  # the public notice ends
    step("tzz_sec", cases[A], "general_branch_review", {"decision": "approve"}, beijing(2026, 12, 7))
    step("dzb1", cases[A], "party_branch_decision", {"decision": "accept", "contacts": ["2023010102"]},
         beijing(2026, 12, 8))

    # the 2024 assessment, finished: good, fair, lagging (which starts a rectification)
    campaign = run_campaign({"TZB-JX2301": (85, 86, 84), "TZB-JX2302": (75, 76, 74), "TZB-JX2401": (65, 66, 64)},
                            at=beijing(2025, 3, 15))
    with clock.frozen_at(beijing(2025, 3, 16)):
        confirm_campaign(actor("tzz_sec"), campaign)
        db.session.commit()
    for instance_id in db.session.scalars(select(Instance.id).where(Instance.campaign_id == campaign)):
        step("dzz_sec", instance_id, "party_acceptance", {"decision": "accept"}, beijing(2025, 3, 17))
    # the 2025 assessment: TZB-JX2401 never assesses itself and is overdue after 15 April 2026
    with clock.frozen_at(beijing(2026, 3, 15)):
        launch_campaign(actor("tzz_sec"), "branch_assessment", 2025, datetime(2026, 4, 15).date())
        db.session.commit()
    for subject in ("TZB-JX2301", "TZB-JX2302"):
        task = db.session.scalars(select(HumanTask).join(Instance, Instance.id == HumanTask.instance_id).where(
            Instance.subject == subject, Instance.campaign_id.isnot(None), HumanTask.status == "ready",
            HumanTask.name == "self_assessment")).one()
        with clock.frozen_at(beijing(2026, 3, 20)):
            complete_task(actor({"TZB-JX2301": "sec2301", "TZB-JX2302": "sec2302"}[subject]), task.id,
                          {"scores": sheet(80), "evidence": "记录", "representative": "代表"})
            db.session.commit()
    # a rectification ordered by hand and then terminated
    with clock.frozen_at(beijing(2026, 5, 1)):
        rect = start_instance(None, "rectification", "TZB-JX2302",
                              {"problems": [{"title": "组织生活不规范"}], "deadline": "2026-08-01"})
        db.session.commit()
        terminate_instance(actor("admin"), rect.id, "误发")
        db.session.commit()
    return cases


def get(client: Any, path: str) -> str:
    with clock.frozen_at(VIEW):
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def cell(html: str, attribute: str, value: str, index: int = -1) -> str:
    found = re.search(rf'<tr data-{attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert found, (attribute, value)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]
    return cells[index]


def test_the_dashboard_numbers_match_the_cases(client, scene):
    sign_in(client, "tzz_sec")
    html = get(client, "/dashboards?year=2026")
    # the 2026 推优 funnel: 4 cases, 3 applied, 2 approved by their committee, 1 passed its meeting,
    # 1 through the public notice, 1 accepted by the Party branch
    assert [cell(html, "stage", k) for k in ("applied", "committee_approved", "meeting_passed",
                                            "publicity_passed", "accepted")] == ["3", "2", "1", "1", "1"]
    assert '<svg class="chart"' in html and "推优漏斗" in html
    # grades of the 2024 campaign
    row = re.search(r'<tr data-year="2024">(.*?)</tr>', html, re.S).group(1)
    grades = dict(re.findall(r'data-grade="(\w+)">(\d+)<', row))
    assert grades == {"excellent": "0", "good": "1", "fair": "1", "lagging": "1", "weak": "0"}
    # overdue: TZB-JX2401's 2025 self-assessment, due 15 April 2026
    assert cell(html, "unit", "TZB-JX2401") == "1"
    assert cell(html, "step", "self_assessment") == "1"
    # time per step in 2026: apply took 2 h, 4 h and 6 h
    assert cell(html, "step", "recommendation:apply", 2) == "3"
    assert cell(html, "step", "recommendation:apply", 3) == "4.0"
    assert cell(html, "step", "recommendation:apply", 4) == "6.0"
    # rectifications: the lagging branch's one is open, the one ordered by hand was terminated
    assert [cell(html, "state", s) for s in ("open", "overdue", "closed", "terminated")] == ["1", "0", "0", "1"]


def test_a_branch_secretary_sees_their_branch_only(client, scene, app):
    sign_in(client, "sec2302")
    html = get(client, "/dashboards?year=2026")
    assert [cell(html, "stage", k) for k in ("applied", "committee_approved", "meeting_passed")] == ["2", "1", "0"]
    row = re.search(r'<tr data-year="2024">(.*?)</tr>', html, re.S).group(1)
    assert dict(re.findall(r'data-grade="(\w+)">(\d+)<', row))["fair"] == "1"
    assert dict(re.findall(r'data-grade="(\w+)">(\d+)<', row))["good"] == "0"
    assert 'data-unit="TZB-JX2401"' not in html
    assert "统计范围：您负责的组织" in html


def test_the_functions_agree_with_the_api(client, scene, login):
    headers = login("tzz_sec")
    with clock.frozen_at(VIEW):
        funnel = client.get("/api/v1/dashboards/funnel?year=2026", headers=headers).get_json()
        grades = client.get("/api/v1/dashboards/grades?year=2024", headers=headers).get_json()
        rects = client.get("/api/v1/dashboards/rectifications", headers=headers).get_json()
        missing = client.get("/api/v1/dashboards/nothing", headers=headers)
    assert [s["count"] for s in funnel["data"]["stages"]] == [3, 2, 1, 1, 1] and funnel["data"]["cases"] == 4
    assert grades["data"]["years"][0]["total"] == 3
    assert rects["data"]["total"] == 2
    assert missing.status_code == 404
    with clock.frozen_at(VIEW), client.application.test_request_context():
        assert dashboards.funnel(actor("sec2401"), 2026)["cases"] == 0
