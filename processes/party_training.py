"""党建知识培训 / 党校培训班: one Party-school class, run by the Party general branch (domain.md,
Supporting procedures). The BPMN is bpmn/party_training.bpmn.

One case is one class; its subject is the Party general branch that runs it, and its participants
are a list in the case's data, so the general branch handles the class in a few tasks (one table per
session, one table of scores) instead of one task per person.

1. `open_class`: name, code, dates, sessions (date + hours), capacity, application deadline.
   Every activist (入党积极分子) of the college without a valid certificate is enrolled at once
   (the roster is read when the case starts: an accepted 推优 makes the person an activist), up to
   the capacity; the rest are listed as not enrolled.
2. Applications until the deadline (a receive task for the message `training_application` with a
   timer at the end of the deadline day): anyone in the college sends `{"person", "statement"}`;
   the service adds `sent_by` (the account), which the reviewer sees next to the person.
3. `review_applications` (after the deadline): approve / reject each; approvals beyond the
   remaining places are refused as over capacity, in the order the applications came in.
4. `record_attendance` once per session: the hours each participant attended.
5. `record_exam`: exam and reflection scores; the results follow from the policies:
   grade = exam 70 % + reflection 20 % + attendance 10 % (`grade_weights`), attendance score =
   attended / total hours x 100; missing more than `max_absence_ratio` (1/4) of the hours means no
   certificate whatever the grade; a grade below `pass_mark` fails.
6. `confirm_results`: the general branch confirms (or returns to the scores); the certificates are
   then numbered and, when the case ends, recorded on each person (record `training_certificate`),
   where 推优 track B reads them.

The functions are what the scripts may call; they are pure (JSON in, JSON out) except
`roster_activists`, which the start hook uses to read the roster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from service.pack import ProcessDefinition, now

from .calendar import BEIJING

KEY = "party_training"
LANE = "party_general_branch_secretary"
END_OF_DAY = time(23, 59, 59)

POLICIES: dict[str, Any] = {
    "grade_weights": {"exam": 0.7, "reflection": 0.2, "attendance": 0.1},
    "max_absence_ratio": 0.25,  # missing more than a quarter of the hours: no certificate
    "pass_mark": 60,
    "certificate_valid_years": 3,  # 推优 track B accepts a certificate this long
    "results_due_days": 14,  # the general branch is reminded when the scores are not in this long after the class
    "max_applications": 200,  # the application window closes early once this many have come in
    "certificate_prefix": "党校",
}

RESULT_TITLES = {"certified": "结业（颁发证书）", "failed": "未达合格分数", "absent": "缺课超过规定比例"}


# -- time ------------------------------------------------------------------------------------------------
def now_iso() -> str:
    """The service clock as an ISO datetime (UTC)."""
    return now().isoformat()


def today_iso() -> str:
    """Today's date in Beijing."""
    return now().astimezone(BEIJING).date().isoformat()


def end_of_day(day: str) -> str:
    """The moment a date ends in Beijing (a deadline 'until 2026-12-10' passes at 23:59:59 that day)."""
    return datetime.combine(date.fromisoformat(day[:10]), END_OF_DAY, tzinfo=BEIJING).isoformat()


def days_after(day: str, days: int) -> str:
    """The end of the day `days` days after `day` (Beijing)."""
    return end_of_day((date.fromisoformat(day[:10]) + timedelta(days=int(days))).isoformat())


def is_past(moment: str) -> bool:
    return datetime.fromisoformat(moment) <= now()


# -- the class ---------------------------------------------------------------------------------------------
def class_hours(sessions: Sequence[Mapping[str, Any]]) -> float:
    return round(sum(float(s.get("hours") or 0) for s in sessions), 2)


def check_class(start_date: str, end_date: str, sessions: Sequence[Mapping[str, Any]],
                application_deadline: str) -> list[dict[str, str]]:
    """Rules across the fields of the class form; one {"field", "message"} per problem."""
    problems = []
    if end_date < start_date:
        problems.append({"field": "end_date", "message": "结束日期早于开始日期 / the class ends before it starts"})
    outside = [s["date"] for s in sessions if not start_date <= s["date"] <= end_date]
    if outside:
        problems.append({"field": "sessions", "message": f"课次日期 {'、'.join(outside)} 不在培训期内"
                                                          " / sessions outside the class dates"})
    if application_deadline > start_date:
        problems.append({"field": "application_deadline",
                         "message": "报名截止日期须不晚于开班日期 / applications must close before the class starts"})
    return problems


def person_entry(person: Mapping[str, Any], via: str) -> dict[str, Any]:
    return {"person": str(person.get("person") or person.get("id")), "name": person.get("name") or "",
            "unit": person.get("unit") or "", "via": via}


def enrol_activists(activists: Sequence[Mapping[str, Any]], capacity: int) -> dict[str, list[dict[str, Any]]]:
    """{"participants", "not_enrolled"}: the activists in roster order, up to the capacity."""
    entries = [person_entry(a, "automatic") for a in activists]
    return {"participants": entries[:capacity],
            "not_enrolled": [dict(e, reason="名额已满 / over capacity") for e in entries[capacity:]]}


def places_left(participants: Sequence[Mapping[str, Any]], capacity: int) -> int:
    return max(int(capacity) - len(participants), 0)


def queue_application(applications: Sequence[Mapping[str, Any]], participants: Sequence[Mapping[str, Any]],
                      application: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The applications with this one added; a person already enrolled or already applying is noted as such."""
    application = dict(application or {})
    person = str(application.get("person") or "").strip()[:32]
    entry = {"person": person, "name": str(application.get("name") or "")[:100],
             "statement": str(application.get("statement") or "")[:2000],
             "sent_by": application.get("sent_by"), "received_at": now_iso(), "status": "pending"}
    if not person:
        entry["status"], entry["reason"] = "invalid", "未填写人员编号 / no person id"
    elif any(p["person"] == person for p in participants):
        entry["status"], entry["reason"] = "duplicate", "已在本期培训名单中 / already enrolled"
    elif any(a["person"] == person and a["status"] == "pending" for a in applications):
        entry["status"], entry["reason"] = "duplicate", "已提交过申请 / already applied"
    return [*applications, entry]


def window_full(applications: Sequence[Mapping[str, Any]], limit: int) -> bool:
    """Whether the application window closes early: this many applications have come in."""
    return len(applications) >= int(limit)


def pending_applications(applications: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(a) for a in applications if a.get("status") == "pending"]


def application_sheet(applications: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The review form's rows: one per pending application, approve by default."""
    return [{"person": a["person"], "name": a.get("name") or "", "sent_by": a.get("sent_by") or "",
             "statement": a.get("statement") or "", "decision": "approve", "reason": ""}
            for a in pending_applications(applications)]


def decide_applications(participants: Sequence[Mapping[str, Any]], applications: Sequence[Mapping[str, Any]],
                        decisions: Sequence[Mapping[str, Any]], capacity: int) -> dict[str, list[dict[str, Any]]]:
    """{"participants", "applications"} after the review. Approvals are taken in the order the applications
    came in while places are left; later ones are refused as over capacity. A pending application the
    review does not mention is rejected (the window has closed)."""
    by_person = {str(d.get("person")): d for d in decisions}
    enrolled = [dict(p) for p in participants]
    decided = []
    for application in applications:
        entry = dict(application)
        if entry.get("status") == "pending":
            decision = by_person.get(entry["person"]) or {}
            if decision.get("decision") == "approve" and places_left(enrolled, capacity) > 0:
                entry["status"] = "approved"
                enrolled.append(person_entry(entry, "application"))
            elif decision.get("decision") == "approve":
                entry["status"], entry["reason"] = "over_capacity", "名额已满 / over capacity"
            else:
                entry["status"] = "rejected"
                entry["reason"] = decision.get("reason") or "未获批准 / not approved"
        decided.append(entry)
    return {"participants": enrolled, "applications": decided}


# -- attendance ------------------------------------------------------------------------------------------------
def attendance_sheet(participants: Sequence[Mapping[str, Any]], session: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attendance form of one session: everyone present for the whole session until changed."""
    return [{"person": p["person"], "name": p.get("name") or "", "hours": session.get("hours") or 0}
            for p in participants]


def attendance_record(session: Mapping[str, Any], attendance: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One session's attendance, each person's hours capped at the session's length."""
    length = float(session.get("hours") or 0)
    hours = {str(row["person"]): min(max(float(row.get("hours") or 0), 0.0), length) for row in attendance}
    return {"date": session.get("date"), "topic": session.get("topic") or "", "hours": length, "attended": hours}


def attended_hours(records: Sequence[Mapping[str, Any]], person: str) -> float:
    return round(sum(float((r.get("attended") or {}).get(person, 0)) for r in records), 2)


# -- results ---------------------------------------------------------------------------------------------------
def score_sheet(participants: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]],
                total_hours: float, previous: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The exam form: one row per participant, with the hours attended for reference, and the scores
    entered before when the results come back for correction."""
    before = {str(s.get("person")): s for s in previous or []}
    return [{"person": p["person"], "name": p.get("name") or "", "attended_hours": attended_hours(records, p["person"]),
             "total_hours": total_hours, "exam": (before.get(p["person"]) or {}).get("exam"),
             "reflection": (before.get(p["person"]) or {}).get("reflection")} for p in participants]


def results_overview(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per participant for the confirmation form."""
    return [f"{r['name']}（{r['person']}）：考勤 {r['attended_hours']:g}/{r['total_hours']:g} 学时，考试 {r['exam']:g}，"
            f"心得 {r['reflection']:g}，总评 {r['grade']:g} —— {r['result_title']}" for r in results]


def _weights(weights: Mapping[str, Any]) -> dict[str, float]:
    values = {k: float(weights.get(k) or 0) for k in ("exam", "reflection", "attendance")}
    total = sum(values.values())
    if total <= 0 or any(v < 0 for v in values.values()):
        raise ValueError(f"成绩权重无效 / invalid grade weights: {dict(weights)}")
    return {k: v / total for k, v in values.items()}  # weights that do not add up to 1 are scaled


def attendance_score(attended: float, total_hours: float) -> float:
    return round(min(attended / total_hours, 1.0) * 100, 2) if total_hours > 0 else 0.0


def grade(exam: float, reflection: float, attendance: float, weights: Mapping[str, Any]) -> float:
    """The weighted grade, to one decimal: exam 70 % + reflection 20 % + attendance 10 % by default."""
    w = _weights(weights)
    return round(exam * w["exam"] + reflection * w["reflection"] + attendance * w["attendance"] + 1e-9, 1)


def result_of(grade_value: float, absence_ratio: float, policies: Mapping[str, Any]) -> str:
    """certified, absent (missed more than the allowed share of hours) or failed (below the pass mark)."""
    if absence_ratio > float(policies.get("max_absence_ratio", 0.25)) + 1e-9:
        return "absent"
    return "certified" if grade_value >= float(policies.get("pass_mark", 60)) else "failed"


def training_results(participants: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]],
                     scores: Sequence[Mapping[str, Any]], total_hours: float,
                     policies: Mapping[str, Any]) -> list[dict[str, Any]]:
    by_person = {str(s["person"]): s for s in scores}
    results = []
    for p in participants:
        score = by_person.get(p["person"]) or {}
        attended = attended_hours(records, p["person"])
        att_score = attendance_score(attended, total_hours)
        exam, reflection = float(score.get("exam") or 0), float(score.get("reflection") or 0)
        value = grade(exam, reflection, att_score, policies.get("grade_weights") or POLICIES["grade_weights"])
        absence = round(1 - attended / total_hours, 4) if total_hours > 0 else 1.0
        result = result_of(value, absence, policies)
        results.append({"person": p["person"], "name": p.get("name") or "", "attended_hours": attended,
                        "total_hours": total_hours, "absence_ratio": absence, "attendance_score": att_score,
                        "exam": exam, "reflection": reflection, "grade": value, "result": result,
                        "result_title": RESULT_TITLES[result]})
    return results


def result_counts(results: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {key: 0 for key in RESULT_TITLES}
    for r in results:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    return counts


def issue_certificates(results: Sequence[Mapping[str, Any]], class_code: str, class_name: str,
                       issued: str, policies: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Numbered certificates for the certified participants: <prefix><class code>-<nnn>."""
    years = int(policies.get("certificate_valid_years") or 0)
    day = date.fromisoformat(issued)
    valid_until = _add_years(day, years).isoformat() if years > 0 else None
    prefix = str(policies.get("certificate_prefix") or "")
    certified = [r for r in results if r["result"] == "certified"]
    return [{"person": r["person"], "name": r["name"], "number": f"{prefix}{class_code}-{index:03d}",
             "class": class_name, "class_code": class_code, "grade": r["grade"], "hours": r["attended_hours"],
             "total_hours": r["total_hours"], "issued": issued, "valid_until": valid_until}
            for index, r in enumerate(certified, start=1)]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- the pack hooks ------------------------------------------------------------------------------------------------
def roster_activists(unit_code: str | None) -> list[dict[str, Any]]:
    """Activists of the college around `unit_code` (the general branch, its units and the units paired
    with them) who hold no valid training certificate: who a new class enrols automatically.

    The one hook that reads the roster itself (two queries): unit facts do not list people."""
    from sqlalchemy import select

    from service.extensions import db
    from service.instances.access import org_graph
    from service.org.models import OrgUnit, Person
    from service.records.models import SubjectRecord

    if not unit_code:
        return []
    units = sorted(org_graph().visible_units({unit_code}))
    people = list(db.session.execute(
        select(Person.id, Person.name, OrgUnit.code).join(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .where(OrgUnit.code.in_(units), Person.party_status == "activist").order_by(Person.id)))
    if not people:
        return []
    today = today_iso()
    certified = {subject for subject, data in db.session.execute(
        select(SubjectRecord.subject, SubjectRecord.data).where(
            SubjectRecord.subject_kind == "person", SubjectRecord.kind == "training_certificate",
            SubjectRecord.subject.in_([p[0] for p in people]))) if valid_certificate(data or {}, today)}
    return [{"person": pid, "name": name, "unit": code} for pid, name, code in people if pid not in certified]


def valid_certificate(data: Mapping[str, Any], on: str) -> bool:
    """A certificate counts until its valid_until date (inclusive) unless revoked."""
    if not data.get("number") or data.get("revoked"):
        return False
    until = data.get("valid_until")
    return not until or str(until) >= on


def initial_from(facts: Mapping[str, Any], activists: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"organiser": facts.get("code"), "organiser_name": facts.get("name"), "activists": list(activists),
            "participants": [], "not_enrolled": [], "applications": [], "attendance_records": [], "scores": [],
            "results": [], "session_index": 0,
            "certificates": [], "class_problems": [], "outcome": None}


def initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return initial_from(facts, roster_activists(facts.get("code")))


def calendar_items(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sessions still to be held once the class is open (the month calendar shows them)."""
    if data.get("total_hours") is None:
        return []
    done = int(data.get("session_index") or 0)
    return [{"date": str(s.get("date"))[:10], "kind": "training_session",
             "title": f"党校培训：{data.get('class_name') or ''} 第 {n} 次课（{s.get('hours')} 学时）"}
            for n, s in enumerate(data.get("sessions") or [], start=1) if n > done and isinstance(s, Mapping)]


START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "class_name": {"type": "string", "maxLength": 100},
        "class_code": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,20}$"},
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"},
        "capacity": {"type": "integer", "minimum": 1, "maximum": 500},
        "application_deadline": {"type": "string", "format": "date"},
        "sessions": {"type": "array", "maxItems": 30, "items": {
            "type": "object", "required": ["date", "hours"],
            "properties": {"date": {"type": "string", "format": "date"},
                           "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 12},
                           "topic": {"type": "string", "maxLength": 100}}}},
    },
}


def on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each certificate becomes a record on its holder (facts["records"]["training_certificate"])."""
    if outcome != "completed":
        return []
    effects = []
    for cert in data.get("certificates") or []:
        year = int(str(cert["issued"])[:4])
        effects.append({"kind": "record", "subject_kind": "person", "subject": cert["person"],
                        "record": "training_certificate", "year": year,
                        "data": {**{k: cert.get(k) for k in ("number", "class", "class_code", "grade", "hours",
                                                             "total_hours", "issued", "valid_until", "name")},
                                 "organiser": data.get("organiser_name")}})
    return effects


FUNCTIONS = {
    f.__name__: f
    for f in (now_iso, today_iso, end_of_day, days_after, is_past, class_hours, check_class, enrol_activists, places_left,
              queue_application, window_full, pending_applications, application_sheet, decide_applications, attendance_sheet,
              attendance_record, attended_hours, score_sheet, attendance_score, grade, result_of, training_results,
              result_counts, results_overview, issue_certificates)
}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="党建知识培训（党校培训班）",
    title_en="Party knowledge training (Party-school class)",
    subject_kind="org_unit",
    milestones={
        "open_class": "开班设置",
        "applications_open": "报名中",
        "review_applications": "审核报名",
        "record_attendance": "培训中（记录考勤）",
        "record_exam": "结业考试",
        "confirm_results": "确认成绩",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=(LANE,),
    initial_data=initial_data,
    start_schema=START_SCHEMA,
    on_complete=on_complete,
    calendar_items=calendar_items,
)
