"""联系点安排 through the HTTP API, each role in turn: the Party general branch secretary assigns the year's
contact points (a table sent back, then fixed), each leader finds a visit per contact point in their
inbox, due by 31 December, a visit made is recorded on the branch, and leaders and branches from
elsewhere are refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service import clock
from service.extensions import db
from tests.processes.process_harness import beijing

ROOT = Path(__file__).resolve().parents[2]
T0 = beijing(2026, 3, 2)
USERS = ("admin", "dzz", "dzb1", "dzb2", "sec1", "other_dzz", "other_dzb")
TABLE = [{"leader": "dzb1", "branches": ["TZB-JX2301", "TZB-JX2302"], "note": "结对党支部书记"},
         {"leader": "dzz", "branches": ["TZB-JX2401"]}]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


class Api:
    def __init__(self, client: Any, login: Callable[[str], dict[str, str]]):
        self.client = client
        with clock.frozen_at(T0):
            self.headers = {user: login(user) for user in USERS}

    def call(self, user: str, method: str, path: str, status: int | tuple[int, ...], **kwargs: Any) -> Any:
        with clock.frozen_at(T0):
            response = self.client.open(path, method=method, headers=self.headers[user], **kwargs)
        wanted = status if isinstance(status, tuple) else (status,)
        assert response.status_code in wanted, (user, method, path, response.status_code, response.get_json())
        return response.get_json()

    def start(self, user: str, subject: str, data: dict[str, Any], status: int = 201) -> Any:
        return self.call(user, "POST", "/api/v1/instances", status,
                         json={"process": "contact_points", "subject": subject, "data": data})

    def tasks(self, user: str, process: str, name: str) -> list[dict[str, Any]]:
        items = self.call(user, "GET", f"/api/v1/tasks?process={process}", 200)["items"]
        return [t for t in items if t["name"] == name]

    def complete(self, user: str, task_id: str, data: dict[str, Any], status: int | tuple[int, ...] = 200) -> Any:
        return self.call(user, "POST", f"/api/v1/tasks/{task_id}/complete", status, json={"data": data})

    def instances(self, process: str) -> list[dict[str, Any]]:
        return self.call("admin", "GET", f"/api/v1/instances?process={process}", 200)["items"]


@pytest.fixture
def api(college: Any, make_user: Callable[..., Any], deploy: Callable[..., Any], client: Any,
        login: Callable[[str], dict[str, str]]) -> Api:
    from service.org.models import OrgUnit

    other = OrgUnit(code="DZZ2", name="材料学院党总支", kind="party_general_branch")
    db.session.add_all([other, OrgUnit(code="DZB-M1", name="材料学生党支部", kind="party_branch", parent=other)])
    db.session.commit()
    make_user("admin", [("admin", None)])
    make_user("dzz", [("party_general_branch_secretary", "DZZ")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])
    make_user("dzb2", [("party_branch_secretary", "DZB-S2")])
    make_user("sec1", [("league_branch_secretary", "TZB-JX2301")])
    make_user("other_dzz", [("party_general_branch_secretary", "DZZ2")])
    make_user("other_dzb", [("party_branch_secretary", "DZB-M1")])
    with clock.frozen_at(T0):
        for key in ("contact_points", "contact_visit", "rectification"):
            assert deploy(ROOT / "bpmn" / f"{key}.bpmn").warnings == []
    return Api(client, login)


def test_the_general_branch_assigns_contact_points_and_each_leader_visits(api: Api) -> None:
    api.start("dzb1", "DZZ", {}, status=403)  # a Party branch secretary does not assign
    api.start("sec1", "DZZ", {}, status=403)
    api.start("other_dzz", "DZZ", {}, status=403)  # nor another college's general branch
    api.start("dzz", "DZZ", {"leaders": []}, status=422)  # the roster's facts are not start data
    case = api.start("dzz", "DZZ", {"year": 2026})
    assert case["milestone"] == "待安排联系点"
    assert api.tasks("dzb1", "contact_points", "assign") == [] and api.tasks("other_dzz", "contact_points", "assign") == []
    [task] = api.tasks("dzz", "contact_points", "assign")
    shown = api.call("dzz", "GET", f"/api/v1/tasks/{task['id']}", 200)
    assert shown["data"] == {"assignment_problems": [], "assignments": []}
    assert "{{ year }} 年度" in shown["instructions"]  # the page fills in the year, the leaders and the branches
    from service.instances.subjects import resolve_subject

    structure = resolve_subject("org_unit", "DZZ").facts["structure"]  # what the table is checked against
    assert [b["code"] for b in structure["league_branches"]] == ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]
    assert [p["username"] for p in structure["party_leaders"]] == ["dzb1", "dzb2", "dzz"]
    api.call("other_dzz", "POST", f"/api/v1/tasks/{task['id']}/complete", (403, 404), json={"data": {"assignments": TABLE}})

    # sent back: three branches for one leader, and a leader of another general branch
    back = api.complete("dzz", task["id"], {"assignments": [
        {"leader": "dzb2", "branches": ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]},
        {"leader": "other_dzb", "branches": ["TZB-JX2401"]}]})
    assert back["status"] == "running" and back["milestone"] == "待安排联系点"
    [again] = api.tasks("dzz", "contact_points", "assign")
    problems = api.call("dzz", "GET", f"/api/v1/tasks/{again['id']}", 200)["data"]["assignment_problems"]
    assert [p["field"] for p in problems] == ["assignments.0.branches", "assignments.1.leader"]
    assert "other_dzb 不是本党总支党组织负责人的账号" in problems[1]["message"]
    assert api.instances("contact_visit") == []

    done = api.complete("dzz", again["id"], {"assignments": TABLE})
    assert done["status"] == "completed" and done["outcome"] == "assigned"
    visits = api.instances("contact_visit")
    assert sorted(v["subject"] for v in visits) == ["TZB-JX2301", "TZB-JX2302", "TZB-JX2401"]
    [record] = resolve_subject("org_unit", "DZZ").facts["records"]["contact_points"]
    assert record["year"] == 2026 and record["data"]["assignments"][0]["branches"] == ["TZB-JX2301", "TZB-JX2302"]
    api.start("dzz", "DZZ", {"year": 2026}, status=403)  # one table a year

    # each leader's own visits, due by the end of the year (Beijing)
    mine = api.tasks("dzb1", "contact_visit", "visit")
    assert len(mine) == 2 and {t["due_at"][:19] for t in mine} == {"2026-12-31T15:59:59"}
    assert len(api.tasks("dzz", "contact_visit", "visit")) == 1
    assert api.tasks("dzb2", "contact_visit", "visit") == [] and api.tasks("other_dzb", "contact_visit", "visit") == []
    visit = {"visited_on": "2026-04-15", "findings": "支部组织生活规范", "problems": []}
    for outsider in ("dzb2", "other_dzb", "sec1"):
        api.complete(outsider, mine[0]["id"], visit, status=(403, 404))
    finished = api.complete("dzb1", mine[0]["id"], visit)
    assert finished["status"] == "completed" and finished["outcome"] == "visited"
    branch = next(v["subject"] for v in api.instances("contact_visit") if v["id"] == finished["id"])
    [made] = resolve_subject("org_unit", branch).facts["records"]["contact_visit"]
    assert made["year"] == 2026 and made["data"]["leader"] == "dzb1"
    assert len(api.tasks("dzb1", "contact_visit", "visit")) == 1  # the other contact point is still to visit
