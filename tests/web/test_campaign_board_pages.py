"""The campaign page (/campaigns/<id>): a real 团支部年度考核 campaign over the `college` fixture's three
League branches, driven through the real operations (launch, self-assessment, parallel reviews), then
read on the page: one row per branch with step, due date, scores, grade; quota use against the policy;
sorting and filters; confirming from the page (refused over quota with the reason, done within it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from web_support import csrf_from, sign_in

from processes.branch_assessment import INDICATORS
from service import clock
from service.auth.operations import actor_for
from service.campaigns.models import Campaign
from service.campaigns.operations import launch_campaign
from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.instances.operations import complete_task
from service.org.models import User

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
BRANCHES = ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]
SECRETARY = {"TZB-JX2301": "sec2301", "TZB-JX2302": "sec2302", "TZB-JX2401": "sec2401"}
LAUNCH = datetime(2025, 3, 15, 2, 0, tzinfo=UTC)  # 10:00 Beijing
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


def sheet(total: float) -> dict[str, float]:
    """A score sheet adding up to `total`: full marks minus points taken from the indicators in order."""
    missing, scores = round(100 - total, 6), {}
    for indicator in INDICATORS:
        taken = min(indicator["max"], missing)
        missing = round(missing - taken, 6)
        scores[indicator["key"]] = round(indicator["max"] - taken, 6)
    return scores


def actor(username: str) -> Any:
    return actor_for(db.session.scalars(select(User).where(User.username == username)).one())


def do_task(username: str, subject: str, name: str, data: dict[str, Any], reviewer: str | None = None) -> None:
    tasks = db.session.scalars(select(HumanTask).join(Instance, Instance.id == HumanTask.instance_id).where(
        Instance.subject == subject, Instance.process_key == "branch_assessment", HumanTask.status == "ready",
        HumanTask.name == name)).all()
    if reviewer:
        tasks = [t for t in tasks if t.assigned_user_id == actor(reviewer).user_id]
    assert tasks, (subject, name)
    complete_task(actor(username), tasks[0].id, data)
    db.session.commit()


def run_campaign(scores: dict[str, tuple[float, float, float] | None], at: datetime = LAUNCH) -> int:
    """Launch the 2024 campaign, then per branch: (self total, wang's total, li's total), or None to leave
    the branch at its self-assessment. Returns the campaign id."""
    with clock.frozen_at(at):
        campaign, _instances = launch_campaign(actor("tzz_sec"), "branch_assessment", 2024,
                                               datetime(2025, 4, 15).date())
        db.session.commit()
        for subject, totals in scores.items():
            if totals is None:
                continue
            own, wang, li = totals
            do_task(SECRETARY[subject], subject, "self_assessment",
                    {"scores": sheet(own), "evidence": "支委会会议记录", "representative": "团员代表"})
            do_task("rev_wang", subject, "review", {"scores": sheet(wang), "veto": False}, reviewer="rev_wang")
            do_task("rev_li", subject, "review", {"scores": sheet(li), "veto": False}, reviewer="rev_li")
    return campaign.id


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def campus(college: Any, make_user: Callable[..., Any], deploy: Callable[..., Any]) -> None:
    for username, roles in USERS.items():
        make_user(username, roles)
    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")


def page(client: Any, path: str, at: datetime = LAUNCH, status: int = 200) -> str:
    with clock.frozen_at(at):
        response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-subject="([^"]+)"', html)


def row_html(html: str, subject: str) -> str:
    found = re.search(rf'data-subject="{subject}">(.*?)</tr>', html, re.S)
    assert found, subject
    return found.group(1)


def quota_cells(html: str, grade: str) -> list[str]:
    found = re.search(rf'data-grade="{grade}">(.*?)</tr>', html, re.S)
    assert found, grade
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


OVER_QUOTA = {"TZB-JX2301": (90, 95, 93), "TZB-JX2302": (88, 92, 90), "TZB-JX2401": (75, 70, 72)}


def test_board_rows_scores_and_quota_use(client, campus):
    campaign_id = run_campaign(OVER_QUOTA)
    sign_in(client, "tzz_sec")
    html = page(client, f"/campaigns/{campaign_id}")

    assert rows(html) == BRANCHES
    first = row_html(html, "TZB-JX2301")
    assert "机械2301团支部" in first and "团总支确认等级" in first  # the current step
    assert ">90<" in first  # self score
    assert ">95<" in first and ">93<" in first  # each reviewer's total
    assert ">94.0<" in first  # the aggregate: mean of the reviewers' totals
    assert "优秀" in first
    assert "71.0" in row_html(html, "TZB-JX2401") and "一般" in row_html(html, "TZB-JX2401")
    # quotas: 五星 ≤ 20 % of 3 graded -> at most 0; 四星 ≤ 60 % -> at most 1
    assert quota_cells(html, "excellent")[:3] == ["五星/优秀", "2", "≤ 20%"]
    assert quota_cells(html, "excellent")[3].startswith("0") and "超出限额" in quota_cells(html, "excellent")[3]
    assert quota_cells(html, "good")[1:] == ["0", "≤ 60%", "1"]
    assert "确认全部等级并上报党总支" in html  # the general branch secretary may confirm here


def test_sorting_and_filters(client, campus):
    campaign_id = run_campaign({**OVER_QUOTA, "TZB-JX2401": None})  # 2401 still at its self-assessment
    sign_in(client, "tzz_sec")
    base = f"/campaigns/{campaign_id}"

    assert rows(page(client, f"{base}?sort=aggregate&order=desc")) == ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]
    assert rows(page(client, f"{base}?sort=aggregate&order=asc")) == ["TZB-JX2302", "TZB-JX2301", "TZB-JX2401"]
    assert rows(page(client, f"{base}?sort=name&order=desc")) == ["TZB-JX2401", "TZB-JX2302", "TZB-JX2301"]
    assert rows(page(client, f"{base}?step=self_assessment")) == ["TZB-JX2401"]
    assert rows(page(client, f"{base}?step=confirm")) == ["TZB-JX2301", "TZB-JX2302"]
    assert rows(page(client, f"{base}?grade=excellent")) == ["TZB-JX2301", "TZB-JX2302"]
    assert rows(page(client, f"{base}?overdue=1")) == []
    assert rows(page(client, f"{base}?sort=bogus&overdue=maybe")) == BRANCHES  # unknown values: defaults

    late = datetime(2025, 4, 16, 2, 0, tzinfo=UTC)  # the self-assessment deadline has passed
    html = page(client, f"{base}?overdue=1", at=late)
    assert rows(html) == ["TZB-JX2401"]
    assert "已逾期" in row_html(html, "TZB-JX2401")
    assert rows(page(client, f"{base}?overdue=0", at=late)) == ["TZB-JX2301", "TZB-JX2302"]


def test_confirm_refused_over_quota_with_the_reason(client, campus):
    campaign_id = run_campaign(OVER_QUOTA)
    sign_in(client, "tzz_sec")
    html = page(client, f"/campaigns/{campaign_id}")
    with clock.frozen_at(LAUNCH):
        response = client.post(f"/campaigns/{campaign_id}/confirm", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    html = page(client, f"/campaigns/{campaign_id}")
    assert "等级比例超出限额" in html
    assert "五星/优秀：2 个，按比例最多 0 个" in html
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).status == "running"
    assert rows(page(client, f"/campaigns/{campaign_id}?step=confirm")) == BRANCHES  # nothing was confirmed


def test_confirm_from_the_page_reports_to_the_party_general_branch(client, campus):
    campaign_id = run_campaign({"TZB-JX2301": (85, 86, 84), "TZB-JX2302": (75, 76, 74), "TZB-JX2401": (72, 70, 72)})
    sign_in(client, "tzz_sec")
    html = page(client, f"/campaigns/{campaign_id}")
    assert quota_cells(html, "good")[1:] == ["1", "≤ 60%", "1"]
    assert "超出限额" not in html

    with clock.frozen_at(LAUNCH):
        refused = client.post(f"/campaigns/{campaign_id}/confirm", data={})  # no CSRF token
    assert refused.status_code == 400
    with clock.frozen_at(LAUNCH):
        response = client.post(f"/campaigns/{campaign_id}/confirm", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    html = page(client, f"/campaigns/{campaign_id}")
    assert "已确认 3 个团支部的考核等级" in html
    assert rows(page(client, f"/campaigns/{campaign_id}?step=party_acceptance")) == BRANCHES
    assert "已上报待党总支审核 3" in html
    assert "确认全部等级并上报党总支" not in html  # nothing left to confirm
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).status == "confirmed"


def test_a_branch_secretary_sees_only_their_row_and_no_confirm(client, campus):
    campaign_id = run_campaign({"TZB-JX2301": (85, 86, 84), "TZB-JX2302": (75, 76, 74), "TZB-JX2401": (72, 70, 72)})
    sign_in(client, "sec2302")
    html = page(client, f"/campaigns/{campaign_id}")
    assert rows(html) == ["TZB-JX2302"]
    assert "确认全部等级并上报党总支" not in html
    with clock.frozen_at(LAUNCH):
        response = client.post(f"/campaigns/{campaign_id}/confirm", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    assert "只有团总支书记可以确认考核等级" in page(client, f"/campaigns/{campaign_id}")
    listing = page(client, "/campaigns")
    assert f"/campaigns/{campaign_id}" in listing and "2024" in listing

    sign_in(client, "dzz_sec")  # the Party general branch sees every branch (paired units)
    assert rows(page(client, f"/campaigns/{campaign_id}")) == BRANCHES
    page(client, "/campaigns/999999", status=404)


def test_board_stays_at_a_fixed_number_of_statements(client, campus, app):
    """No N+1: the same number of statements for a board of three branches, whatever their state."""
    from sqlalchemy import event

    campaign_id = run_campaign({"TZB-JX2301": (85, 86, 84), "TZB-JX2302": None, "TZB-JX2401": None})
    sign_in(client, "tzz_sec")
    page(client, f"/campaigns/{campaign_id}")  # warm the caches
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page(client, f"/campaigns/{campaign_id}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 15, statements
    assert LAUNCH + timedelta(days=1) > LAUNCH
