"""Dashboards: the 推优 funnel of a year, assessment grades per year, overdue tasks by unit and by step,
the time each step takes (where processes wait longest) and rectifications open / overdue / closed.

Each is a few aggregate statements over the case and task tables, scoped to what the actor may see:
admins and general-branch secretaries see the whole college, everyone else the cases of their units
(and their own). Each returns plain numbers; the page draws them (charts.py) and lists them as a table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, false, func, or_, select, true

from service import clock
from service.auth.actor import Actor
from service.campaigns.models import Campaign
from service.extensions import db
from service.instances.access import visible_units
from service.instances.models import HumanTask, Instance
from service.org.models import OrgUnit

CST = timezone(timedelta(hours=8))
COLLEGE_WIDE_ROLES = ("admin", "party_general_branch_secretary", "league_general_branch_secretary")
OPEN = ("running", "suspended", "error")

RECOMMENDATION = "recommendation"
ASSESSMENT = "branch_assessment"
RECTIFICATION = "rectification"
#: the 推优 funnel (domain.md, Process 1): a case counts at a stage once it reached the step after it
FUNNEL = (
    ("applied", _l("已申请"), ("task_done", "apply")),
    ("committee_approved", _l("支委会同意"), ("task_reached", "meeting_approval")),
    ("meeting_passed", _l("推优大会通过"), ("task_reached", "committee_opinion")),
    ("publicity_passed", _l("公示通过"), ("task_reached", "general_branch_review")),
    ("accepted", _l("党支部接收"), ("outcome", "accepted")),
)
#: the assessment grades in order (domain.md, Process 2)
GRADES = (("excellent", _l("五星/优秀")), ("good", _l("四星/良好")), ("fair", _l("三星/一般")),
          ("lagging", _l("后进")), ("weak", _l("软弱涣散")))
DASHBOARDS = ("funnel", "grades", "overdue", "step_times", "rectifications")


def college_wide(actor: Actor) -> bool:
    return any(role in COLLEGE_WIDE_ROLES for role, _unit in actor.roles)


def scope(actor: Actor) -> Any:
    """SQL condition on Instance: the cases this dashboard may count for the actor."""
    if college_wide(actor):
        return true()
    units = visible_units(actor)
    conditions = [Instance.subject_unit.in_(sorted(units))] if units else []
    if actor.person_id:
        conditions.append(and_(Instance.subject_kind == "person", Instance.subject == actor.person_id))
    return or_(*conditions) if conditions else false()


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A Beijing calendar year as UTC instants [start, end)."""
    start = datetime.combine(date(year, 1, 1), time.min, tzinfo=CST)
    end = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=CST)
    return start.astimezone(UTC), end.astimezone(UTC)


def current_year() -> int:
    return clock.now().astimezone(CST).year


# -- 推优 funnel ---------------------------------------------------------------------------------------------------
def _stage_condition(rule: tuple[str, str]) -> Any:
    kind, value = rule
    if kind == "outcome":
        return Instance.outcome == value
    statuses = ("completed",) if kind == "task_done" else ("ready", "completed")
    return exists().where(HumanTask.instance_id == Instance.id, HumanTask.name == value,
                          HumanTask.status.in_(statuses))


def funnel(actor: Actor, year: int) -> dict[str, Any]:
    """How many of the year's recommendation cases reached each stage (one statement)."""
    start, end = year_bounds(year)
    columns = [func.coalesce(func.sum(case((_stage_condition(rule), 1), else_=0)), 0) for _k, _l, rule in FUNNEL]
    counts = db.session.execute(select(func.count(), *columns).select_from(Instance).where(
        Instance.process_key == RECOMMENDATION, Instance.started_at >= start, Instance.started_at < end,
        scope(actor))).one()
    stages = [{"key": key, "label": str(label), "count": int(counts[i + 1])} for i, (key, label, _r) in enumerate(FUNNEL)]
    return {"year": year, "cases": int(counts[0]), "stages": stages}


# -- grades -----------------------------------------------------------------------------------------------------------
def grades(actor: Actor, year: int | None = None) -> dict[str, Any]:
    """Finished assessments per year and grade (the campaign's year; a case without one counts in the
    year it started)."""
    base = [Instance.process_key == ASSESSMENT, Instance.status == "completed", scope(actor)]
    counts: dict[int, dict[str, int]] = {}
    for found_year, outcome, n in db.session.execute(
            select(Campaign.year, Instance.outcome, func.count()).join(Campaign, Campaign.id == Instance.campaign_id)
            .where(*base).group_by(Campaign.year, Instance.outcome)):
        counts.setdefault(int(found_year), {}).setdefault(outcome or "", 0)
        counts[int(found_year)][outcome or ""] += int(n)
    for started, outcome in db.session.execute(
            select(Instance.started_at, Instance.outcome).where(*base, Instance.campaign_id.is_(None))):
        bucket = counts.setdefault(started.astimezone(CST).year, {})
        bucket[outcome or ""] = bucket.get(outcome or "", 0) + 1
    years = sorted((y for y in counts if year is None or y == year), reverse=True)
    known = [key for key, _label in GRADES]
    labels = {key: str(label) for key, label in GRADES}
    rows = []
    for found_year in years:
        by_grade = counts[found_year]
        extra = sorted(k for k in by_grade if k not in known)
        rows.append({"year": found_year, "total": sum(by_grade.values()),
                     "grades": [{"grade": k, "label": labels.get(k, k or "—"), "count": by_grade.get(k, 0)}
                                for k in [*known, *extra]]})
    return {"year": year, "years": rows}


# -- overdue tasks ----------------------------------------------------------------------------------------------------
def overdue(actor: Actor) -> dict[str, Any]:
    """Open tasks past their due time, by the unit they wait on and by step (one grouped statement)."""
    stmt = select(HumanTask.scope_unit, HumanTask.process_key, HumanTask.name, func.min(HumanTask.title),
                  func.count()).where(HumanTask.status == "ready", HumanTask.due_at < clock.now())
    if not college_wide(actor):  # a ready task belongs to an open case: only the scope needs the case row
        stmt = stmt.join(Instance, Instance.id == HumanTask.instance_id).where(Instance.status.in_(OPEN), scope(actor))
    units: dict[str | None, int] = {}
    steps: dict[tuple[str, str], dict[str, Any]] = {}
    for unit, process, name, title, n in db.session.execute(
            stmt.group_by(HumanTask.scope_unit, HumanTask.process_key, HumanTask.name)):
        units[unit] = units.get(unit, 0) + int(n)
        step = steps.setdefault((process, name), {"process": process, "step": name, "title": title, "count": 0})
        step["count"] += int(n)
    codes = sorted(code for code in units if code)
    names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes))).all()) \
        if codes else {}
    by_unit = [{"unit": code, "name": names.get(code, code) if code else None, "count": n}
               for code, n in units.items()]
    by_unit.sort(key=lambda u: (-u["count"], u["unit"] or ""))
    return {"total": sum(units.values()), "by_unit": by_unit,
            "by_step": sorted(steps.values(), key=lambda s: (-s["count"], s["step"]))}


# -- time per step ----------------------------------------------------------------------------------------------------
def _seconds_between(start: Any, end: Any) -> Any:
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def step_times(actor: Actor, year: int | None = None) -> dict[str, Any]:
    """Per step: completed tasks, mean and longest time from offered to completed, longest mean first."""
    seconds = _seconds_between(HumanTask.created_at, HumanTask.completed_at)
    where = [HumanTask.status == "completed", HumanTask.completed_at.isnot(None)]
    if year is not None:
        start, end = year_bounds(year)
        where += [HumanTask.completed_at >= start, HumanTask.completed_at < end]
    stmt = select(HumanTask.process_key, HumanTask.name, func.min(HumanTask.title), func.count(),
                  func.avg(seconds), func.max(seconds)).where(*where)
    if not college_wide(actor):  # the cases in scope first (by unit), then their tasks by case
        stmt = stmt.where(HumanTask.instance_id.in_(select(Instance.id).where(scope(actor))))
    rows = db.session.execute(stmt.group_by(HumanTask.process_key, HumanTask.name)).all()
    steps = [{"process": process, "step": name, "title": title, "count": int(n),
              "mean_hours": round(float(mean or 0) / 3600, 1), "max_hours": round(float(longest or 0) / 3600, 1)}
             for process, name, title, n, mean, longest in rows]
    steps.sort(key=lambda s: (-s["mean_hours"], s["process"], s["step"]))
    return {"year": year, "steps": steps}


# -- rectifications ----------------------------------------------------------------------------------------------------
def rectifications(actor: Actor, year: int | None = None) -> dict[str, Any]:
    """Rectification cases: open (within their deadlines), overdue (open with a task past due), closed
    and terminated."""
    now = clock.now()
    late = exists().where(HumanTask.instance_id == Instance.id, HumanTask.status == "ready",
                          HumanTask.due_at.isnot(None), HumanTask.due_at < now)
    state = case((Instance.status.in_(OPEN), case((late, "overdue"), else_="open")),
                 (Instance.status == "completed", "closed"), else_="terminated")
    where = [Instance.process_key == RECTIFICATION, scope(actor)]
    if year is not None:
        start, end = year_bounds(year)
        where += [Instance.started_at >= start, Instance.started_at < end]
    # grouped over a subquery: PostgreSQL does not match a GROUP BY expression that carries bound parameters
    states = select(state.label("state")).where(*where).subquery()
    counts = dict(db.session.execute(select(states.c.state, func.count()).group_by(states.c.state)).all())
    labels = {"open": _l("整改中"), "overdue": _l("已逾期"), "closed": _l("已销号"), "terminated": _l("已终止")}
    return {"year": year, "total": sum(int(n) for n in counts.values()),
            "states": [{"state": key, "label": str(label), "count": int(counts.get(key, 0))}
                       for key, label in labels.items()]}


def dashboard(actor: Actor, name: str, year: int | None) -> dict[str, Any]:
    """One dashboard's numbers by name (the API's /dashboards/{name})."""
    if name == "funnel":
        return funnel(actor, year or current_year())
    if name == "grades":
        return grades(actor, year)
    if name == "overdue":
        return overdue(actor)
    if name == "step_times":
        return step_times(actor, year or current_year())  # a year's tasks: all of them would be a full scan
    return rectifications(actor, year)
