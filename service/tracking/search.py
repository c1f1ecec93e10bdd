"""Search over cases: by name, student number, branch, process, status, current step and start date,
with chosen process variables as extra columns, paging, an .xlsx download, and saved searches per user.

Every result respects the case visibility rule (service.instances.access). Restricted process variables
(votes, evaluations, objections, opinions, Party status: RESTRICTED_VARIABLES) are columns for admins only.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from service import audit, clock
from service.auth.actor import Actor
from service.campaigns.board import case_data
from service.documents.masking import mask_id_number, mask_phone
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.access import org_graph, visible_instances_condition
from service.instances.models import INSTANCE_STATUSES, HumanTask, Instance
from service.org.models import OrgUnit, Person
from service.runtime import definition

from .models import SavedSearch

CST = timezone(timedelta(hours=8))  # dates on the page are Beijing dates
PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_COLUMNS = 8
EXPORT_LIMIT = 10_000
EXPORT_LIMIT_WITH_VARIABLES = 2_000  # each row's variables need its case's state restored
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: person fields a search may show as columns; always masked (domain.md, Privacy)
PERSON_COLUMNS = {"person.phone": mask_phone, "person.id_number": mask_id_number}

#: Process variables that are restricted (domain.md, Privacy): votes, evaluations, objections, opinions,
#: sanctions and Party status. "*" applies to every process. A process module may add its own with a
#: `restricted_variables` attribute on its definition. Only admins may show these as search columns.
RESTRICTED_VARIABLES: dict[str, frozenset[str]] = {
    "*": frozenset({"party_status", "votes", "opinion", "opinions", "objection", "objections", "evaluation",
                    "evaluations", "comment", "comments", "reason", "sanctions", "discipline"}),
    "recommendation": frozenset({
        "entitled", "present", "yes", "no", "abstain", "ballots_issued", "ballots_collected", "meeting",
        "meeting_record", "vote_rate", "quorum_met", "passed", "counsellor_opinion", "committee_opinion",
        "upheld", "finding", "objector", "objection_reason", "contacts", "member_evaluation",
        "explanation", "eligibility", "eligibility_reasons"}),
    "branch_assessment": frozenset({
        "reviews", "previous_reviews", "review_result", "review_totals", "scores", "self_scores", "veto",
        "veto_any", "party_return_reason"}),
    "rectification": frozenset({"escalations", "acceptance_comment"}),
}


def restricted_variables(process: str | None) -> frozenset[str]:
    """The restricted names for one process, or for all processes at once when none is chosen."""
    keys = [process] if process else [k for k in RESTRICTED_VARIABLES if k != "*"]
    names = set(RESTRICTED_VARIABLES["*"])
    for key in keys:
        names |= RESTRICTED_VARIABLES.get(key, frozenset())
        found = definition(key) if key else None
        names |= set(getattr(found, "restricted_variables", ()) or ())
    return frozenset(names)


@dataclass
class SearchQuery:
    name: str | None = None
    number: str | None = None
    unit: str | None = None
    process: str | None = None
    status: str | None = None
    step: str | None = None
    started_from: date | None = None
    started_to: date | None = None
    columns: list[str] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE

    def to_args(self, **changes: Any) -> dict[str, Any]:
        """Query parameters for links (the page's own parameters, changed by `changes`)."""
        args: dict[str, Any] = {
            "name": self.name, "number": self.number, "unit": self.unit, "process": self.process,
            "status": self.status, "step": self.step,
            "started_from": self.started_from.isoformat() if self.started_from else None,
            "started_to": self.started_to.isoformat() if self.started_to else None,
            "columns": ",".join(self.columns) or None, "page": self.page if self.page != 1 else None,
            "per_page": self.per_page if self.per_page != PER_PAGE else None}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}

    def query_string(self) -> str:
        """What a saved search keeps: the criteria and columns, not the page."""
        return urlencode(self.to_args(page=None, per_page=None))

    @property
    def is_empty(self) -> bool:
        return not any((self.name, self.number, self.unit, self.process, self.status, self.step,
                        self.started_from, self.started_to))


def _text(value: Any, limit: int) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if len(text) > limit:
        raise _invalid(f"过长（最多 {limit} 个字符）/ too long (at most {limit} characters)")
    return text


class _Invalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _invalid(message: str) -> _Invalid:
    return _Invalid(message)


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _invalid("日期格式应为 YYYY-MM-DD / dates are YYYY-MM-DD") from None


def _int(value: Any, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid("应为整数 / must be a whole number") from None
    if not low <= number <= high:
        raise _invalid(f"应在 {low} 到 {high} 之间 / must be between {low} and {high}")
    return number


def _columns(value: Any) -> list[str]:
    raw = value if isinstance(value, list) else str(value or "").split(",")
    names = list(dict.fromkeys(c.strip() for c in raw if c and c.strip()))
    if len(names) > MAX_COLUMNS:
        raise _invalid(f"最多选择 {MAX_COLUMNS} 个变量列 / at most {MAX_COLUMNS} variable columns")
    for name in names:
        if name not in PERSON_COLUMNS and not VARIABLE_NAME.match(name):
            raise _invalid(f"变量名无效：{name[:64]} / invalid variable name")
    return names


def parse_query(args: Any) -> SearchQuery:
    """A SearchQuery from request arguments (a MultiDict or a dict); ApiError 422 naming the bad field."""
    fields: dict[str, Any] = {}
    parsers = {
        "name": lambda v: _text(v, 100), "number": lambda v: _text(v, 32), "unit": lambda v: _text(v, 64),
        "process": lambda v: _text(v, 100), "status": _status, "step": lambda v: _text(v, 100),
        "started_from": _date, "started_to": _date, "columns": _columns,
        "page": lambda v: _int(v, 1, 1, 100_000), "per_page": lambda v: _int(v, PER_PAGE, 1, MAX_PER_PAGE),
    }
    problems = []
    for name, parse in parsers.items():
        value = args.get(name)
        if name == "columns" and hasattr(args, "getlist") and len(args.getlist(name)) > 1:
            value = [c for item in args.getlist(name) for c in str(item).split(",")]  # checkboxes
        try:
            fields[name] = parse(value)
        except _Invalid as exc:
            problems.append({"field": name, "message": exc.message})
    if not problems and fields["started_from"] and fields["started_to"] and fields["started_to"] < fields["started_from"]:
        problems.append({"field": "started_to", "message": "结束日期早于开始日期 / the end date is before the start"})
    if problems:
        raise ApiError(422, "validation_failed", details=problems)
    return SearchQuery(**{k: v for k, v in fields.items() if v is not None})


def _status(value: Any) -> str | None:
    text = _text(value, 16)
    if text is not None and text not in INSTANCE_STATUSES:
        raise _invalid("状态无效 / unknown status")
    return text


def check_columns(actor: Actor, query: SearchQuery) -> None:
    """Restricted variables only for admins: a 403 naming them for anyone else."""
    if actor.is_admin:
        return
    refused = [c for c in query.columns if c in restricted_variables(query.process)]
    if refused:
        raise ApiError(403, "forbidden", "受限变量仅管理员可查看 / restricted variables are for admins only: "
                       + ", ".join(refused), details=[{"field": "columns", "message": c} for c in refused])


# -- the query ----------------------------------------------------------------------------------------------------
def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CST).astimezone(UTC)


def conditions(actor: Actor, query: SearchQuery) -> list[Any]:
    found: list[Any] = [visible_instances_condition(actor, correlated=True)]
    if query.name:
        found.append(or_(
            Instance.subject.in_(select(Person.id).where(Person.name.contains(query.name, autoescape=True))),
            Instance.subject.in_(select(OrgUnit.code).where(OrgUnit.name.contains(query.name, autoescape=True)))))
    if query.number:
        found.append(Instance.subject_kind == "person")
        found.append(Instance.subject.startswith(query.number, autoescape=True))
    if query.unit:
        found.append(Instance.subject_unit.in_(sorted(org_graph().descendants(query.unit))))
    if query.process:
        found.append(Instance.process_key == query.process)
    if query.status:
        found.append(Instance.status == query.status)
    if query.step:
        found.append(Instance.id.in_(select(HumanTask.instance_id).where(
            HumanTask.status == "ready", HumanTask.name == query.step)))
    if query.started_from:
        found.append(Instance.started_at >= _start_of(query.started_from))
    if query.started_to:
        found.append(Instance.started_at < _start_of(query.started_to + timedelta(days=1)))
    return found


def _instances(actor: Actor, query: SearchQuery, offset: int, limit: int) -> list[Instance]:
    return list(db.session.scalars(
        select(Instance).where(*conditions(actor, query)).options(defer(Instance.state), defer(Instance.error))
        .order_by(Instance.started_at.desc(), Instance.id.desc()).offset(offset).limit(limit)))


def _labels(instances: list[Instance]) -> dict[str, dict[str, Any]]:
    """subject -> name, unit name, phone and ID number (people), in two statements."""
    people = sorted({i.subject for i in instances if i.subject_kind == "person"})
    units = sorted({i.subject for i in instances if i.subject_kind != "person"} | {i.subject_unit for i in instances
                                                                                 if i.subject_unit})
    labels: dict[str, dict[str, Any]] = {}
    unit_names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(units))).all()) \
        if units else {}
    if people:
        for pid, name, phone, id_number in db.session.execute(
                select(Person.id, Person.name, Person.phone, Person.id_number).where(Person.id.in_(people))):
            labels[pid] = {"name": name, "phone": phone, "id_number": id_number}
    for code, name in unit_names.items():
        labels.setdefault(code, {"name": name})
    labels["__units__"] = unit_names
    return labels


def _steps(instances: list[Instance]) -> dict[int, list[str]]:
    steps: dict[int, list[str]] = {}
    if instances:
        for instance_id, title in db.session.execute(
                select(HumanTask.instance_id, HumanTask.title).where(
                    HumanTask.instance_id.in_([i.id for i in instances]), HumanTask.status == "ready")
                .order_by(HumanTask.created_at)):
            steps.setdefault(instance_id, []).append(title)
    return steps


def _cell(value: Any) -> Any:
    """A variable's value for a table cell: scalars as they are, anything else as short JSON."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:500]
    return json.dumps(value, ensure_ascii=False, default=str)[:500]


def _rows(instances: list[Instance], columns: list[str]) -> list[dict[str, Any]]:
    labels = _labels(instances)
    unit_names = labels.pop("__units__")
    steps = _steps(instances)
    variables = [c for c in columns if c not in PERSON_COLUMNS]
    data = case_data(instances) if variables else {}
    rows = []
    for instance in instances:
        label = labels.get(instance.subject, {})
        values: dict[str, Any] = {}
        for column in columns:
            if column in PERSON_COLUMNS:
                values[column] = PERSON_COLUMNS[column](label.get(column.split(".", 1)[1]))
            else:
                values[column] = _cell((data.get(instance.id) or {}).get(column))
        rows.append({
            "id": instance.id, "process": instance.process_key, "title": (instance.summary or {}).get("title"),
            "subject": instance.subject, "subject_kind": instance.subject_kind, "name": label.get("name"),
            "unit": instance.subject_unit, "unit_name": unit_names.get(instance.subject_unit or ""),
            "status": instance.status, "outcome": instance.outcome, "milestone": instance.milestone,
            "steps": steps.get(instance.id, []), "started_at": instance.started_at,
            "completed_at": instance.completed_at, "values": values})
    return rows


def search(actor: Actor, query: SearchQuery) -> dict[str, Any]:
    """One page of results, newest first, with the total."""
    check_columns(actor, query)
    total = db.session.scalar(select(func.count()).select_from(Instance).where(*conditions(actor, query))) or 0
    instances = _instances(actor, query, (query.page - 1) * query.per_page, query.per_page)
    pages = max(1, -(-total // query.per_page))
    return {"total": total, "page": query.page, "per_page": query.per_page, "pages": pages,
            "columns": query.columns, "items": _rows(instances, query.columns)}


# -- the .xlsx download ---------------------------------------------------------------------------------------------
EXPORT_HEADERS = [("id", "编号 ID"), ("process", "流程 Process"), ("subject", "对象 Subject"), ("name", "名称 Name"),
                  ("unit_name", "组织 Unit"), ("status", "状态 Status"), ("milestone", "当前进度 Step"),
                  ("outcome", "结果 Outcome"), ("started_at", "发起时间 Started"), ("completed_at", "结束时间 Ended")]


def _local(value: datetime | None) -> str | None:
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") if value else None


def export_xlsx(actor: Actor, query: SearchQuery) -> bytes:
    """Every result (up to EXPORT_LIMIT, or EXPORT_LIMIT_WITH_VARIABLES with variable columns; a last row says
    when more were left out) as a workbook; phone and ID numbers masked; audited."""
    from openpyxl import Workbook

    check_columns(actor, query)
    variables = any(c not in PERSON_COLUMNS for c in query.columns)
    limit = EXPORT_LIMIT_WITH_VARIABLES if variables else EXPORT_LIMIT
    instances = _instances(actor, query, 0, limit + 1)
    rows = _rows(instances[:limit], query.columns)
    book = Workbook()
    sheet = book.active
    sheet.title = "cases"
    sheet.append([label for _key, label in EXPORT_HEADERS] + query.columns)
    for row in rows:
        cells = [row[key] for key, _label in EXPORT_HEADERS]
        cells[8], cells[9] = _local(row["started_at"]), _local(row["completed_at"])
        sheet.append(cells + [_cell_text(row["values"].get(c)) for c in query.columns])
    if len(instances) > limit:
        sheet.append([f"结果过多，仅导出前 {limit} 行 / only the first {limit} rows were exported"])
    sheet.freeze_panes = "A2"
    audit.record("search_exported", actor_id=actor.user_id, query=query.query_string(), rows=len(rows))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell_text(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


# -- saved searches (operations: check, change, flush, audit; the request commits) ------------------------------------
def normalized_query(actor: Actor, raw: str) -> str:
    """A saved query string, checked like a search: unknown parameters dropped, paging dropped."""
    if len(raw) > 2000:
        raise ApiError(422, "validation_failed", details=[{"field": "query", "message": "过长 / too long"}])
    values = {k: v[-1] for k, v in parse_qs(raw.lstrip("?"), keep_blank_values=False).items()}
    query = parse_query(values)
    check_columns(actor, query)
    return query.query_string()


def saved_searches(actor: Actor) -> list[SavedSearch]:
    return list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == actor.user_id)
                                   .order_by(SavedSearch.name)))


def get_saved_search(actor: Actor, search_id: int) -> SavedSearch:
    saved = db.session.get(SavedSearch, search_id)
    if saved is None or saved.user_id != actor.user_id:
        raise not_found()  # another user's saved search does not exist for this one
    return saved


def save_search(actor: Actor, name: str, raw_query: str) -> SavedSearch:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApiError(422, "validation_failed", details=[
            {"field": "name", "message": "名称为 1 到 100 个字符 / the name has 1 to 100 characters"}])
    saved = SavedSearch(user_id=actor.user_id, name=name, query=normalized_query(actor, raw_query),
                        created_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(saved)
            db.session.flush()
    except IntegrityError:
        raise ApiError(409, "conflict", f"已有同名的保存搜索：{name} / a saved search has this name") from None
    audit.record("saved_search_created", actor_id=actor.user_id, saved_search=saved.id, name=name)
    return saved


def delete_saved_search(actor: Actor, search_id: int) -> None:
    saved = get_saved_search(actor, search_id)
    db.session.delete(saved)
    db.session.flush()
    audit.record("saved_search_deleted", actor_id=actor.user_id, saved_search=search_id, name=saved.name)


def saved_view(saved: SavedSearch) -> dict[str, Any]:
    return {"id": saved.id, "name": saved.name, "query": saved.query, "created_at": saved.created_at}


def step_choices(process: str | None) -> list[tuple[str, str]]:
    """(task name, title) of the steps cases wait at, for the step filter."""
    stmt = select(HumanTask.name, func.min(HumanTask.title)).where(HumanTask.status == "ready")
    if process:
        stmt = stmt.where(HumanTask.process_key == process)
    return [(name, title) for name, title in db.session.execute(stmt.group_by(HumanTask.name).order_by(HumanTask.name))]
