"""联系点走访 — a leader visits one of their contact League branches (domain.md, Supporting procedures:
each leader has 1–2 contact branches and visits at least once a year, recording the problems found).

Subject: the League branch visited. The contact assignment is the start data: `leader` (the username of
the Party general branch or Party branch leader whose contact point this branch is) and an optional
`due` date (default: the end of the year, Beijing) and `planned_date` (shown on the calendar). The visit task goes to that leader alone; if it is
not done by the due date the Party general branch secretary extends it or cancels the visit. The
visit record lists the findings and the problems found; each problem is handled either as a follow-up
task for the branch secretary (closed with a note) or by a rectification case, issued by the Party
general branch when this one ends. The case records {"record": "contact_visit"} on the branch; the
Party branch assessment counts these records per year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from processes.rectification import BEIJING, END_OF_DAY, deadline_moment
from service.pack import ProcessDefinition, now

KEY = "contact_visit"

POLICIES: dict[str, Any] = {
    "rectification_days": 60,  # deadline of a rectification opened by a visit, counted from the visit
    "overdue_grace_days": 7,  # the least time an extension gives
}

START_DEFAULTS: dict[str, Any] = {"due": None, "year": None, "planned_date": None}

START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["leader"],
    "properties": {
        "leader": {"type": "string", "minLength": 1, "maxLength": 64},
        "due": {"type": ["string", "null"], "format": "date"},
        "planned_date": {"type": ["string", "null"], "format": "date"},
        "year": {"type": ["integer", "null"], "minimum": 2000, "maximum": 2100},
    },
}


def _today() -> date:
    return now().astimezone(BEIJING).date()


def visit_due(due: str | None, year: int | None) -> str:
    """The visit's due time: the date given, else the end of `year` (default: this year), Beijing."""
    if due:
        return str(deadline_moment(due))
    day = date(int(year or _today().year), 12, 31)
    return datetime.combine(day, END_OF_DAY, tzinfo=BEIJING).isoformat()


def extended_due(new_due: str | None, grace_days: int | float) -> str:
    floor = now() + timedelta(days=float(grace_days or 0))
    given = datetime.fromisoformat(str(deadline_moment(new_due))) if new_due else floor
    return max(given, floor).astimezone(BEIJING).isoformat()


def split_problems(problems: Sequence[Mapping[str, Any]] | None) -> dict[str, list[dict[str, Any]]]:
    """Problems by handling: {"follow_ups": [...], "rectify": [...]}, each with its index."""
    result: dict[str, list[dict[str, Any]]] = {"follow_ups": [], "rectify": []}
    for index, problem in enumerate(problems or []):
        entry = {"index": index, "title": str(problem.get("title") or ""), "detail": str(problem.get("detail") or "")}
        result["rectify" if problem.get("handling") == "rectification" else "follow_ups"].append(entry)
    return result


def now_iso() -> str:
    return now().isoformat()


def calendar_items(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A planned visit date, while the visit is still to be made."""
    if data.get("planned_date") and not data.get("visited_on"):
        return [{"date": str(data["planned_date"])[:10], "kind": "visit",
                 "title": f"联系点走访：{data.get('branch_name') or data.get('subject')}（{data.get('leader')}）"}]
    return []


def _initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"branch_name": facts.get("name")}


def _on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome != "visited":
        return []
    visited_on = str(data.get("visited_on"))
    problems = [p for p in data.get("problems") or [] if isinstance(p, Mapping)]
    effects: list[dict[str, Any]] = [{
        "kind": "record", "record": KEY, "year": int(visited_on[:4]),
        "data": {"leader": data.get("leader"), "visited_on": visited_on, "findings": data.get("findings"),
                 "problems": [p.get("title") for p in problems],
                 "follow_up_results": data.get("follow_up_results") or []},
    }]
    rectify = data.get("rectify") or []
    if rectify:
        days = int((data.get("policies") or {}).get("rectification_days", POLICIES["rectification_days"]))
        effects.append({
            "kind": "start_process", "process": "rectification", "subject": data.get("subject") or facts.get("code"),
            "data": {"problems": [{"title": p["title"], "detail": p.get("detail") or ""} for p in rectify],
                     "deadline": (date.fromisoformat(visited_on[:10]) + timedelta(days=days)).isoformat(),
                     "issuer": "party_general_branch", "responsible": None, "source": KEY},
        })
    return effects


FUNCTIONS = {f.__name__: f for f in (visit_due, extended_due, split_problems, now_iso)}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="联系点走访",
    title_en="Contact-point visit",
    subject_kind="org_unit",
    milestones={
        "visit": "待走访",
        "visit_overdue": "走访逾期，待党总支处理",
        "follow_up": "问题跟进",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=("party_general_branch_secretary", "party_branch_secretary"),
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    initial_data=_initial_data,
    on_complete=_on_complete,
    calendar_items=calendar_items,
)
