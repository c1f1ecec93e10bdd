"""POST /api/v1/roster: admins only, one transaction, every row problem in the 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from roster_support import ROSTER_PASSWORD

from service.audit import AuditEvent
from service.extensions import db


def test_a_non_admin_gets_403_and_nothing_is_written(
        college: Any, client: Any, make_user: Callable[..., Any], login: Callable[[str], dict[str, str]],
        roster_document: dict[str, Any], table_counts: Callable[[], dict[str, int]]) -> None:
    make_user("sec", [("league_branch_secretary", "TZB-JX2301"), ("party_general_branch_secretary", "DZZ")])
    headers = login("sec")
    before = table_counts()

    response = client.post("/api/v1/roster", json=roster_document, headers=headers)
    anonymous = client.post("/api/v1/roster", json=roster_document)

    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert anonymous.status_code == 401
    assert table_counts() == before


def test_an_admin_imports_and_the_change_is_committed_and_audited(
        app: Any, client: Any, make_user: Callable[..., Any], login: Callable[[str], dict[str, str]],
        roster_document: dict[str, Any], table_counts: Callable[[], dict[str, int]]) -> None:
    admin = make_user("boss", [("admin", None)])
    headers = login("boss")

    response = client.post("/api/v1/roster", json=roster_document, headers=headers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"org_units": 4, "people": 2, "users": 3}
    counts = table_counts()
    assert (counts["org_unit"], counts["person"], counts["app_user"]) == (4, 2, 4)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster_imported")).one()
    assert event.actor_id == admin.id
    login_response = client.post("/api/v1/auth/token", json={"username": "li", "password": ROSTER_PASSWORD})
    assert login_response.status_code == 200


def test_bad_rows_give_422_with_every_row_and_field(
        college: Any, client: Any, make_user: Callable[..., Any], login: Callable[[str], dict[str, str]],
        roster_document: dict[str, Any], table_counts: Callable[[], dict[str, int]]) -> None:
    make_user("boss", [("admin", None)])
    headers = login("boss")
    roster_document["people"][1]["birth_date"] = "1980-13-01"
    roster_document["users"][0]["roles"][0]["org_unit"] = "DZB-S1"  # a League role at a Party branch
    roster_document["org_units"][2]["kind"] = "party"
    before = table_counts()

    response = client.post("/api/v1/roster", json=roster_document, headers={**headers, "Accept-Language": "en"})

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_roster" and error["message"] == "The roster has errors; nothing was imported"
    assert {(d["sheet"], d["row"], d["field"]) for d in error["details"]} == {
        ("people", 2, "birth_date"), ("users", 1, "roles"), ("org_units", 3, "kind")}
    assert table_counts() == before
