"""`flask roster import|export FILE` with .json and .xlsx files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.org.roster import read_xlsx


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["roster", *args])


def test_import_json_commits_and_prints_the_counts(app: Any, tmp_path: Path, roster_document: dict[str, Any],
                                                  table_counts: Callable[[], dict[str, int]]) -> None:
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(roster_document, ensure_ascii=False), encoding="utf-8")

    result = run(app, "import", str(path))

    assert result.exit_code == 0, result.output
    assert "4 org units" in result.output and "2 people" in result.output and "3 users" in result.output
    counts = table_counts()
    assert (counts["org_unit"], counts["person"], counts["app_user"], counts["role_assignment"]) == (4, 2, 3, 5)


def test_export_then_import_xlsx_round_trips(app: Any, tmp_path: Path, roster_document: dict[str, Any],
                                             table_counts: Callable[[], dict[str, int]]) -> None:
    source = tmp_path / "roster.json"
    source.write_text(json.dumps(roster_document, ensure_ascii=False), encoding="utf-8")
    assert run(app, "import", str(source)).exit_code == 0
    json_out, xlsx_out = tmp_path / "out.json", tmp_path / "out.xlsx"

    assert run(app, "export", str(json_out)).exit_code == 0
    assert run(app, "export", str(xlsx_out)).exit_code == 0
    exported = json.loads(json_out.read_text(encoding="utf-8"))
    before = table_counts()
    again = run(app, "import", str(xlsx_out))

    assert again.exit_code == 0, again.output
    assert read_xlsx(xlsx_out.read_bytes()) == exported
    assert exported["people"][0]["name"] == "张三"
    assert all("password" not in user for user in exported["users"])
    assert table_counts() == {**before, "audit_event": before["audit_event"] + 1}


def test_an_invalid_file_prints_each_problem_exits_non_zero_and_writes_nothing(
        college: Any, tmp_path: Path, app: Any, table_counts: Callable[[], dict[str, int]]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"people": [{"id": "P1", "name": "甲"}, {"id": "P2", "name": "乙",
                                                                      "birth_date": "yesterday"}],
                                "users": [{"username": "nopass"}]}), encoding="utf-8")
    before = table_counts()

    result = run(app, "import", str(path))

    assert result.exit_code == 1
    assert "people 2 birth_date: 日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD" in result.output
    assert "users 1 password:" in result.output
    assert "nothing was imported" in result.output
    assert table_counts() == before


def test_unsupported_extensions_and_broken_json_are_refused(app: Any, tmp_path: Path) -> None:
    csv = tmp_path / "roster.csv"
    csv.write_text("id,name\n", encoding="utf-8")
    broken = tmp_path / "roster.json"
    broken.write_text("{not json", encoding="utf-8")

    wrong_kind = run(app, "import", str(csv))
    not_json = run(app, "import", str(broken))

    assert wrong_kind.exit_code == 2 and ".json or .xlsx" in wrong_kind.output
    assert not_json.exit_code == 1 and "not valid JSON" in not_json.output
