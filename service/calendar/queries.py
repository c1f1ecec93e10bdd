"""What falls due in a month, across every process, for the cases an actor may see.

Sources (all domain-agnostic): open human tasks with a due date; waiting timers of running cases
(Instance.next_timer_at, unless a task of the same case is due at that moment); dates a running case
has coming that the pack declares (ProcessDefinition.calendar_items — a planned meeting, an action
item, a review date); terms of office ending (OrgUnit.last_reelection + the term policy); and the
deadlines of running campaigns. Days are Beijing days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select

from service import clock
from service.auth.actor import Actor
from service.campaigns.models import Campaign
from service.errors import ApiError
from service.extensions import db
from service.instances.access import task_offered_to, visible_instances_condition, visible_units
from service.instances.models import HumanTask, Instance
from service.instances.operations import policies_for, restore_case
from service.org.models import OrgUnit
from service.runtime import definition, pack

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
#: months of a term of office by unit kind (student League branches 1 year, general branches 3 years);
#: a pack process `branch_reelection` with a policy `term_months` ({kind: months}) overrides these
TERM_MONTHS = {"league_branch": 12, "league_general_branch": 36, "party_branch": 36, "party_general_branch": 60}
TERM_PROCESS = "branch_reelection"
KINDS = ("task", "timer", "case", "term_end", "campaign_deadline")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: the most running cases of pack-declared dates read per request (each is a deserialization)
CASE_ITEMS_LIMIT = 500


def parse_month(text: str | None) -> tuple[int, int]:
    """(year, month) from "YYYY-MM"; empty: this month in Beijing. A 422 for anything else."""
    if not text:
        today = clock.now().astimezone(BEIJING)
        return today.year, today.month
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        raise ApiError(422, "validation_failed", "月份格式应为 YYYY-MM / month must look like YYYY-MM", details=[
            {"field": "month", "message": "月份格式应为 YYYY-MM / month must look like 2026-12"}])
    return int(found.group(1)), int(found.group(2))


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)



def _item(day: date, kind: str, title: str, *, moment: datetime | None = None, **refs: Any) -> dict[str, Any]:
    return {"date": day.isoformat(), "time": _local(moment).strftime("%H:%M") if moment else None, "kind": kind,
            "title": title, "process": refs.get("process"), "subject": refs.get("subject"),
            "subject_kind": refs.get("subject_kind"),
            "instance_id": refs.get("instance_id"), "task_id": refs.get("task_id"),
            "campaign_id": refs.get("campaign_id"), "mine": bool(refs.get("mine"))}


def _tasks(actor: Actor, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], set[tuple[int, str]]]:
    """The month's open tasks with a due date, and (instance, due moment) of each (their deadline timers)."""
    rows = db.session.execute(
        select(HumanTask, Instance.process_key, Instance.subject_kind).join(Instance, Instance.id == HumanTask.instance_id)
        .where(HumanTask.status == "ready", HumanTask.due_at >= start, HumanTask.due_at < end,
               visible_instances_condition(actor))
        .order_by(HumanTask.due_at, HumanTask.id)).all()
    mine = set(db.session.scalars(select(HumanTask.id).where(
        HumanTask.id.in_([row[0].id for row in rows]), task_offered_to(actor)))) if rows else set()
    items = [_item(_local(task.due_at).date(), "task", task.title, moment=task.due_at, process=process,
                   subject=task.subject, subject_kind=kind, instance_id=task.instance_id, task_id=task.id,
                   mine=task.id in mine)
             for task, process, kind in rows]
    return items, {(row[0].instance_id, row[0].due_at.isoformat()) for row in rows}


def _timers(actor: Actor, start: datetime, end: datetime, taken: set[tuple[int, str]]) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Instance).where(
        Instance.status == "running", Instance.next_timer_at >= start, Instance.next_timer_at < end,
        visible_instances_condition(actor)).order_by(Instance.next_timer_at, Instance.id))
    items = []
    for instance in rows:
        moment = instance.next_timer_at
        assert moment is not None
        if (instance.id, moment.isoformat()) in taken:
            continue  # a task's deadline: already listed as the task
        items.append(_item(_local(moment).date(), "timer", instance.milestone or "定时节点", moment=moment,
                           process=instance.process_key, subject=instance.subject,
                           subject_kind=instance.subject_kind, instance_id=instance.id))
    return items


def _case_items(actor: Actor, first: date, following: date) -> list[dict[str, Any]]:
    keys = [key for key, found in pack().items() if found.calendar_items is not None]
    if not keys:
        return []
    rows = db.session.scalars(select(Instance).where(
        Instance.status == "running", Instance.process_key.in_(keys), visible_instances_condition(actor))
        .order_by(Instance.id).limit(CASE_ITEMS_LIMIT))
    items = []
    for instance in rows:
        found = definition(instance.process_key)
        assert found is not None and found.calendar_items is not None
        for entry in found.calendar_items(restore_case(instance).data):
            try:
                day = date.fromisoformat(str(entry.get("date"))[:10])
            except ValueError:
                continue
            if first <= day < following:
                items.append(_item(day, "case", str(entry.get("title") or ""), process=instance.process_key,
                                   subject=instance.subject, subject_kind=instance.subject_kind,
                                   instance_id=instance.id))
    return items


def term_months() -> dict[str, int]:
    override = policies_for(TERM_PROCESS).get("term_months") if definition(TERM_PROCESS) else None
    return {**TERM_MONTHS, **(override if isinstance(override, dict) else {})}


def _terms(actor: Actor, first: date, following: date) -> list[dict[str, Any]]:
    months = term_months()
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.last_reelection.isnot(None)).order_by(OrgUnit.code))
    allowed = None if actor.is_admin else visible_units(actor)
    items = []
    for unit in units:
        if (allowed is not None and unit.code not in allowed) or unit.kind not in months:
            continue
        assert unit.last_reelection is not None
        ends = clock.add_months(unit.last_reelection, int(months[unit.kind]))
        if first <= ends < following:
            items.append(_item(ends, "term_end", f"任期届满：{unit.name}（{unit.last_reelection.isoformat()} 换届）",
                               subject=unit.code, subject_kind="org_unit"))
    return items


def _campaigns(actor: Actor, first: date, following: date) -> list[dict[str, Any]]:
    stmt = select(Campaign).where(Campaign.status == "running", Campaign.deadline >= first,
                                  Campaign.deadline < following)
    if not actor.is_admin:
        stmt = stmt.where(Campaign.id.in_(select(Instance.campaign_id).where(
            Instance.campaign_id.isnot(None), visible_instances_condition(actor))))
    items = []
    for campaign in db.session.scalars(stmt.order_by(Campaign.deadline, Campaign.id)):
        found = definition(campaign.process_key)
        title = found.title if found else campaign.process_key
        items.append(_item(campaign.deadline, "campaign_deadline", f"{title}（{campaign.year} 年度）截止",
                           process=campaign.process_key, campaign_id=campaign.id))
    return items


def month_items(actor: Actor, year: int, month: int) -> list[dict[str, Any]]:
    """Everything due in the month, ordered by day, time (all-day items first) and kind."""
    first, following = _month_bounds(year, month)
    start, end = _utc(first), _utc(following)
    tasks, taken = _tasks(actor, start, end)
    items = [*tasks, *_timers(actor, start, end, taken), *_case_items(actor, first, following),
             *_terms(actor, first, following), *_campaigns(actor, first, following)]
    items.sort(key=lambda i: (i["date"], i["time"] or "", KINDS.index(i["kind"]), i["title"]))
    return items


def by_day(items: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """[(date, items)] in date order, for the month page."""
    days: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        days.setdefault(item["date"], []).append(item)
    return sorted(days.items())


def shift_month(year: int, month: int, delta: int) -> str:
    index = year * 12 + month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
