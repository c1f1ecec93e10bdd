"""What goes into each document, read from a case's data and the roster; no access checks here
(service/documents/operations.py decides who gets them). Identifiers are masked on the way in."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from service.audit import AuditEvent
from service.extensions import db
from service.instances.models import Instance
from service.instances.operations import restore_case
from service.org.models import OrgUnit, Person, User

from .masking import mask_free_text, mask_id_number, mask_phone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
TRACKS = {"A": "入党积极分子人选", "B": "发展对象人选"}
GENDERS = {"male": "男", "female": "女", "m": "男", "f": "女", "M": "男", "F": "女"}
MEETING_RESULTS = {"passed": "通过", "not_passed": "未通过", "reschedule": "未达法定人数，改期",
                   "quorum_not_met": "多次未达法定人数"}
REVIEW_DECISIONS = {"approve": "同意推荐", "return": "退回修改", "reject": "不同意推荐"}
PARTY_DECISIONS = {"accept": "同意接收", "defer": "暂缓", "decline": "不接收"}
GRADE_TITLES = {"excellent": "五星（优秀）", "good": "四星（良好）", "fair": "三星（一般）", "lagging": "后进",
                "weak": "软弱涣散"}
PROBLEM_STATUS = {"open": "整改中", "done": "已完成待验收", "accepted": "已验收"}
CONFIRMED_STEPS = ("party_acceptance",)  # a case waiting here has had its grade confirmed

log = logging.getLogger(__name__)


def day(value: Any) -> str:
    """A date or ISO date/datetime as YYYY-MM-DD in Beijing time ("" when absent)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(BEIJING).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if len(text) > 10:
        try:
            return day(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text[:10]
    return text


def case_data(instance: Instance) -> dict[str, Any]:
    """The case's data; {} (and a log line) for a state that cannot be restored, so one broken case
    does not take down every page that lists it."""
    try:
        return restore_case(instance).data
    except Exception:  # noqa: BLE001 - any failure to restore: show the rest of the page
        log.exception("case %s: state could not be restored", instance.id)
        return {}


# -- 推优入党: the record, the 推荐表 and the meeting record ----------------------------------------------------
def objectors(instance: Instance) -> list[str]:
    """Who sent each objection, in order (from the audit trail: the case data does not keep them)."""
    events = [e for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "message_received")
        .order_by(AuditEvent.at, AuditEvent.id)) if e.details.get("message") == "objection"]
    ids = {e.actor_id for e in events if e.actor_id}
    names = {uid: (pname or uname) for uid, uname, pname in db.session.execute(
        select(User.id, User.username, Person.name).outerjoin(Person, Person.id == User.person_id)
        .where(User.id.in_(ids)))} if ids else {}
    return [names.get(e.actor_id, "—") if e.actor_id else "—" for e in events]


def _person_particulars(person: Person | None, data: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    birth = (person.birth_date.isoformat() if person and person.birth_date else data.get("birth_date") or "")
    gender = (person.gender if person else None) or form.get("gender") or data.get("gender") or ""
    return {
        "name": (person.name if person else None) or form.get("name") or data.get("candidate_name") or "",
        "id": person.id if person else "",
        "gender": GENDERS.get(gender, gender),
        "birth_month": form.get("birth_month") or birth[:7],
        "league_joined": day(form.get("league_joined") or data.get("league_joined")),
        "league_post": form.get("league_post") or data.get("league_post") or "",
        "party_applied": day(form.get("party_applied") or data.get("party_applied")),
        "id_number": mask_id_number(person.id_number) if person else None,
        "phone": mask_phone(person.phone) if person else None,
    }


def _meeting_view(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    entitled, yes = int(record.get("entitled") or 0), int(record.get("yes") or 0)
    return {**{k: record.get(k) for k in ("entitled", "present", "yes", "no", "abstain", "ballots_issued",
                                           "ballots_collected")},
            "meeting_date": day(record.get("meeting_date")), "notes": mask_free_text(record.get("notes") or ""),
            "result": MEETING_RESULTS.get(record.get("result") or "", record.get("result") or ""),
            "pass_rate": f"{yes / entitled:.1%}" if entitled else "—"}


def recommendation_record(instance: Instance, *, show_objectors: bool = False,
                          data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything restricted a recommendation case holds, in words: the meeting(s), the opinions, the
    notice and its objections (the objector only with show_objectors), the reviews and the decision."""
    data = case_data(instance) if data is None else data
    form = data.get("recommendation_form") or {}
    person = db.session.get(Person, instance.subject) if instance.subject_kind == "person" else None
    meetings = [_meeting_view(m) for m in data.get("meetings") or []]
    passed = next((m for m in reversed(data.get("meetings") or []) if m.get("result") == "passed"), None)
    senders = objectors(instance) if show_objectors else []
    objections = []
    for index, item in enumerate(data.get("objections") or []):
        upheld = item.get("upheld")
        objections.append({
            "reason": mask_free_text(item.get("reason") or ""), "received": day(item.get("received_at")),
            "finding": mask_free_text(item.get("finding") or ""),
            "upheld": None if upheld is None else ("成立" if upheld else "不成立"),
            "objector": senders[index] if index < len(senders) else None})
    review = data.get("general_branch_review") or {}
    decision = data.get("party_branch_decision") or {}
    approval = data.get("meeting_approval") or {}
    committee = data.get("committee_review") or {}
    unit = person.org_unit if person else None
    return {
        "instance_id": instance.id, "status": instance.status, "outcome": instance.outcome,
        "track": TRACKS.get(data.get("track") or "A", ""),
        "person": _person_particulars(person, data, form),
        "branch": data.get("branch_name") or (unit.name if unit else ""),
        "party_branch": (unit.paired_with.name if unit and unit.paired_with else data.get("paired_party_branch") or ""),
        "form_ready": bool(form),
        "recommended_on": day(form.get("recommended_on") or (passed or {}).get("meeting_date")),
        "meeting": _meeting_view(passed), "meetings": meetings,
        "meeting_approval": {"date": day(approval.get("meeting_date")), "time": approval.get("meeting_time") or "",
                             "place": approval.get("meeting_place") or "", "decided": day(approval.get("decided_at"))}
        if approval else None,
        "committee_review": {"decision": {"approve": "同意提交推优大会", "reject": "不同意"}.get(
            committee.get("decision") or "", committee.get("decision") or ""),
            "reason": mask_free_text(committee.get("reason") or ""),
            "counsellor_opinion": mask_free_text(committee.get("counsellor_opinion") or "")} if committee else None,
        "committee_opinion": mask_free_text((data.get("committee_opinion") or {}).get("opinion")
                                            if isinstance(data.get("committee_opinion"), dict) else ""),
        "branch_opinion": mask_free_text(form.get("branch_opinion") or ""),
        "publicity": {"from": day(data.get("publicity_started")), "until": day(data.get("publicity_ends")),
                      "ended": day(data.get("publicity_ended"))} if data.get("publicity_started") else None,
        "objections": objections,
        "general_branch_review": {
            "decision": REVIEW_DECISIONS.get(review.get("decision") or "", review.get("decision") or ""),
            "comment": mask_free_text(form.get("general_branch_opinion") or review.get("comment") or ""),
            "date": day(review.get("reviewed_at") or form.get("general_branch_date"))} if review else None,
        "handover": day((data.get("handover") or {}).get("at")),
        "party_branch_decision": {
            "decision": PARTY_DECISIONS.get(decision.get("decision") or "", decision.get("decision") or ""),
            "reason": mask_free_text(decision.get("reason") or ""), "contacts": _contact_names(decision.get("contacts")),
            "date": day(decision.get("decided_at"))} if decision else None,
    }


def _contact_names(ids: Sequence[str] | None) -> list[str]:
    wanted = [str(i) for i in ids or []]
    if not wanted:
        return []
    names = dict(db.session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).all())
    return [names.get(i, i) for i in wanted]


# -- the annual assessment: 考核结果汇总表 -------------------------------------------------------------------
def _score(value: Any) -> float | None:
    return round(float(value), 2) if isinstance(value, int | float) and not isinstance(value, bool) else None


def assessment_rows(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per branch from the campaign progress rows (service.campaigns.operations)."""
    rows = []
    for item in items:
        grade = item.get("grade") or (item.get("outcome") if item.get("status") == "completed" else None)
        confirmed = item.get("status") == "completed" or any(t in CONFIRMED_STEPS for t in item.get("ready_tasks") or [])
        rows.append({"branch": item.get("name") or item.get("subject"), "code": item.get("subject"),
                     "self_score": _score(item.get("self_total")), "review_mean": _score(item.get("review_mean")),
                     "grade": item.get("grade_title") or GRADE_TITLES.get(grade or "", grade or ""),
                     "confirmed": "是" if confirmed else "否", "instance_id": item.get("instance_id")})
    return rows


# -- rectification: 整改台账 ------------------------------------------------------------------------------------
def _evidence_counts(data: Mapping[str, Any], count: int) -> list[int]:
    """Per problem: the progress reports that marked it done with evidence, and completion reports
    with evidence once it is done."""
    counts = [0] * count
    for report in data.get("reports") or []:
        if report.get("evidence"):
            for index in report.get("done") or []:
                if isinstance(index, int) and 0 <= index < count:
                    counts[index] += 1
    status = data.get("problem_status") or []
    for completion in data.get("completions") or []:
        if completion.get("evidence"):
            for index in range(count):
                if index < len(status) and status[index] in ("done", "accepted"):
                    counts[index] += 1
    return counts


def ledger_rows(instances: Sequence[Instance]) -> list[dict[str, Any]]:
    """One row per problem of each rectification case."""
    codes = {i.subject for i in instances}
    names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes))).all()) \
        if codes else {}
    rows = []
    for instance in instances:
        data = case_data(instance)
        problems = data.get("problems") or []
        status = data.get("problem_status") or []
        measures: dict[int, list[Mapping[str, Any]]] = {}
        for measure in data.get("measures") or []:
            if isinstance(measure, Mapping) and isinstance(measure.get("problem"), int):
                measures.setdefault(measure["problem"], []).append(measure)
        evidence = _evidence_counts(data, len(problems))
        for index, problem in enumerate(problems):
            own = measures.get(index, [])
            state = status[index] if index < len(status) else "open"
            title = problem.get("title") if isinstance(problem, Mapping) else str(problem)
            rows.append({
                "branch": names.get(instance.subject, instance.subject), "code": instance.subject,
                "instance_id": instance.id, "number": index + 1, "problem": mask_free_text(title or ""),
                "measure": mask_free_text("；".join(str(m.get("measure") or "") for m in own)),
                "deadline": "；".join(day(m.get("deadline")) for m in own if m.get("deadline"))
                or day(data.get("deadline")),
                "responsible": mask_free_text("；".join(str(m.get("owner") or "") for m in own)
                                              or str(data.get("responsible") or "")),
                "status": PROBLEM_STATUS.get(state, state), "evidence": evidence[index],
                "accepted": "是" if state == "accepted" else "否",
            })
    return rows


def rectification_cases(condition: Any, unit: str | None = None) -> list[Instance]:
    stmt = select(Instance).where(Instance.process_key == "rectification", condition)
    if unit:
        stmt = stmt.where(Instance.subject_unit == unit)
    return list(db.session.scalars(stmt.order_by(Instance.subject, Instance.started_at, Instance.id)))

