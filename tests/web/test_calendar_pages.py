"""The month calendar (service/calendar): the page, the JSON API and the home-page panel, with entries
from real cases of the repository's processes (tasks due, waiting timers, dates the pack declares,
terms ending, campaign deadlines) and the access rules (only cases the user may see)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from web_support import sign_in

from service import clock
from tests.processes.process_harness import beijing

ROOT = Path(__file__).resolve().parents[2]
T0 = beijing(2026, 12, 1, 9)
PROCESSES = ("coordination_meeting", "contact_visit", "responsibility_letter", "party_branch_assessment",
             "rectification")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


def _actor(username: str) -> Any:
    from sqlalchemy import select

    from service.auth.operations import actor_for
    from service.extensions import db
    from service.org.models import User

    return actor_for(db.session.scalar(select(User).where(User.username == username)))


def _ready(instance_id: int, name: str) -> str:
    from sqlalchemy import select

    from service.extensions import db
    from service.instances.models import HumanTask

    return db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.name == name,
                                                        HumanTask.status == "ready"))


@pytest.fixture
def cases(college: Any, make_user: Any, deploy: Any) -> dict[str, int]:
    """Cases at several stages on 1 December 2026 (Beijing)."""
    from service.campaigns.operations import launch_campaign
    from service.extensions import db
    from service.instances.operations import complete_task, start_instance

    make_user("dzz_sec", [("party_general_branch_secretary", "DZZ")])
    make_user("tzz_sec", [("league_general_branch_secretary", "TZZ")])
    make_user("sec1", [("league_branch_secretary", "TZB-JX2301")])
    make_user("sec3", [("league_branch_secretary", "TZB-JX2401")])
    for key in PROCESSES:
        deploy(ROOT / "bpmn" / f"{key}.bpmn")
    college["TZB-JX2302"].last_reelection = date(2025, 12, 5)  # a one-year term ends on 5 December
    with clock.frozen_at(T0):
        meeting = start_instance(None, "coordination_meeting", "DZZ")  # first meeting: due in 30 days
        visit = start_instance(None, "contact_visit", "TZB-JX2401", {"leader": "dzz_sec", "planned_date": "2026-12-10"})
        letter = start_instance(None, "responsibility_letter", "TZB-JX2301", {"year": 2026})
        complete_task(_actor("tzz_sec"), _ready(letter.id, "set_targets"), {"targets": ["按时开展三会两制一课"]})
        complete_task(_actor("sec1"), _ready(letter.id, "sign"),
                      {"decision": "sign", "signed_by": "李四", "signed_on": "2026-12-01"})
        complete_task(_actor("tzz_sec"), _ready(letter.id, "counter_sign"),
                      {"counter_signed_by": "王五", "counter_signed_on": "2026-12-01"})
        campaign, _ = launch_campaign(_actor("dzz_sec"), "party_branch_assessment", 2026, date(2026, 12, 20))
    db.session.commit()
    return {"meeting": meeting.id, "visit": visit.id, "letter": letter.id, "campaign": campaign.id}


def _month(client: Any, headers: dict[str, str], month: str) -> list[dict[str, Any]]:
    with clock.frozen_at(T0):
        response = client.get(f"/api/v1/calendar?month={month}", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["month"] == month
    return response.get_json()["items"]


def test_the_month_lists_tasks_timers_planned_dates_terms_and_campaign_deadlines(client, login, cases):
    items = _month(client, login("dzz_sec"), "2026-12")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    assert set(by_kind) == {"task", "timer", "case", "term_end", "campaign_deadline"}
    [plan] = [i for i in by_kind["task"] if i["instance_id"] == cases["meeting"]]
    assert (plan["date"], plan["time"], plan["title"], plan["mine"]) == ("2026-12-31", "23:59", "筹备党团联席会议", True)
    reports = [i for i in by_kind["task"] if i["process"] == "party_branch_assessment"]
    assert sorted(i["subject"] for i in reports) == ["DZB-S1", "DZB-S2"]
    assert {(i["date"], i["mine"]) for i in reports} == {("2026-12-20", False)}  # the Party branches' own tasks
    assert {(i["instance_id"], i["date"]) for i in by_kind["timer"]} >= {(cases["meeting"], "2026-12-17")}
    assert [(i["date"], i["title"]) for i in by_kind["case"]] == [("2026-12-10", "联系点走访：机械2401团支部（dzz_sec）")]
    assert [(i["date"], i["subject"]) for i in by_kind["term_end"]] == [("2026-12-05", "TZB-JX2302")]
    assert [(i["date"], i["campaign_id"]) for i in by_kind["campaign_deadline"]] == [("2026-12-20", cases["campaign"])]
    assert [i["date"] for i in items] == sorted(i["date"] for i in items)
    # a deadline timer that is also a task's due date is listed once, as the task
    assert not [i for i in by_kind["timer"] if (i["instance_id"], i["date"], i["time"]) in
                {(t["instance_id"], t["date"], t["time"]) for t in by_kind["task"]}]


def test_next_spring_shows_the_responsibility_letter_review(client, login, cases):
    items = _month(client, login("tzz_sec"), "2027-03")
    letter = [i for i in items if i["instance_id"] == cases["letter"]]
    assert {(i["kind"], i["date"]) for i in letter} == {("timer", "2027-03-01"), ("case", "2027-03-01")}
    assert any("目标责任书年度考评" in i["title"] for i in letter)


def test_a_branch_secretary_sees_only_the_cases_of_their_branch(client, login, cases):
    items = _month(client, login("sec3"), "2026-12")
    assert {i["instance_id"] for i in items if i["instance_id"]} == {cases["visit"]}
    assert not [i for i in items if i["kind"] in ("term_end", "campaign_deadline")]


def test_bad_month_is_a_422_with_the_error_shape(client, login, cases):
    headers = login("dzz_sec")
    for month in ("2026-13", "2026-1", "abc", "1999-01"):
        response = client.get(f"/api/v1/calendar?month={month}", headers=headers)
        assert response.status_code == 422, month
        assert response.get_json()["error"]["details"][0]["field"] == "month"
    assert client.get("/api/v1/calendar?month=2026-12").status_code == 401


def test_month_page_groups_by_day_and_links_the_tasks(client, cases):
    sign_in(client, "dzz_sec")
    with clock.frozen_at(T0):
        page = client.get("/calendar?month=2026-12").get_data(as_text=True)
        english = client.get("/calendar?month=2026-12&lang=en").get_data(as_text=True)
        bad = client.get("/calendar?month=2026-99")
    assert page.index('id="day-2026-12-05"') < page.index('id="day-2026-12-10"') < page.index('id="day-2026-12-31"')
    assert "任期届满" in page and "筹备党团联席会议" in page and 'href="/inbox/tasks/' in page
    assert "?month=2026-11" in page and "?month=2027-01" in page
    assert "Term ends" in english and "Calendar" in english
    assert bad.status_code == 422 and "YYYY-MM" in bad.get_data(as_text=True)


def test_home_page_shows_the_month_to_general_branch_secretaries_only(client, cases, make_user):
    make_user("plain", [("member", None)])
    sign_in(client, "dzz_sec")
    with clock.frozen_at(T0):
        home = client.get("/").get_data(as_text=True)
    assert "本月日程" in home and "2026-12" in home and "筹备党团联席会议" in home and "/calendar?month=2026-12" in home
    client.post("/logout", data={})
    other = client.application.test_client()
    sign_in(other, "plain")
    with clock.frozen_at(T0):
        assert "本月日程" not in other.get("/").get_data(as_text=True)


@pytest.mark.browser
def test_month_page_fits_a_phone(app, cases):
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    from browser_support import PHONE, launched_chromium, screenshot, serving, sign_in, skip_reason

    if skip_reason():
        pytest.skip(skip_reason())
    with serving(app) as base, launched_chromium(sync_api) as browser:
        try:
            page = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
            sign_in(page, base, "dzz_sec")
            page.goto(f"{base}/calendar?month=2026-12")
            assert page.locator("section.calendar-day").count() >= 4
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            screenshot(page, "calendar-month-phone")
        finally:
            browser.close()
