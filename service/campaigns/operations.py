"""Campaigns: launch one case per eligible org unit, follow them on one page, confirm all grades at once.

A campaign process (today: branch_assessment) grades its subject: while a case's grade stands its
data holds `grade` (None again while it is being reviewed anew) and its outcome is the grade. The
process's policies say which units take part (`campaign_unit_kind`, default league_branch; units
founded less than `min_branch_age_months` before the launch are left out), who reviews
(`reviewers`, else every holder of `reviewer_role` above the unit) and the grade quotas checked
at confirmation (`quotas`: grade -> the largest share of the graded units).

Like every operation here these check, change, flush and audit; the request commits.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import select

from service import audit, clock
from service.auth.actor import Actor
from service.errors import ApiError, forbidden, not_found
from service.extensions import db
from service.instances.access import may_act, org_graph, visible_instances_condition
from service.instances.models import HumanTask, Instance
from service.instances.operations import complete_task, policies_for, restore_case, start_instance
from service.instances.subjects import unit_subjects
from service.instances.views import usernames
from service.modeler.operations import current_version
from service.org.models import OrgUnit, RoleAssignment, User
from service.runtime import definition

from .models import Campaign

DEFAULT_UNIT_KIND = "league_branch"
CONFIRM_TASK = "confirm"  # the task confirm_campaign completes in every graded case
LAUNCH_ROLE = "league_general_branch_secretary"
#: progress values read from a case's data (absent ones are None)
PROGRESS_FIELDS = ("self_total", "review_mean", "final_score", "grade", "grade_title", "review_round")



def _launch_units(actor: Actor, process: str) -> set[str] | None:
    """Units whose subordinate units the actor may launch for; None: everywhere (admin)."""
    if actor.is_admin:
        return None
    found = definition(process)
    roles = {LAUNCH_ROLE, *(found.start_roles if found else ())}
    units = {unit for role, unit in actor.roles if role in roles and unit}
    if not units:
        raise forbidden("只有团总支书记或管理员可以发起考核 / only the general branch secretary or an admin may launch")
    return units


def _candidates(actor: Actor, process: str, unit_kind: str) -> list[OrgUnit]:
    allowed = _launch_units(actor, process)
    graph = org_graph()
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == unit_kind).order_by(OrgUnit.code)).all()
    if allowed is None:
        return list(units)
    found = definition(process)
    roles = {LAUNCH_ROLE, *(found.start_roles if found else ())}
    return [u for u in units if any(graph.scope_for_lane(u.code, role) in allowed for role in roles)]


def _users_exist(usernames: list[str]) -> None:
    known = set(db.session.scalars(select(User.username).where(User.username.in_(usernames), User.active.is_(True))))
    unknown = [name for name in usernames if name not in known]
    if unknown:
        raise ApiError(422, "validation_failed", details=[
            {"field": "reviewers", "message": f"用户不存在或已停用 / unknown or inactive user: {name}"} for name in unknown])


def _role_holders(role: str, unit_code: str | None) -> list[str]:
    if unit_code is None:
        return []
    return sorted(db.session.scalars(
        select(User.username).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.role == role, OrgUnit.code == unit_code, User.active.is_(True))).unique())


def _reviewers_for(unit: OrgUnit, given: list[str], policies: dict[str, Any]) -> list[str] | None:
    """The reviewers of one unit's case; None when the process has no reviewers at all."""
    if given:
        return given
    if policies.get("reviewers"):
        return list(policies["reviewers"])
    role = policies.get("reviewer_role")
    if role:
        return _role_holders(role, org_graph().scope_for_lane(unit.code, role))
    return [] if "reviewers" in policies else None


def launch_campaign(actor: Actor, process: str, year: int, deadline: date,
                    reviewers: list[str] | None = None) -> tuple[Campaign, list[Instance]]:
    """Start one case of `process` for every eligible unit, all with the same year and deadline."""
    found = definition(process)
    if found is None or found.subject_kind != "org_unit":
        raise ApiError(422, "validation_failed", details=[
            {"field": "process", "message": f"流程 {process} 不能按组织批量发起 / {process} is not an org-unit process"}])
    version = current_version(process)
    if version is None:
        raise ApiError(404, "not_found", f"流程 {process} 未部署 / process {process} is not deployed")
    now = clock.now()
    today = now.date()
    if deadline <= today:
        raise ApiError(422, "validation_failed", details=[
            {"field": "deadline", "message": "截止日期须晚于今天 / the deadline must be after today"}])
    policies = policies_for(process)
    given = list(dict.fromkeys(reviewers or []))
    if given or policies.get("reviewers"):
        _users_exist(given or list(policies["reviewers"]))

    months = int(policies.get("min_branch_age_months") or 0)
    # policy campaign_skip_running: a unit whose case of this process is still open (e.g. a re-election
    # waiting for the end of its term) gets no second one
    running = set(db.session.scalars(select(Instance.subject).where(
        Instance.process_key == process, Instance.status.in_(("running", "suspended", "error"))))) \
        if policies.get("campaign_skip_running") else set()
    eligible: list[OrgUnit] = []
    excluded: list[dict[str, Any]] = []
    for unit in _candidates(actor, process, str(policies.get("campaign_unit_kind") or DEFAULT_UNIT_KIND)):
        if unit.founded is not None and clock.add_months(unit.founded, months) > today:
            excluded.append({"subject": unit.code, "name": unit.name, "founded": unit.founded.isoformat(),
                             "reason": f"成立不满 {months} 个月 / founded less than {months} months ago"})
        elif unit.code in running:
            excluded.append({"subject": unit.code, "name": unit.name,
                             "reason": "已有进行中的案件 / a case of this process is still open"})
        else:
            eligible.append(unit)
    if not eligible:
        raise ApiError(422, "validation_failed", "没有符合条件的组织 / no eligible unit", details=excluded)

    _check_not_launched(process, year, [u.code for u in eligible])
    reviewers_by_unit = {u.code: _reviewers_for(u, given, policies) for u in eligible}
    missing = [code for code, names in reviewers_by_unit.items() if names == []]
    if missing:
        raise ApiError(422, "validation_failed", details=[
            {"field": "reviewers", "message": f"{code} 没有评审人 / no reviewers for {code}"} for code in missing])

    graph = org_graph()
    campaign = Campaign(
        process_key=process, year=year, deadline=deadline, launched_by=actor.user_id, launched_at=now,
        status="running", settings={
            "quotas": policies.get("quotas") or {}, "excluded": excluded,
            "reviewers": sorted({n for names in reviewers_by_unit.values() for n in names or []}),
            "scope_units": sorted({s for u in eligible if (s := graph.scope_for_lane(u.code, LAUNCH_ROLE))}),
        })
    db.session.add(campaign)
    db.session.flush()
    instances = []
    subjects = unit_subjects(eligible)
    for unit in eligible:
        extra: dict[str, Any] = {"year": year, "deadline": deadline.isoformat(), "campaign_id": campaign.id}
        if reviewers_by_unit[unit.code] is not None:
            extra["reviewers"] = reviewers_by_unit[unit.code]
        instances.append(start_instance(None, process, unit.code, extra=extra, version=version, policies=policies,
                                        campaign_id=campaign.id, subject=subjects[unit.code]))
    db.session.flush()
    audit.record("campaign_launched", actor_id=actor.user_id, campaign=campaign.id, process=process, year=year,
                 deadline=deadline.isoformat(), instances=[i.id for i in instances],
                 excluded=[e["subject"] for e in excluded])
    return campaign, instances


def _check_not_launched(process: str, year: int, subjects: list[str]) -> None:
    clash = db.session.execute(
        select(Campaign.id, Instance.subject).join(Instance, Instance.campaign_id == Campaign.id)
        .where(Campaign.process_key == process, Campaign.year == year, Instance.subject.in_(subjects),
               Instance.status != "terminated")).all()
    if clash:
        raise ApiError(409, "conflict", f"{year} 年度的考核已发起 / the {year} campaign was already launched", details=[
            {"campaign": campaign_id, "subject": subject} for campaign_id, subject in clash])


# -- reading ------------------------------------------------------------------------------------------------
def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise not_found()
    return campaign


def _instances(campaign: Campaign, actor: Actor | None = None) -> list[Instance]:
    stmt = select(Instance).where(Instance.campaign_id == campaign.id)
    if actor is not None:
        stmt = stmt.where(visible_instances_condition(actor))
    return list(db.session.scalars(stmt.order_by(Instance.subject)))


def _ready_tasks(instances: list[Instance]) -> dict[int, list[HumanTask]]:
    ready: dict[int, list[HumanTask]] = {}
    if instances:
        for task in db.session.scalars(select(HumanTask).where(
                HumanTask.instance_id.in_([i.id for i in instances]), HumanTask.status == "ready")
                .order_by(HumanTask.created_at, HumanTask.id)):
            ready.setdefault(task.instance_id, []).append(task)
    return ready


def _grade_of(instance: Instance, data: dict[str, Any]) -> str | None:
    if instance.status == "completed":
        return instance.outcome
    if instance.status == "terminated":
        return None
    return data.get("grade")


def _rows(instances: list[Instance]) -> list[dict[str, Any]]:
    ready = _ready_tasks(instances)
    names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_([i.subject for i in instances]))).all()) if instances else {}
    rows = []
    for instance in instances:
        data = restore_case(instance).data
        row = {"subject": instance.subject, "name": names.get(instance.subject), "instance_id": instance.id,
               "status": instance.status, "milestone": instance.milestone, "outcome": instance.outcome,
               "ready_tasks": [t.name for t in ready.get(instance.id, [])]}
        row.update({name: data.get(name) for name in PROGRESS_FIELDS})
        row["grade"] = _grade_of(instance, data)
        rows.append(row)
    return rows


def quota_violations(grades: list[str], quotas: dict[str, Any]) -> list[dict[str, Any]]:
    """Grades above their quota: count > floor(share x graded units)."""
    counts = Counter(grades)
    problems = []
    for grade, share in quotas.items():
        allowed = int(len(grades) * float(share) + 1e-9)
        if counts[grade] > allowed:
            problems.append({"grade": grade, "count": counts[grade], "allowed": allowed, "graded": len(grades),
                             "quota": share})
    return problems


def _summary(campaign: Campaign, rows: list[dict[str, Any]]) -> dict[str, Any]:
    grades = [r["grade"] for r in rows if r["grade"]]
    return {
        "units": len(rows), "graded": len(grades), "by_grade": dict(Counter(grades)),
        "by_status": dict(Counter(r["status"] for r in rows)),
        "quota_violations": quota_violations(grades, campaign.settings.get("quotas") or {}),
    }


def campaign_view(campaign: Campaign, rows: list[dict[str, Any]] | None = None,
                  names: dict[int, str] | None = None) -> dict[str, Any]:
    settings = campaign.settings or {}
    if names is None:
        names = usernames([campaign.launched_by])
    view = {"id": campaign.id, "process": campaign.process_key, "year": campaign.year, "deadline": campaign.deadline,
            "status": campaign.status, "launched_at": campaign.launched_at,
            "launched_by": names.get(campaign.launched_by) if campaign.launched_by else None,
            "quotas": settings.get("quotas") or {}, "reviewers": settings.get("reviewers") or [],
            "excluded": settings.get("excluded") or []}
    if rows is not None:
        view.update(summary=_summary(campaign, rows), items=rows)
    return view


def campaign_progress(actor: Actor, campaign_id: int) -> dict[str, Any]:
    """One row per unit the actor may see: step, status, self total, reviewers' mean, grade."""
    campaign = get_campaign(campaign_id)
    instances = _instances(campaign, actor)
    if not instances and not actor.is_admin:
        raise not_found()
    return campaign_view(campaign, _rows(instances))


def list_campaigns(actor: Actor, process: str | None = None) -> list[dict[str, Any]]:
    stmt = select(Campaign).order_by(Campaign.id.desc())
    if process:
        stmt = stmt.where(Campaign.process_key == process)
    if not actor.is_admin:
        visible = select(Instance.campaign_id).where(Instance.campaign_id.isnot(None), visible_instances_condition(actor))
        stmt = stmt.where(Campaign.id.in_(visible))
    campaigns = list(db.session.scalars(stmt))
    names = usernames(c.launched_by for c in campaigns)
    return [campaign_view(c, names=names) for c in campaigns]


# -- confirming ---------------------------------------------------------------------------------------------
def confirm_campaign(actor: Actor, campaign_id: int) -> dict[str, Any]:
    """Check the grade quotas across the whole campaign, then confirm every case waiting at `confirm`.
    Nothing is confirmed unless every running case is graded and no grade exceeds its quota."""
    campaign = get_campaign(campaign_id)
    if not actor.is_admin and not _instances(campaign, actor):
        raise not_found()
    instances = _instances(campaign)
    ready = _ready_tasks(instances)
    to_confirm = [t for i in instances for t in ready.get(i.id, []) if t.name == CONFIRM_TASK]
    holds_launch_role = any(actor.holds(LAUNCH_ROLE, unit) for unit in campaign.settings.get("scope_units") or [])
    if not holds_launch_role or not all(may_act(actor, task) for task in to_confirm):
        raise forbidden("只有团总支书记可以确认考核等级 / only the general branch secretary confirms the grades")

    rows = _rows(instances)
    pending = [r for r in rows if r["status"] not in ("completed", "terminated") and not r["grade"]]
    if pending:
        raise ApiError(409, "conflict", "尚有团支部未完成评审，不能确认 / some units are not graded yet", details=[
            {"subject": r["subject"], "name": r["name"], "milestone": r["milestone"]} for r in pending])
    if not to_confirm:
        raise ApiError(409, "conflict", "没有待确认的等级 / no grade is waiting for confirmation")
    summary = _summary(campaign, rows)
    if summary["quota_violations"]:
        raise ApiError(409, "quota_exceeded",
                       "等级比例超出限额，请退回调整后再确认 / grades exceed their quota; nothing was confirmed",
                       details=summary["quota_violations"])

    for task in to_confirm:
        complete_task(actor, task.id, {"decision": "confirm"})
    campaign.status = "confirmed"
    confirmations = [*campaign.settings.get("confirmations", []), {
        "by": actor.username, "at": clock.now().isoformat(), "instances": [t.instance_id for t in to_confirm],
        "by_grade": summary["by_grade"]}]
    campaign.settings = {**campaign.settings, "confirmations": confirmations}
    audit.record("campaign_confirmed", actor_id=actor.user_id, campaign=campaign.id,
                 instances=[t.instance_id for t in to_confirm], by_grade=summary["by_grade"])
    db.session.flush()
    return {**campaign_view(campaign, _rows(instances)), "confirmed": len(to_confirm)}
