"""党团联席会议 — coordination meetings of the Party and League organisations (domain.md, Supporting
procedures: at least every six months).

Subject: the convening unit — the Party general branch, the League general branch, or a Party branch
(meeting with its paired League branches). One case per meeting. The convener's secretary plans the
meeting (date, place, topics); the plan is due `interval_months` after the last meeting on record
(`first_meeting_days` after the start when there is none), with a reminder `reminder_days_before`;
when the due date passes the Party general branch secretary is asked to act (督促) and sets a new date.
After the meeting the secretary records the minutes (date, attendees, topics, decisions) and the
action items; each action item (title, role or user responsible, due date) becomes a task of its own,
closed with a note. When all are closed the case ends, records {"record": "coordination_meeting"} on
the unit, and starts the next meeting's case (policy `chain_next`), whose plan is due six months after
this meeting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from processes.rectification import BEIJING, END_OF_DAY, deadline_moment
from service.pack import ProcessDefinition, add_months, now

KEY = "coordination_meeting"

POLICIES: dict[str, Any] = {
    "interval_months": 6,  # the longest gap between two meetings
    "first_meeting_days": 30,  # plan due this many days after the start when no meeting is on record
    "reminder_days_before": 14,
    "overdue_grace_days": 14,  # the least time a new date after an overdue notice gives
    "chain_next": True,  # a held meeting starts the next meeting's case
}

#: the secretary of each kind of convening unit (the BPMN draws this lane as party_branch_secretary)
SECRETARY_OF = {
    "party_general_branch": "party_general_branch_secretary",
    "league_general_branch": "league_general_branch_secretary",
    "party_branch": "party_branch_secretary",
}
CONVENER_LANE = "party_branch_secretary"
ACTION_LANE = "league_general_branch_committee"
#: roles an action item may be given to by role (they are found from the convening unit)
ACTION_ROLES = ("party_general_branch_secretary", "league_general_branch_secretary", "league_general_branch_committee",
                "party_branch_secretary", "party_branch_committee")

START_DEFAULTS: dict[str, Any] = {"previous_meeting": None, "topics": []}

START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "previous_meeting": {"type": ["string", "null"], "format": "date"},
        "topics": {"type": "array", "maxItems": 30, "items": {"type": "string", "minLength": 1, "maxLength": 200}},
    },
}



def next_meeting_due(previous: str | None, months: int, first_days: int) -> str:
    """When the next meeting must be held: `months` after the previous one, or `first_days` from now."""
    if previous:
        day = add_months(date.fromisoformat(str(previous)[:10]), int(months))
    else:
        day = now().astimezone(BEIJING).date() + timedelta(days=int(first_days))
    return datetime.combine(day, END_OF_DAY, tzinfo=BEIJING).isoformat()


def reminder_moment(due_at: str, days_before: int | float) -> str:
    return (datetime.fromisoformat(due_at) - timedelta(days=float(days_before or 0))).isoformat()


def extended_due(new_due: str | None, grace_days: int | float) -> str:
    """The plan's new due time after an overdue notice: the date given, but never sooner than the grace."""
    floor = now() + timedelta(days=float(grace_days or 0))
    given = datetime.fromisoformat(deadline_moment(new_due)) if new_due else floor
    return max(given, floor).astimezone(BEIJING).isoformat()


def describe_due(due_at: str, previous: str | None) -> str:
    text = f"应于 {due_at[:10]} 前召开"
    return text + (f"（上次会议：{previous}）" if previous else "（尚无会议记录）")


def number_items(items: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Action items with their index, role and assignee normalised (one task each)."""
    result = []
    for index, item in enumerate(items or []):
        role = item.get("assignee_role")
        result.append({"index": index, "title": str(item.get("title") or ""), "due": item.get("due"),
                       "assignee_role": role if role in ACTION_ROLES else "league_general_branch_secretary",
                       "assignee": (item.get("assignee") or "").strip() or None})
    return result


def now_iso() -> str:
    return now().isoformat()


def resolve_lane(lane: str, unit_kind: str | None, data: Mapping[str, Any]) -> str:
    """The convener lane is the secretary of the convening unit; an action item's lane is its role."""
    if lane == CONVENER_LANE:
        return SECRETARY_OF.get(unit_kind or "", lane)
    if lane == ACTION_LANE:
        item = data.get("item") if isinstance(data.get("item"), Mapping) else {}
        role = item.get("assignee_role")
        return role if role in ACTION_ROLES else "league_general_branch_secretary"
    return lane


def calendar_items(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a running meeting case has coming that no task due date shows: the planned meeting (until
    the minutes are in) and each open action item's due date."""
    items = []
    if data.get("meeting_date") and not data.get("held_on"):
        items.append({"date": str(data["meeting_date"])[:10], "kind": "meeting",
                      "title": f"召开党团联席会议：{data.get('subject_name') or data.get('subject')}"})
    closed = {r.get("index") for r in data.get("action_results") or [] if isinstance(r, Mapping)}
    for item in data.get("action_items") or []:
        if isinstance(item, Mapping) and item.get("due") and item.get("index") not in closed:
            items.append({"date": str(item["due"])[:10], "kind": "action_item",
                          "title": f"会议事项到期：{item.get('title')}"})
    return items


def _initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    records = (facts.get("records") or {}).get(KEY) or []
    values: dict[str, Any] = {"subject_name": facts.get("name"), "subject_unit_kind": facts.get("kind")}
    if records:
        values["previous_meeting"] = (records[0].get("data") or {}).get("held_on")
    return values


def _on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome != "held":
        return []
    held_on = str(data.get("held_on"))
    effects: list[dict[str, Any]] = [{
        "kind": "record", "record": KEY, "year": int(held_on[:4]),
        "data": {"held_on": held_on, "place": data.get("place"), "attendees": data.get("attendees") or [],
                 "topics": data.get("topics") or [], "decisions": data.get("decisions"),
                 "action_items": len(data.get("action_items") or []),
                 "action_results": data.get("action_results") or []},
    }]
    if (data.get("policies") or {}).get("chain_next", POLICIES["chain_next"]):
        effects.append({"kind": "start_process", "process": KEY, "subject": data.get("subject") or facts.get("code"),
                        "data": {"previous_meeting": held_on}})
    return effects


FUNCTIONS = {f.__name__: f for f in (next_meeting_due, reminder_moment, extended_due, describe_due, number_items,
                                     now_iso)}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="党团联席会议",
    title_en="Party–League coordination meeting",
    subject_kind="org_unit",
    milestones={
        "plan_meeting": "筹备会议",
        "meeting_overdue": "会议逾期，待党总支督促",
        "minutes": "填写会议纪要",
        "action_item": "落实会议事项",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=("party_general_branch_secretary", "league_general_branch_secretary", "party_branch_secretary"),
    resolve_lane=resolve_lane,
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    initial_data=_initial_data,
    on_complete=_on_complete,
    calendar_items=calendar_items,
)
