"""The tracking API: a campaign's board, case search with variable columns, saved searches per user and
the dashboards, over a real 团支部年度考核 campaign driven through the API (launch, self-assessment,
reviews) for the `college` fixture's three League branches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from processes.branch_assessment import INDICATORS
from service import clock

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 15, 2, tzinfo=UTC)
USERS = {
    "admin": [("admin", None)],
    "tzz_sec": [("league_general_branch_secretary", "TZZ")],
    "rev_wang": [("league_general_branch_committee", "TZZ")],
    "rev_li": [("league_general_branch_committee", "TZZ")],
    "sec2301": [("league_branch_secretary", "TZB-JX2301")],
    "sec2302": [("league_branch_secretary", "TZB-JX2302")],
    "sec2401": [("league_branch_secretary", "TZB-JX2401")],
}
TOTALS = {"TZB-JX2301": (85, 86, 84), "TZB-JX2302": (75, 80, 70)}  # TZB-JX2401 stays at its self-assessment


def sheet(total: float) -> dict[str, float]:
    missing, scores = round(100 - total, 6), {}
    for indicator in INDICATORS:
        taken = min(indicator["max"], missing)
        missing = round(missing - taken, 6)
        scores[indicator["key"]] = round(indicator["max"] - taken, 6)
    return scores


class Caller:
    def __init__(self, client: Any, login: Callable[[str], dict[str, str]]):
        self.client, self.tokens = client, {name: login(name) for name in USERS}

    def __call__(self, user: str, method: str, path: str, status: int, **kwargs: Any) -> Any:
        with clock.frozen_at(NOW):
            response = self.client.open(path, method=method, headers=self.tokens[user], **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.get_data(as_text=True))
        return response.get_json(silent=True)

    def do(self, user: str, subject: str, name: str, data: dict[str, Any]) -> None:
        tasks = [t for t in self(user, "GET", f"/api/v1/tasks?process=branch_assessment&subject={subject}", 200)["items"]
                 if t["name"] == name]
        self(user, "POST", f"/api/v1/tasks/{tasks[0]['id']}/complete", 200, json={"data": data})


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def api(college: Any, make_user: Callable[..., Any], deploy: Callable[..., Any], client: Any,
        login: Callable[[str], dict[str, str]]) -> tuple[Caller, int]:
    for username, roles in USERS.items():
        make_user(username, roles)
    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")
    call = Caller(client, login)
    campaign = call("tzz_sec", "POST", "/api/v1/campaigns", 201,
                    json={"process": "branch_assessment", "year": 2024, "deadline": "2025-04-15"})
    for subject, (own, wang, li) in TOTALS.items():
        secretary = {"TZB-JX2301": "sec2301", "TZB-JX2302": "sec2302"}[subject]
        call.do(secretary, subject, "self_assessment", {"scores": sheet(own), "evidence": "记录", "representative": "代表"})
        call.do("rev_wang", subject, "review", {"scores": sheet(wang), "veto": False})
        call.do("rev_li", subject, "review", {"scores": sheet(li), "veto": False})
    return call, campaign["id"]


def test_campaign_board(api):
    call, campaign = api
    board = call("tzz_sec", "GET", f"/api/v1/campaigns/{campaign}/board", 200)
    assert board["year"] == 2024 and board["total"] == 3 and board["waiting_confirm"] == 2 and board["may_confirm"]
    rows = {r["subject"]: r for r in board["items"]}
    assert rows["TZB-JX2301"]["self_total"] == 85 and rows["TZB-JX2301"]["aggregate"] == 85
    assert sorted(r["total"] for r in rows["TZB-JX2302"]["reviews"]) == [70, 80]
    assert rows["TZB-JX2302"]["grade"] == "fair" and rows["TZB-JX2401"]["grade"] is None
    assert rows["TZB-JX2401"]["steps"] == ["self_assessment"] and rows["TZB-JX2401"]["overdue"] is False
    quota = {g["grade"]: g for g in board["quota"]["grades"]}
    assert board["quota"]["graded"] == 2
    assert (quota["good"]["count"], quota["good"]["allowed"], quota["good"]["over"]) == (1, 1, False)
    assert (quota["excellent"]["count"], quota["excellent"]["allowed"]) == (0, 0)

    ordered = call("tzz_sec", "GET", f"/api/v1/campaigns/{campaign}/board?sort=aggregate&order=desc", 200)
    assert [r["subject"] for r in ordered["items"]] == ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]
    only = call("tzz_sec", "GET", f"/api/v1/campaigns/{campaign}/board?grade=fair", 200)
    assert [r["subject"] for r in only["items"]] == ["TZB-JX2302"]
    assert call("sec2401", "GET", f"/api/v1/campaigns/{campaign}/board", 200)["total"] == 1
    call("tzz_sec", "GET", f"/api/v1/campaigns/{campaign}/board?sort=nonsense", 422)
    call("tzz_sec", "GET", "/api/v1/campaigns/987654/board", 404)


def test_search_with_columns_and_restricted_ones(api):
    call, _campaign = api
    found = call("tzz_sec", "GET", "/api/v1/search?process=branch_assessment&columns=grade,final_score", 200)
    assert found["total"] == 3 and found["columns"] == ["grade", "final_score"]
    values = {i["subject"]: i["values"] for i in found["items"]}
    assert values["TZB-JX2301"] == {"grade": "good", "final_score": 85}
    assert values["TZB-JX2401"] == {"grade": None, "final_score": None}
    assert call("tzz_sec", "GET", "/api/v1/search?step=self_assessment", 200)["total"] == 1
    assert call("sec2302", "GET", "/api/v1/search?process=branch_assessment", 200)["total"] == 1

    refused = call("tzz_sec", "GET", "/api/v1/search?process=branch_assessment&columns=reviews", 403)
    assert refused["error"]["details"] == [{"field": "columns", "message": "reviews"}]
    shown = call("admin", "GET", "/api/v1/search?process=branch_assessment&columns=reviews&unit=TZB-JX2301", 200)
    assert len(shown["items"]) == 1 and "rev_wang" in shown["items"][0]["values"]["reviews"]
    assert call("tzz_sec", "GET", "/api/v1/search?started_from=2025-04-01&started_to=2025-03-01", 422)["error"][
        "details"][0]["field"] == "started_to"
    call("tzz_sec", "GET", "/api/v1/search?columns=bad-name", 422)
    call("tzz_sec", "GET", "/api/v1/search?status=sleeping", 422)
    call("tzz_sec", "GET", "/api/v1/search?page=0", 422)


def test_saved_searches_per_user(api):
    call, _campaign = api
    created = call("tzz_sec", "POST", "/api/v1/saved-searches", 201,
                   json={"name": "待自评", "query": "?step=self_assessment&page=3&unknown=1"})
    assert created["query"] == "step=self_assessment"
    call("tzz_sec", "POST", "/api/v1/saved-searches", 409, json={"name": "待自评", "query": "status=running"})
    call("tzz_sec", "POST", "/api/v1/saved-searches", 403, json={"name": "受限", "query": "columns=reviews"})
    call("tzz_sec", "POST", "/api/v1/saved-searches", 422, json={"name": "坏", "query": "started_from=yesterday"})
    call("sec2301", "POST", "/api/v1/saved-searches", 201, json={"name": "待自评", "query": "status=running"})

    assert [s["name"] for s in call("tzz_sec", "GET", "/api/v1/saved-searches", 200)["items"]] == ["待自评"]
    assert call("tzz_sec", "GET", f"/api/v1/saved-searches/{created['id']}", 200)["name"] == "待自评"
    call("sec2301", "GET", f"/api/v1/saved-searches/{created['id']}", 404)
    call("sec2301", "DELETE", f"/api/v1/saved-searches/{created['id']}", 404)
    call("tzz_sec", "DELETE", f"/api/v1/saved-searches/{created['id']}", 204)
    assert call("tzz_sec", "GET", "/api/v1/saved-searches", 200)["items"] == []
    assert len(call("sec2301", "GET", "/api/v1/saved-searches", 200)["items"]) == 1


def test_dashboards(api):
    call, _campaign = api
    overdue = call("tzz_sec", "GET", "/api/v1/dashboards/overdue", 200)
    assert overdue["name"] == "overdue" and overdue["data"]["total"] == 0
    times = call("tzz_sec", "GET", "/api/v1/dashboards/step_times?year=2025", 200)["data"]["steps"]
    assert {s["step"] for s in times} == {"self_assessment", "review"}
    assert call("tzz_sec", "GET", "/api/v1/dashboards/funnel?year=2025", 200)["data"]["cases"] == 0
    call("tzz_sec", "GET", "/api/v1/dashboards/funnel?year=1900", 422)
    call("tzz_sec", "GET", "/api/v1/dashboards/unknown", 404)


def test_the_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/campaigns/{campaign_id}/board", "/api/v1/search", "/api/v1/saved-searches",
                 "/api/v1/saved-searches/{search_id}", "/api/v1/dashboards/{name}"):
        assert path in paths, path
