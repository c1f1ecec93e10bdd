"""The campaign page: one row per branch (current step, due date, overdue, self score, reviewers'
scores, aggregate, grade), the grade quotas in use against the policy's limits, sorting and filters.
The same view feeds the page and GET /api/v1/campaigns/{id}/board."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service import clock
from service.auth.actor import Actor
from service.campaigns import board
from service.campaigns.models import Campaign
from service.campaigns.operations import CONFIRM_TASK, LAUNCH_ROLE, get_campaign
from service.errors import not_found

from .dashboards import GRADES as GRADE_LABELS

REPORT_TASK = "party_acceptance"  # after confirmation the process reports each result to the Party general branch
SORT_KEYS = ("subject", "name", "step", "due_at", "self_total", "aggregate", "grade", "status")
CLOSED = ("completed", "terminated")


@dataclass
class BoardQuery:
    sort: str = "subject"
    desc: bool = False
    step: str | None = None
    grade: str | None = None
    overdue: bool | None = None

    @classmethod
    def from_args(cls, args: Any) -> BoardQuery:
        """From query parameters; unknown values fall back to the defaults (a page never fails on them)."""
        sort = args.get("sort") or "subject"
        overdue = args.get("overdue")
        return cls(sort=sort if sort in SORT_KEYS else "subject", desc=args.get("order") == "desc",
                   step=(args.get("step") or None), grade=(args.get("grade") or None),
                   overdue=True if overdue in ("1", "true", True) else False if overdue in ("0", "false") else None)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _grade(case: board.BoardCase) -> str | None:
    if case.instance.status == "completed":
        return case.instance.outcome
    if case.instance.status == "terminated":
        return None
    return case.data.get("grade") or None


def _row(case: board.BoardCase, now: datetime) -> dict[str, Any]:
    instance, data = case.instance, case.data
    dues = [t.due_at for t in case.ready if t.due_at is not None]
    due = min(dues) if dues else None
    aggregate = _number(data.get("review_mean"))
    if aggregate is None:
        aggregate = _number(data.get("final_score"))
    return {
        "subject": instance.subject, "name": case.unit_name, "instance_id": instance.id, "status": instance.status,
        "step": instance.milestone, "steps": [t.name for t in case.ready],
        "task_ids": {t.name: t.id for t in case.ready}, "due_at": due,
        "overdue": due is not None and due < now and instance.status not in CLOSED,
        "self_total": _number(data.get("self_total")), "reviews": board.reviewer_totals(data),
        "aggregate": aggregate, "grade": _grade(case), "grade_title": data.get("grade_title"),
        "review_round": data.get("review_round"), "reported": REPORT_TASK in {t.name for t in case.ready},
    }


def filtered(rows: list[dict[str, Any]], query: BoardQuery) -> list[dict[str, Any]]:
    found = [r for r in rows
             if (query.step is None or query.step in r["steps"])
             and (query.grade is None or r["grade"] == query.grade)
             and (query.overdue is None or r["overdue"] == query.overdue)]
    present = [r for r in found if r.get(query.sort) is not None]
    absent = [r for r in found if r.get(query.sort) is None]  # empty values last, whichever the order
    present.sort(key=lambda r: (r[query.sort], r["subject"]), reverse=query.desc)
    return present + absent


def quota_use(campaign: Campaign, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per grade: how many branches have it; for grades with a quota, how many the quota allows now
    (floor(share x graded branches), as the confirmation checks it)."""
    grades = [r["grade"] for r in rows if r["grade"]]
    counts = Counter(grades)
    titles = {key: str(label) for key, label in GRADE_LABELS}
    titles.update({r["grade"]: r["grade_title"] for r in rows if r["grade"] and r["grade_title"]})
    quotas = (campaign.settings or {}).get("quotas") or {}
    items = []
    for grade in [*quotas, *sorted(g for g in counts if g not in quotas)]:
        share = quotas.get(grade)
        allowed = int(len(grades) * float(share) + 1e-9) if share is not None else None
        items.append({"grade": grade, "title": titles.get(grade), "count": counts.get(grade, 0),
                      "quota": float(share) if share is not None else None, "allowed": allowed,
                      "over": allowed is not None and counts.get(grade, 0) > allowed})
    return {"units": len(rows), "graded": len(grades), "grades": items}


def may_confirm(actor: Actor, campaign: Campaign) -> bool:
    return any(actor.holds(LAUNCH_ROLE, unit) for unit in (campaign.settings or {}).get("scope_units") or [])


def campaign_board(actor: Actor, campaign_id: int, query: BoardQuery | None = None) -> dict[str, Any]:
    """The board as the actor may see it: the campaign, quota use over all visible rows, the rows
    filtered and sorted, and the counts the actions need."""
    campaign = get_campaign(campaign_id)
    cases = board.campaign_cases(campaign, actor)
    if not cases and not actor.is_admin:
        raise not_found()
    now = clock.now()
    rows = [_row(case, now) for case in cases]
    query = query or BoardQuery()
    steps = Counter(name for r in rows for name in r["steps"])
    titles = {t.name: t.title for case in cases for t in case.ready}
    return {
        "campaign": campaign, "quota": quota_use(campaign, rows), "rows": filtered(rows, query), "query": query,
        "total": len(rows), "overdue": sum(r["overdue"] for r in rows),
        "steps": [{"name": name, "title": titles.get(name, name), "count": n} for name, n in sorted(steps.items())],
        "waiting_confirm": steps.get(CONFIRM_TASK, 0), "reported": steps.get(REPORT_TASK, 0),
        "completed": sum(r["status"] == "completed" for r in rows),
        "may_confirm": may_confirm(actor, campaign) and steps.get(CONFIRM_TASK, 0) > 0,
    }
