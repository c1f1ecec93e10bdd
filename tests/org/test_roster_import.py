"""import_roster / export_roster at the operation level: upserts, two-pass references, all-or-nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from roster_support import ROSTER_PASSWORD

from service.audit import AuditEvent
from service.errors import ApiError
from service.extensions import db
from service.org.models import OrgUnit, Person, RoleAssignment, User
from service.org.roster import export_roster, import_roster


def unit(code: str) -> OrgUnit:
    return db.session.scalars(sa.select(OrgUnit).where(OrgUnit.code == code)).one()


def user(username: str) -> User:
    return db.session.scalars(sa.select(User).where(User.username == username)).one()


def roles_of(username: str) -> set[tuple[str, str | None]]:
    return {(a.role, a.org_unit.code if a.org_unit else None) for a in user(username).roles}


def problems(document: Any, **kwargs: Any) -> set[tuple[Any, Any, Any]]:
    with pytest.raises(ApiError) as caught:
        import_roster(document, actor_id=None, **kwargs)
    db.session.rollback()
    assert caught.value.status == 422 and caught.value.code == "invalid_roster"
    for detail in caught.value.details:
        assert set(detail) == {"sheet", "row", "field", "message"}
        assert " / " in detail["message"], detail  # 中文 / English
    return {(d["sheet"], d["row"], d["field"]) for d in caught.value.details}


def test_a_full_document_imports_units_pairing_people_and_roles(app: Any, roster_document: dict[str, Any]) -> None:
    counts = import_roster(roster_document, actor_id=None)
    db.session.commit()

    assert counts == {"org_units": 4, "people": 2, "users": 3}
    branch = unit("TZB-JX2301")
    assert (branch.parent.code, branch.paired_with.code, branch.founded) == ("TZZ", "DZB-S1", date(2023, 9, 15))
    assert unit("TZZ").paired_with.code == "DZZ" and unit("DZB-S1").parent.code == "DZZ"
    zhang = db.session.get(Person, "2023010101")
    assert (zhang.name, zhang.birth_date, zhang.league_member, zhang.party_status, zhang.org_unit.code) == (
        "张三", date(2005, 3, 1), True, "applicant", "TZB-JX2301")
    teacher = db.session.get(Person, "T0001")
    assert (teacher.league_member, teacher.org_unit, teacher.party_status) == (False, None, "full")
    assert roles_of("zhangsan") == {("league_branch_committee", "TZB-JX2301"), ("member", None)}
    assert roles_of("li") == {("party_branch_secretary", "DZB-S1"), ("counsellor", "TZB-JX2301")}
    assert roles_of("root") == {("admin", None)}
    assert user("zhangsan").person_id == "2023010101"
    assert ROSTER_PASSWORD not in user("zhangsan").password_hash
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster_imported")).one()
    assert event.details == counts


def test_the_imported_password_logs_in(client: Any, roster_document: dict[str, Any]) -> None:
    import_roster(roster_document, actor_id=None)
    db.session.commit()

    good = client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": ROSTER_PASSWORD})
    bad = client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "secret-pass-1"})

    assert good.status_code == 200 and good.get_json()["token"]
    assert bad.status_code == 401


def test_reimport_is_idempotent(app: Any, roster_document: dict[str, Any],
                                table_counts: Callable[[], dict[str, int]]) -> None:
    import_roster(roster_document, actor_id=None)
    db.session.commit()
    before = table_counts()
    exported = export_roster()
    assignment_ids = {a.id for a in db.session.scalars(sa.select(RoleAssignment))}
    hash_before = user("zhangsan").password_hash

    counts = import_roster(roster_document, actor_id=None)
    db.session.commit()

    assert counts == {"org_units": 4, "people": 2, "users": 3}
    after = table_counts()
    assert after == {**before, "audit_event": before["audit_event"] + 1}
    assert export_roster() == exported
    # unchanged assignments are kept, not deleted and re-inserted; an unchanged password is not rehashed
    assert {a.id for a in db.session.scalars(sa.select(RoleAssignment))} == assignment_ids
    assert user("zhangsan").password_hash == hash_before


def test_reimport_updates_rows_replaces_roles_and_keeps_absent_keys(app: Any, roster_document: dict[str, Any]) -> None:
    import_roster(roster_document, actor_id=None)
    db.session.commit()
    update = {
        "org_units": [{"code": "TZB-JX2301", "name": "机械2301班团支部", "kind": "league_branch", "founded": None}],
        "people": [{"id": "2023010101", "name": "张三", "party_status": "activist", "league_post": None,
                    "league_member": None}],
        "users": [{"username": "zhangsan", "roles": [{"role": "league_branch_secretary", "org_unit": "TZB-JX2301"}]},
                  {"username": "li", "active": False}],
    }

    assert import_roster(update, actor_id=None) == {"org_units": 1, "people": 1, "users": 2}
    db.session.commit()

    branch = unit("TZB-JX2301")
    assert (branch.name, branch.founded, branch.paired_with.code, branch.parent.code) == (
        "机械2301班团支部", None, "DZB-S1", "TZZ")
    zhang = db.session.get(Person, "2023010101")
    # null clears a nullable column; null in a column that cannot be empty leaves it; absent keys stay
    assert (zhang.party_status, zhang.league_post, zhang.league_member, zhang.birth_date) == (
        "activist", None, True, date(2005, 3, 1))
    assert roles_of("zhangsan") == {("league_branch_secretary", "TZB-JX2301")}
    assert user("li").active is False
    assert roles_of("li") == {("party_branch_secretary", "DZB-S1"), ("counsellor", "TZB-JX2301")}


def test_a_new_password_replaces_the_old_and_ends_old_tokens(client: Any, roster_document: dict[str, Any]) -> None:
    import_roster(roster_document, actor_id=None)
    db.session.commit()
    token = client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": ROSTER_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    import_roster({"users": [{"username": "zhangsan", "password": "another-pass-2"}]}, actor_id=None)
    db.session.commit()

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    login = client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "another-pass-2"})
    assert login.status_code == 200


def test_rows_may_refer_to_units_and_people_already_in_the_database(
        college: Any, make_person: Callable[..., Any], table_counts: Callable[[], dict[str, int]]) -> None:
    make_person("2023010109", "王五", "TZB-JX2302")
    document = {
        "org_units": [{"code": "TZB-JX2402", "name": "机械2402团支部", "kind": "league_branch", "parent": "TZZ",
                       "paired_with": "DZB-S2"}],
        "people": [{"id": "2024010101", "name": "赵六", "org_unit": "TZB-JX2402"}],
        "users": [{"username": "wangwu", "person": "2023010109", "password": "long-enough",
                   "roles": [{"role": "league_branch_secretary", "org_unit": "TZB-JX2302"}]}],
    }

    import_roster(document, actor_id=None)
    db.session.commit()

    assert unit("TZB-JX2402").paired_with.code == "DZB-S2"
    assert db.session.get(Person, "2024010101").org_unit.code == "TZB-JX2402"
    assert roles_of("wangwu") == {("league_branch_secretary", "TZB-JX2302")}
    assert table_counts()["org_unit"] == 8


def test_a_document_with_bad_rows_reports_each_row_and_field_and_writes_nothing(
        college: Any, make_user: Callable[..., Any], table_counts: Callable[[], dict[str, int]]) -> None:
    make_user("existing", [("member", None)])
    before = table_counts()
    document = {
        "org_units": [
            {"code": "TZB-OK", "name": "正常团支部", "kind": "league_branch", "parent": "TZZ", "paired_with": "DZB-S1"},
            {"code": "X1", "kind": "league_branch", "parent": "TZZ"},  # 2: name missing
            {"code": "X2", "name": "n", "kind": "branch"},  # 3: bad kind
            {"code": "X3", "name": "n", "kind": "party_branch", "parent": "NOPE", "founded": "2023/09/15"},  # 4
            {"code": "TZB-OK", "name": "again", "kind": "league_branch"},  # 5: duplicate code
            {"code": "X4", "name": "n", "kind": "league_branch", "paired_with": "TZZ"},  # 6: wrong partner kind
            {"code": "X5", "name": "n", "kind": "party_branch", "paired_with": "TZB-OK"},  # 7: pairing on Party side
            {"code": "X6", "name": "n", "kind": "party_branch", "parent": "TZZ", "colour": "red"},  # 8
        ],
        "people": [
            {"id": "P1", "name": "甲", "birth_date": "2005-02-30"},  # 1: no such day
            {"id": "P2", "name": "乙", "party_status": "member", "league_member": "maybe"},  # 2
            {"id": "P3", "name": "丙", "org_unit": "NOWHERE"},  # 3
            {"name": "丁"},  # 4: id missing
            {"id": "P1", "name": "甲again"},  # 5: duplicate id
        ],
        "users": [
            {"username": "u1", "roles": [{"role": "member"}]},  # 1: new user without password
            {"username": "u2", "password": "long-enough", "person": "GHOST"},  # 2: unknown person
            {"username": "u3", "password": "short"},  # 3
            {"username": "u4", "password": "long-enough", "roles": [{"role": "pope", "org_unit": "DZZ"}]},  # 4
            {"username": "u5", "password": "long-enough", "roles": [{"role": "party_branch_secretary"}]},  # 5
            {"username": "u6", "password": "long-enough",
             "roles": [{"role": "party_branch_secretary", "org_unit": "TZB-JX2301"}]},  # 6: wrong unit kind
            {"username": "existing", "roles": [{"role": "counsellor", "org_unit": "MISSING"}]},  # 7
            {"username": "u1", "password": "long-enough"},  # 8: duplicate username
        ],
    }

    found = problems(document)

    assert found == {
        ("org_units", 2, "name"), ("org_units", 3, "kind"), ("org_units", 4, "parent"),
        ("org_units", 4, "founded"), ("org_units", 5, "code"), ("org_units", 6, "paired_with"),
        ("org_units", 7, "paired_with"), ("org_units", 8, "parent"), ("org_units", 8, "colour"),
        ("people", 1, "birth_date"), ("people", 2, "party_status"), ("people", 2, "league_member"),
        ("people", 3, "org_unit"), ("people", 4, "id"), ("people", 5, "id"),
        ("users", 1, "password"), ("users", 2, "person"), ("users", 3, "password"), ("users", 4, "roles"),
        ("users", 5, "roles"), ("users", 6, "roles"), ("users", 7, "roles"), ("users", 8, "username"),
    }
    assert table_counts() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit).where(OrgUnit.code == "TZB-OK")) == 0


def test_the_date_message_is_bilingual(app: Any) -> None:
    with pytest.raises(ApiError) as caught:
        import_roster({"people": [{"id": "P1", "name": "甲", "birth_date": "01/03/2005"}]}, actor_id=None)

    assert caught.value.details == [{"sheet": "people", "row": 1, "field": "birth_date",
                                     "message": "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD"}]


def test_parent_cycles_are_rejected_in_the_document_and_against_the_database(college: Any) -> None:
    in_document = {"org_units": [
        {"code": "G1", "name": "a", "kind": "party_general_branch", "parent": "G2"},
        {"code": "G2", "name": "b", "kind": "party_general_branch", "parent": "G1"},
        {"code": "G3", "name": "c", "kind": "party_general_branch", "parent": "G3"},
    ]}
    # DZZ exists with no parent; making it the child of a new unit whose parent is DZZ closes a loop
    through_database = {"org_units": [
        {"code": "DZZ", "name": "机械工程学院党总支", "kind": "party_general_branch", "parent": "G9"},
        {"code": "G9", "name": "d", "kind": "party_general_branch", "parent": "DZZ"},
    ]}

    assert problems(in_document) == {("org_units", 1, "parent"), ("org_units", 2, "parent"),
                                     ("org_units", 3, "parent")}
    assert problems(through_database) == {("org_units", 1, "parent"), ("org_units", 2, "parent")}
    assert unit("DZZ").parent is None


def test_unknown_lists_non_objects_and_blank_rows(app: Any) -> None:
    document = {"org_units": [{"code": "", "name": None}, "not a row"], "teams": [], "people": {"id": "1"}}

    assert problems(document) == {("teams", None, None), ("org_units", 2, None), ("people", None, None)}
    assert problems(["not", "a", "dict"]) == {(None, None, None)}


def test_row_numbers_start_where_the_caller_says(app: Any) -> None:
    assert problems({"people": [{"id": "P1", "name": "甲"}, {"id": "P2"}]}, first_row=2) == {("people", 3, "name")}


def test_numbers_as_ids_and_spreadsheet_style_booleans_are_accepted(college: Any) -> None:
    document = {"people": [{"id": 2023010155, "name": " 周七 ", "league_member": "是", "org_unit": "TZB-JX2301"},
                           {"id": "2023010156", "name": "吴八", "league_member": "否"}]}

    import_roster(document, actor_id=None)
    db.session.commit()

    person = db.session.get(Person, "2023010155")
    assert (person.name, person.league_member) == ("周七", True)
    assert db.session.get(Person, "2023010156").league_member is False


def test_too_long_values_are_reported_not_left_to_the_database(app: Any) -> None:
    assert problems({"org_units": [{"code": "C" * 65, "name": "n", "kind": "party_branch"}]}) == {
        ("org_units", 1, "code")}


def test_export_never_contains_passwords_and_lists_everything(
        college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any]) -> None:
    make_person("2023010101", "张三", "TZB-JX2301")
    make_user("zhang", [("league_branch_secretary", "TZB-JX2301"), ("member", None)], person="2023010101")

    exported = export_roster()

    assert [u["code"] for u in exported["org_units"]] == ["DZZ", "DZB-S1", "DZB-S2", "TZZ", "TZB-JX2301",
                                                          "TZB-JX2302", "TZB-JX2401"]
    assert exported["org_units"][4] == {"code": "TZB-JX2301", "name": "机械2301团支部", "kind": "league_branch",
                                        "parent": "TZZ", "paired_with": "DZB-S1", "founded": "2023-09-15",
                                        "last_reelection": None}
    assert exported["people"][0]["birth_date"] == "2004-03-01"
    assert exported["users"] == [{"username": "zhang", "person": "2023010101", "active": True,
                                  "roles": [{"role": "league_branch_secretary", "org_unit": "TZB-JX2301"},
                                            {"role": "member"}]}]
    assert "password" not in str(exported) and "pbkdf2" not in str(exported)
