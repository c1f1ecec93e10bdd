"""Roster import and export: org units, people and users with their roles, as JSON or .xlsx.

An import is all-or-nothing. Every row is checked against the document and the database first and
every problem is reported (sheet, row, field); only a clean document is written, and nothing here
commits (the request or command does, once). Rows are upserted: org units by code, people by id,
users by username. A key absent from a row leaves that attribute as it is; a null (a blank cell)
clears it, except where the column cannot be empty (league_member, party_status, active, roles),
where it too leaves the value alone. Rows with no values at all (blank spreadsheet rows) are skipped.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.security import check_password_hash

from service import audit
from service.auth.operations import hash_password
from service.errors import ApiError
from service.extensions import db
from service.pack import ROLES

from .models import ORG_KINDS, PARTY_STATUSES, OrgUnit, Person, RoleAssignment, User
from .scope import ROLE_UNIT_KIND

KIND_LABELS = {"party_general_branch": "党总支", "party_branch": "党支部",
               "league_general_branch": "团总支", "league_branch": "团支部"}
# the org tree is two levels per family; keeping parents inside a family (and pairings pointing
# from the League side only) means the only possible cycles are parent loops, which are checked
PARENT_KIND = {"party_branch": "party_general_branch", "league_branch": "league_general_branch",
               "party_general_branch": "party_general_branch", "league_general_branch": "league_general_branch"}
PARTNER_KIND = {"league_branch": "party_branch", "league_general_branch": "party_general_branch"}
# held without an org unit: scope.py offers these lanes regardless of the subject's unit
UNSCOPED_ROLES = ("admin", "member")


# -- cell converters: each turns a non-blank value into its Python form or raises _Invalid ------------
class _Invalid(Exception):
    """Raised as _Invalid(chinese, english)."""


Converter = Callable[[Any], Any]


def _text(column: InstrumentedAttribute[Any]) -> Converter:
    limit: int = column.type.length

    def convert(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # student numbers typed as numbers in a spreadsheet or JSON
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        if not isinstance(value, str):
            raise _Invalid("应为文本", "must be text")
        value = value.strip()
        if len(value) > limit:
            raise _Invalid(f"不能超过 {limit} 个字符", f"must be at most {limit} characters")
        return value or None

    return convert


def _choice(options: Iterable[str]) -> Converter:
    allowed = tuple(options)

    def convert(value: Any) -> str:
        if isinstance(value, str) and value.strip() in allowed:
            return value.strip()
        raise _Invalid("取值应为 " + "、".join(allowed), "must be one of " + ", ".join(allowed))

    return convert


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass  # 2023-02-30 matches the pattern but is no date
    raise _Invalid("日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")


_TRUE, _FALSE = {"true", "yes", "y", "1", "是"}, {"false", "no", "n", "0", "否"}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise _Invalid("应为 是/否（true/false）", "must be true or false")


def _password(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # an all-digit password in a spreadsheet cell arrives as a number
    if not isinstance(value, str):
        raise _Invalid("密码应为文本", "password must be text")
    if not 8 <= len(value) <= 256:  # the token endpoint accepts at most 256 characters
        raise _Invalid("密码应为 8 到 256 个字符", "password must have 8 to 256 characters")
    return value  # never stripped: a password is taken exactly as given


def _roles(value: Any) -> list[tuple[str, str | None]]:
    if not isinstance(value, list):
        raise _Invalid("角色应为列表", "roles must be a list")
    unit_code = _text(OrgUnit.code)
    result: list[tuple[str, str | None]] = []
    for item in value:
        if not isinstance(item, Mapping) or not set(item) <= {"role", "org_unit"}:
            raise _Invalid('每个角色应为 {"role", "org_unit"}', 'each role must be {"role", "org_unit"}')
        role = item.get("role").strip() if isinstance(item.get("role"), str) else None
        if role not in ROLES:
            raise _Invalid(f"未知的角色 {item.get('role')}", f"unknown role {item.get('role')}")
        code = None if _blank(item.get("org_unit")) else unit_code(item["org_unit"])
        if (role, code) in result:
            raise _Invalid(f"角色 {role}@{code} 重复", f"role {role}@{code} is listed twice")
        result.append((role, code))
    return result


COLUMNS: dict[str, dict[str, Converter]] = {
    "org_units": {"code": _text(OrgUnit.code), "name": _text(OrgUnit.name), "kind": _choice(ORG_KINDS),
                  "parent": _text(OrgUnit.code), "paired_with": _text(OrgUnit.code), "founded": _date,
                  "last_reelection": _date},
    "people": {"id": _text(Person.id), "name": _text(Person.name), "gender": _text(Person.gender),
               "birth_date": _date, "org_unit": _text(OrgUnit.code), "league_member": _boolean,
               "league_joined": _date, "league_number": _text(Person.league_number),
               "league_post": _text(Person.league_post), "party_status": _choice(PARTY_STATUSES),
               "party_applied": _date, "phone": _text(Person.phone), "id_number": _text(Person.id_number)},
    "users": {"username": _text(User.username), "person": _text(Person.id), "active": _boolean, "roles": _roles,
              "password": _password},
}
REQUIRED = {"org_units": ("code", "name", "kind"), "people": ("id", "name"), "users": ("username",)}
KEYS = {"org_units": "code", "people": "id", "users": "username"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- validation ---------------------------------------------------------------------------------------
class _Problems(list[dict[str, Any]]):
    def add(self, sheet: str | None, row: int | None, field: str | None, zh: str, en: str) -> None:
        self.append({"sheet": sheet, "row": row, "field": field, "message": f"{zh} / {en}"})


@dataclass
class _Row:
    sheet: str
    number: int
    values: dict[str, Any]
    failed: set[str] = field(default_factory=set)  # fields already reported as invalid

    def problem(self, problems: _Problems, field: str | None, zh: str, en: str) -> None:
        problems.add(self.sheet, self.number, field, zh, en)


@dataclass(frozen=True)
class _UnitNode:
    kind: str | None
    parent: str | None
    paired: str | None


@dataclass
class _Existing:
    """The rows the document may update or refer to, loaded once before anything is checked."""

    units: dict[str, OrgUnit]
    people: dict[str, Person]
    users: dict[str, User]


def _parse(document: Any, first_row: int, problems: _Problems) -> dict[str, list[_Row]]:
    sheets: dict[str, list[_Row]] = {sheet: [] for sheet in COLUMNS}
    if not isinstance(document, Mapping):
        problems.add(None, None, None, "花名册应为 JSON 对象", "the roster must be a JSON object")
        return sheets
    for key in document:
        if key not in COLUMNS:
            problems.add(str(key), None, None, "未知的表", "unknown list; expected " + ", ".join(COLUMNS))
    for sheet in COLUMNS:
        items = document.get(sheet) or []
        if not isinstance(items, list):
            problems.add(sheet, None, None, "应为列表", "must be a list")
            continue
        for index, item in enumerate(items):
            row = _parse_row(sheet, first_row + index, item, problems)
            if row is not None:
                sheets[sheet].append(row)
        _check_duplicates(sheets[sheet], problems)
    return sheets


def _parse_row(sheet: str, number: int, item: Any, problems: _Problems) -> _Row | None:
    if not isinstance(item, Mapping):
        problems.add(sheet, number, None, "每行应为对象", "each row must be an object")
        return None
    if all(_blank(value) for value in item.values()):
        return None
    row = _Row(sheet, number, {})
    for key, raw in item.items():
        convert = COLUMNS[sheet].get(key)
        if convert is None:
            row.problem(problems, str(key), "未知的字段", "unknown field")
            continue
        try:
            row.values[key] = None if _blank(raw) else convert(raw)
        except _Invalid as exc:
            row.failed.add(key)
            row.problem(problems, key, *exc.args)
    for key in REQUIRED[sheet]:
        if _blank(item.get(key)):
            row.problem(problems, key, "必填", "required")
    return row


def _check_duplicates(rows: list[_Row], problems: _Problems) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        key = KEYS[row.sheet]
        value = row.values.get(key)
        if value is not None and value in seen:
            row.problem(problems, key, f"{value} 与第 {seen[value]} 行重复", f"{value} duplicates row {seen[value]}")
        elif value is not None:
            seen[value] = row.number


def _load_existing(sheets: dict[str, list[_Row]]) -> _Existing:
    units = {unit.code: unit for unit in db.session.scalars(select(OrgUnit))}
    person_ids = {row.values.get("id") for row in sheets["people"]}
    person_ids |= {row.values.get("person") for row in sheets["users"]}
    usernames = {row.values.get("username") for row in sheets["users"]}
    person_ids.discard(None)
    usernames.discard(None)
    people = db.session.scalars(select(Person).where(Person.id.in_(person_ids))) if person_ids else []
    users = db.session.scalars(select(User).where(User.username.in_(usernames))) if usernames else []
    return _Existing(units, {p.id: p for p in people}, {u.username: u for u in users})


def _unit_graph(rows: list[_Row], existing: _Existing) -> dict[str, _UnitNode]:
    """The org tree as it will be after the import: the database overlaid with the document."""
    code_of = {unit.id: code for code, unit in existing.units.items()}
    graph = {code: _UnitNode(unit.kind, code_of.get(unit.parent_id), code_of.get(unit.paired_with_id))
             for code, unit in existing.units.items()}
    for row in rows:
        code, values = row.values.get("code"), row.values
        if code is None:
            continue
        old = graph.get(code, _UnitNode(None, None, None))
        graph[code] = _UnitNode(values.get("kind", old.kind), values.get("parent", old.parent),
                                values.get("paired_with", old.paired))
    return graph


def _check_units(rows: list[_Row], graph: dict[str, _UnitNode], problems: _Problems) -> None:
    for row in rows:
        kind = row.values.get("kind")
        for name, expected in (("parent", PARENT_KIND.get(kind or "")), ("paired_with", PARTNER_KIND.get(kind or ""))):
            ref = row.values.get(name)
            if ref is None:
                continue
            if ref not in graph:
                row.problem(problems, name, f"找不到组织 {ref}", f"unknown org unit {ref}")
            elif kind in KIND_LABELS and expected is None:
                row.problem(problems, name, "党组织不设配对，请在对应的团组织上填写",
                            "only League units carry paired_with; set it on the League unit")
            elif expected and graph[ref].kind in KIND_LABELS and graph[ref].kind != expected:
                row.problem(problems, name, f"{ref} 应为{KIND_LABELS[expected]}", f"{ref} must be a {expected}")
        code = row.values.get("code")
        if code is not None and _in_cycle(code, graph):
            row.problem(problems, "parent", "上级关系形成循环", "the parents form a cycle")


def _in_cycle(code: str, graph: dict[str, _UnitNode]) -> bool:
    seen: set[str] = set()
    current = graph[code].parent
    while current is not None and current in graph and current not in seen:
        if current == code:
            return True
        seen.add(current)
        current = graph[current].parent
    return False


def _check_people(rows: list[_Row], graph: dict[str, _UnitNode], problems: _Problems) -> None:
    for row in rows:
        ref = row.values.get("org_unit")
        if ref is not None and ref not in graph:
            row.problem(problems, "org_unit", f"找不到组织 {ref}", f"unknown org unit {ref}")


def _check_users(sheets: dict[str, list[_Row]], existing: _Existing, graph: dict[str, _UnitNode],
                 problems: _Problems) -> None:
    listed_people = {row.values.get("id") for row in sheets["people"]}
    for row in sheets["users"]:
        person, username = row.values.get("person"), row.values.get("username")
        if person is not None and person not in listed_people and person not in existing.people:
            row.problem(problems, "person", f"找不到人员 {person}", f"unknown person {person}")
        new_user = username is not None and username not in existing.users
        if new_user and row.values.get("password") is None and "password" not in row.failed:
            row.problem(problems, "password", "新用户必须设置密码", "a new user needs a password")
        for role, code in row.values.get("roles") or []:
            expected = ROLE_UNIT_KIND.get(role)
            if code is None and role not in UNSCOPED_ROLES:
                row.problem(problems, "roles", f"角色 {role} 需要指定组织", f"role {role} needs an org unit")
            elif code is not None and code not in graph:
                row.problem(problems, "roles", f"找不到组织 {code}", f"unknown org unit {code}")
            elif code is not None and expected and graph[code].kind in KIND_LABELS and graph[code].kind != expected:
                row.problem(problems, "roles", f"角色 {role} 应设在{KIND_LABELS[expected]}",
                            f"role {role} must be held at a {expected}, not {code}")


# -- writing ------------------------------------------------------------------------------------------
def _assign(target: Any, values: Mapping[str, Any], names: Iterable[str]) -> None:
    columns = type(target).__table__.c
    for name in names:
        # a blank in a column that cannot be empty means "leave it", not "clear it"
        if name in values and (values[name] is not None or columns[name].nullable):
            setattr(target, name, values[name])


def _write_units(rows: list[_Row], existing: _Existing) -> dict[str, OrgUnit]:
    units = dict(existing.units)
    for row in rows:
        unit = units.get(row.values["code"])
        if unit is None:
            unit = units[row.values["code"]] = OrgUnit(code=row.values["code"])
            db.session.add(unit)
        _assign(unit, row.values, ("name", "kind", "founded", "last_reelection"))
    # second pass: a parent or partner may be defined further down the document
    for row in rows:
        unit = units[row.values["code"]]
        if "parent" in row.values:
            unit.parent = units[row.values["parent"]] if row.values["parent"] else None
        if "paired_with" in row.values:
            unit.paired_with = units[row.values["paired_with"]] if row.values["paired_with"] else None
    return units


_PERSON_FIELDS = ("name", "gender", "birth_date", "league_member", "league_joined", "league_number",
                  "league_post", "party_status", "party_applied", "phone", "id_number")


def _write_people(rows: list[_Row], existing: _Existing, units: dict[str, OrgUnit]) -> dict[str, Person]:
    people = dict(existing.people)
    for row in rows:
        person = people.get(row.values["id"])
        if person is None:
            person = people[row.values["id"]] = Person(id=row.values["id"])
            db.session.add(person)
        _assign(person, row.values, _PERSON_FIELDS)
        if "org_unit" in row.values:
            person.org_unit = units[row.values["org_unit"]] if row.values["org_unit"] else None
    return people


def _write_users(rows: list[_Row], existing: _Existing, units: dict[str, OrgUnit],
                 people: dict[str, Person]) -> None:
    for row in rows:
        values = row.values
        user, password = existing.users.get(values["username"]), values.get("password")
        if user is None:
            user = User(username=values["username"], password_hash=hash_password(password))
            db.session.add(user)
        elif password is not None and not check_password_hash(user.password_hash, password):
            user.password_hash = hash_password(password)
            user.token_generation += 1  # like a password change: tokens issued before stop working
        if "person" in values:
            user.person = people[values["person"]] if values["person"] else None
        _assign(user, values, ("active",))
        if values.get("roles") is not None:
            _replace_roles(user, values["roles"], units)


def _replace_roles(user: User, roles: list[tuple[str, str | None]], units: dict[str, OrgUnit]) -> None:
    """Keep the assignments that stay and add only the new ones: deleting and re-inserting the same
    (user, role, unit) in one flush would trip the unique constraint (inserts run before deletes)."""
    wanted = [(role, units[code] if code else None) for role, code in roles]
    kept = [assignment for assignment in user.roles if (assignment.role, assignment.org_unit) in wanted]
    present = {(assignment.role, assignment.org_unit) for assignment in kept}
    user.roles = kept + [RoleAssignment(role=role, org_unit=unit) for role, unit in wanted if (role, unit) not in present]


# -- import / export ----------------------------------------------------------------------------------
def import_roster(document: Mapping[str, Any], *, actor_id: int | None, first_row: int = 1) -> dict[str, int]:
    """Validate the whole document, then upsert it (without committing). `first_row` is the number
    reported for a list's first row (2 for a spreadsheet, whose row 1 is the header)."""
    return _import(document, actor_id, first_row, _Problems())


def import_xlsx(data: bytes, *, actor_id: int | None) -> dict[str, int]:
    """Import a workbook; header problems and row problems are reported together."""
    document, problems = _read_workbook(data)
    return _import(document, actor_id, 2, problems)


def _import(document: Any, actor_id: int | None, first_row: int, problems: _Problems) -> dict[str, int]:
    sheets = _parse(document, first_row, problems)
    existing = _load_existing(sheets)
    graph = _unit_graph(sheets["org_units"], existing)
    _check_units(sheets["org_units"], graph, problems)
    _check_people(sheets["people"], graph, problems)
    _check_users(sheets, existing, graph, problems)
    if problems:
        raise ApiError(422, "invalid_roster", details=list(problems))
    units = _write_units(sheets["org_units"], existing)
    people = _write_people(sheets["people"], existing, units)
    _write_users(sheets["users"], existing, units, people)
    db.session.flush()
    counts = {sheet: len(rows) for sheet, rows in sheets.items()}
    audit.record("roster_imported", actor_id=actor_id, **counts)
    return counts


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def export_roster() -> dict[str, list[dict[str, Any]]]:
    """The whole roster in the import format. Passwords are never exported, not even as hashes."""
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.id)).all()
    code_of = {unit.id: unit.code for unit in units}
    org_units = [{"code": u.code, "name": u.name, "kind": u.kind, "parent": code_of.get(u.parent_id),
                  "paired_with": code_of.get(u.paired_with_id), "founded": _iso(u.founded),
                  "last_reelection": _iso(u.last_reelection)} for u in units]
    people = []
    for person in db.session.scalars(select(Person).order_by(Person.id)):
        values = {"id": person.id, "org_unit": code_of.get(person.org_unit_id)}
        values |= {name: getattr(person, name) for name in _PERSON_FIELDS}
        people.append({name: _iso(values[name]) if isinstance(values[name], date) else values[name]
                       for name in COLUMNS["people"]})
    users = []
    for user in db.session.scalars(select(User).order_by(User.id)):
        roles = sorted((a.role, code_of.get(a.org_unit_id) or "") for a in user.roles)
        users.append({"username": user.username, "person": user.person_id, "active": user.active,
                      "roles": [{"role": role, "org_unit": code} if code else {"role": role} for role, code in roles]})
    return {"org_units": org_units, "people": people, "users": users}


# -- spreadsheets -------------------------------------------------------------------------------------
def _roles_text(roles: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(f"{r['role']}@{r['org_unit']}" if r.get("org_unit") else str(r["role"]) for r in roles)


def _roles_from_text(text: str) -> list[dict[str, str]]:
    roles = []
    for part in re.split(r"[;；]", text):  # a Chinese keyboard types the full-width semicolon
        role, at, code = part.strip().partition("@")
        if role or at:
            roles.append({"role": role.strip(), "org_unit": code.strip()} if at else {"role": role.strip()})
    return roles


def write_xlsx(document: Mapping[str, Any]) -> bytes:
    """One sheet per list, the JSON keys as header; users' roles as "role@CODE; role2@CODE2"."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet, columns in COLUMNS.items():
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(list(columns))
        for item in document.get(sheet) or []:
            worksheet.append([_to_cell(columns[name], item.get(name)) for name in columns])
        _format_sheet(worksheet, columns)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _to_cell(convert: Converter, value: Any) -> Any:
    if convert is _roles:
        return _roles_text(value or [])
    if convert is _date and isinstance(value, str):
        try:
            return date.fromisoformat(value)  # a real date cell, so Excel sorts and filters it
        except ValueError:
            return value
    return value


def _format_sheet(worksheet: Worksheet, columns: Mapping[str, Converter]) -> None:
    worksheet.freeze_panes = "A2"
    for index, (name, convert) in enumerate(columns.items(), start=1):
        letter = get_column_letter(index)
        worksheet.column_dimensions[letter].width = max(12, len(name) + 4)
        worksheet.cell(row=1, column=index).font = Font(bold=True)
        for (cell,) in worksheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if convert is _date:
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, str):
                cell.number_format = "@"  # student numbers stay text when someone edits the file
                cell.data_type = "s"  # a name starting with "=" is text, never a formula


def read_xlsx(data: bytes) -> dict[str, list[dict[str, Any]]]:
    """The workbook as a roster document (sheets that are absent are absent from it)."""
    document, problems = _read_workbook(data)
    if problems:
        raise ApiError(422, "invalid_roster", details=list(problems))
    return document


def _read_workbook(data: bytes) -> tuple[dict[str, list[dict[str, Any]]], _Problems]:
    problems = _Problems()
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (styles, data validation); values are unaffected
            warnings.simplefilter("ignore", UserWarning)
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        problems.add(None, None, None, "不是有效的 Excel（.xlsx）文件", "not a valid .xlsx file")
        raise ApiError(422, "invalid_roster", details=list(problems)) from None
    document: dict[str, list[dict[str, Any]]] = {}
    try:
        for worksheet in workbook.worksheets:
            rows = [list(values) for values in worksheet.iter_rows(values_only=True)]
            while rows and all(_blank(value) for value in rows[-1]):
                rows.pop()
            if worksheet.title in COLUMNS:
                document[worksheet.title] = _read_sheet(worksheet.title, rows, problems)
            elif rows:  # an empty default "Sheet1" is harmless; a sheet of data we do not read is not
                problems.add(worksheet.title, None, None, "未知的工作表", "unknown sheet; expected " + ", ".join(COLUMNS))
    finally:
        workbook.close()
    return document, problems


def _read_sheet(sheet: str, rows: list[list[Any]], problems: _Problems) -> list[dict[str, Any]]:
    if not rows:
        return []
    columns: list[tuple[int, str]] = []
    for index, title in enumerate(rows[0]):
        name = str(title).strip() if not _blank(title) else None
        if name is None:
            if any(index < len(row) and not _blank(row[index]) for row in rows[1:]):
                problems.add(sheet, 1, get_column_letter(index + 1), "该列缺少列名", "the column has no header")
        elif name not in COLUMNS[sheet]:
            problems.add(sheet, 1, name, "未知的列", "unknown column")
        elif name in dict(columns).values():
            problems.add(sheet, 1, name, "列名重复", "duplicate column")
        else:
            columns.append((index, name))
    # a blank row stays (as {}, which the import skips) so that list index + 2 is the sheet row
    return [_read_row(columns, row) if not all(_blank(v) for v in row) else {} for row in rows[1:]]


def _read_row(columns: list[tuple[int, str]], row: list[Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for index, name in columns:
        value = row[index] if index < len(row) else None
        if isinstance(value, datetime):
            value = value.date().isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if name == "roles":
            value = _roles_from_text(str(value)) if not _blank(value) else []
        if name == "password" and _blank(value):
            continue  # an empty password cell means "keep the password"
        item[name] = value
    return item
