"""The roster as a workbook: one sheet per list, errors at spreadsheet row numbers (header = row 1)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from service.errors import ApiError
from service.extensions import db
from service.org.models import Person
from service.org.roster import export_roster, import_roster, import_xlsx, read_xlsx, write_xlsx


def workbook_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_problems(data: bytes) -> set[tuple[Any, Any, Any]]:
    with pytest.raises(ApiError) as caught:
        import_xlsx(data, actor_id=None)
    db.session.rollback()
    assert caught.value.status == 422 and caught.value.code == "invalid_roster"
    return {(d["sheet"], d["row"], d["field"]) for d in caught.value.details}


def test_export_written_as_xlsx_reads_back_equal_to_the_json_export(
        app: Any, roster_document: dict[str, Any]) -> None:
    roster_document["people"][0].update(name="=HYPERLINK(\"x\")", league_number="0012345")
    import_roster(roster_document, actor_id=None)
    db.session.commit()
    exported = export_roster()

    data = write_xlsx(exported)

    assert read_xlsx(data) == exported
    sheets = load_workbook(io.BytesIO(data))
    assert sheets.sheetnames == ["org_units", "people", "users"]
    users = sheets["users"]
    assert [c.value for c in users[1]] == ["username", "person", "active", "roles", "password"]
    roles = {row[0]: row[3] for row in users.iter_rows(min_row=2, values_only=True)}
    assert roles == {"zhangsan": "league_branch_committee@TZB-JX2301; member",
                     "li": "counsellor@TZB-JX2301; party_branch_secretary@DZB-S1", "root": "admin"}
    people = sheets["people"]
    assert people["D2"].value == datetime(2005, 3, 1)  # a real date cell
    assert people["B2"].data_type == "s"  # text that looks like a formula stays text


def test_importing_the_exported_workbook_changes_nothing(app: Any, roster_document: dict[str, Any],
                                                        table_counts: Callable[[], dict[str, int]]) -> None:
    import_roster(roster_document, actor_id=None)
    db.session.commit()
    exported = export_roster()
    before = table_counts()

    counts = import_xlsx(write_xlsx(exported), actor_id=None)
    db.session.commit()

    assert counts == {"org_units": 4, "people": 2, "users": 3}
    assert export_roster() == exported
    assert table_counts() == {**before, "audit_event": before["audit_event"] + 1}


def test_row_errors_carry_the_spreadsheet_row_number(college: Any, table_counts: Callable[[], dict[str, int]]) -> None:
    before = table_counts()
    data = workbook_bytes({
        "people": [
            ["id", "name", "birth_date", "org_unit", "party_status"],
            ["2023010101", "张三", datetime(2005, 3, 1), "TZB-JX2301", "applicant"],  # row 2: fine
            [None, None, None, None, None],  # row 3: blank, skipped
            ["2023010102", "李四", "2005.03.01", "TZB-JX2301", "applicant"],  # row 4: bad date
            ["2023010103", None, None, "TZB-XXXX", "full"],  # row 5: no name, unknown unit
        ],
        "users": [
            ["username", "password", "roles"],
            ["zhang", "long-enough", "league_branch_secretary@TZB-JX2301；member"],  # row 2: fine
            ["li", "long-enough", "league_branch_secretary"],  # row 3: needs an org unit
        ],
    })

    assert xlsx_problems(data) == {("people", 4, "birth_date"), ("people", 5, "name"), ("people", 5, "org_unit"),
                                   ("users", 3, "roles")}
    assert table_counts() == before


def test_header_problems_are_reported_with_the_row_problems(college: Any) -> None:
    data = workbook_bytes({
        "org_units": [["code", "name", "kind", "colour", "name"],
                      ["TZB-NEW", "新团支部", "league", "red", "again"]],
        "notes": [["anything"]],
        "Sheet1": [],
    })

    assert xlsx_problems(data) == {("org_units", 1, "colour"), ("org_units", 1, "name"), ("org_units", 2, "kind"),
                                   ("notes", None, None)}
    with pytest.raises(ApiError):
        read_xlsx(data)


def test_spreadsheet_cells_of_other_types_are_understood(college: Any) -> None:
    data = workbook_bytes({
        "people": [["id", "name", "league_member", "league_joined", "phone"],
                   [2023010101, "张三", "是", datetime(2019, 5, 4), 13800138000],
                   [2023010102.0, "李四", False, "2019-05-04", None]],
        "users": [["username", "password", "person", "roles"], ["zhang", 12345678, 2023010101, None]],
    })

    assert import_xlsx(data, actor_id=None) == {"org_units": 0, "people": 2, "users": 1}
    db.session.commit()

    zhang = db.session.get(Person, "2023010101")
    assert (zhang.league_member, zhang.league_joined, zhang.phone) == (True, date(2019, 5, 4), "13800138000")
    assert db.session.get(Person, "2023010102").league_member is False


def test_a_file_that_is_not_a_workbook_is_one_clear_error(app: Any) -> None:
    with pytest.raises(ApiError) as caught:
        read_xlsx(b"id,name\n1,x\n")

    assert caught.value.status == 422
    assert [d["message"] for d in caught.value.details] == ["不是有效的 Excel（.xlsx）文件 / not a valid .xlsx file"]
