"""推优入党: the League branch recommends a member to the Party (domain.md, Process 1).

The BPMN is bpmn/recommendation.bpmn; eligibility is the decision table
bpmn/recommendation_eligibility.dmn. Track A (default) recommends a Party applicant as an
activist (入党积极分子); track B (start data `track: "B"`) recommends an activist as a
development candidate (发展对象) and needs `training_certificate` and `activist_since`: the
certificate is read from the person's records (a valid `training_certificate` left by a
party_training class), never taken from the start request; `activist_since` from an `activist`
record or the roster when they have it (see track_b_facts).

Start data a case may carry besides the subject's facts: `track`, `round_recommended` (members of
the branch already recommended in this round, for the quota), `on_behalf` (true: the branch
secretary files the application instead of the member), `activist_since`, `training_certificate`.

Separation of duty: the service never offers a person a task of their own case outside the
member lane, so a candidate cannot review, record or approve their own recommendation. When the
candidate is the branch secretary (League post 书记), the meeting record goes to the branch
committee instead (resolve_lane below), so another committee member records the meeting.

The public notice (公示) is a receive task for the message `objection` with an interrupting
timer at `publicity_ends` (end of the 5th working day, processes/calendar.py). An objection goes
to the general branch; a dismissed one returns to the same notice with the same end (the notice
is not restarted), or straight on to the review once that end has passed. A second objection
while one is being investigated is refused by the service (409) and has to be raised again.

The functions below are what the process's scripts and decision table may call; they are pure
(no database), and take and return JSON values (ISO strings for dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from service.pack import ProcessDefinition, now

from .calendar import BEIJING, add_working_days, calendar_warnings, to_beijing

KEY = "recommendation"

QUORUM_RULES = {
    # rule -> (numerator, denominator, strict): present * den > num * entitled, or >= when not strict
    "more_than_half": (1, 2, True),
    "two_thirds": (2, 3, True),
    "four_fifths": (4, 5, False),
}
PASS_RULES = ("more_than_half_of_entitled", "more_than_half_of_present")
SECRETARY_POSTS = {"书记", "团支部书记"}

POLICIES: dict[str, Any] = {
    "quorum_rule": "more_than_half",  # 实到 > 应到的一半; or two_thirds (> 2/3), four_fifths (>= 4/5)
    "pass_rule": "more_than_half_of_entitled",  # 赞成 > 应到的一半
    "publicity_working_days": 5,
    "quota_percent": 20,  # recommended per round <= 20 % of the branch's members
    "min_league_years": 1,
    "min_application_months": 6,
    "league_age_limit": 28,
    "min_age": 18,
    "min_activist_years": 1,  # track B
    "require_no_failed_course": True,  # a local rule: no failed course last semester
    "max_reschedules": 2,  # quorum missed more often than this ends the case (quorum_not_met)
    "expiry_years": 2,
    "holiday_overrides": {},  # {"2027-01-01": "holiday", "2027-02-14": "workday"}
}


# -- time ------------------------------------------------------------------------------------------------
def now_iso() -> str:
    """The service clock as an ISO datetime (UTC)."""
    return now().isoformat()


def today_iso() -> str:
    """Today's date in Beijing."""
    return now().astimezone(BEIJING).date().isoformat()


def is_past(moment_iso: str) -> bool:
    return to_beijing(moment_iso) <= now()


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def full_years(start_iso: str, on_iso: str) -> int:
    """Whole years from start to on (an age, a League standing)."""
    start, on = _day(start_iso), _day(on_iso)
    return on.year - start.year - ((on.month, on.day) < (start.month, start.day))


def full_months(start_iso: str, on_iso: str) -> int:
    """Whole months from start to on (2024-10-10 -> 2025-04-10 is 6)."""
    start, on = _day(start_iso), _day(on_iso)
    return (on.year - start.year) * 12 + on.month - start.month - (on.day < start.day)


# -- the meeting ----------------------------------------------------------------------------------------
def quorum_met(present: int, entitled: int, rule: str = "more_than_half") -> bool:
    """Quorum of the branch general meeting (推优大会), in whole numbers: no rounding surprises."""
    if rule not in QUORUM_RULES:
        raise ValueError(f"unknown quorum rule {rule!r}; expected one of {sorted(QUORUM_RULES)}")
    num, den, strict = QUORUM_RULES[rule]
    if entitled <= 0:
        return False
    return present * den > num * entitled if strict else present * den >= num * entitled


def passed(yes: int, entitled: int, rule: str = "more_than_half_of_entitled", present: int | None = None) -> bool:
    """Whether the vote recommends the candidate: by default yes > half of the *entitled* members."""
    if rule == "more_than_half_of_entitled":
        base = entitled
    elif rule == "more_than_half_of_present":
        base = entitled if present is None else present
    else:
        raise ValueError(f"unknown pass rule {rule!r}; expected one of {PASS_RULES}")
    return base > 0 and yes * 2 > base


def check_meeting_record(record: Mapping[str, Any], approved_date: str | None = None) -> list[dict[str, str]]:
    """Integrity of a meeting record; one {"field", "message"} per problem (empty: the record holds).

    Per-field bounds (integers >= 0) are in the form's JSON Schema; these rules compare fields."""
    n = record.get("entitled", 0)
    p = record.get("present", 0)
    votes = record.get("yes", 0) + record.get("no", 0) + record.get("abstain", 0)
    issued, collected = record.get("ballots_issued", 0), record.get("ballots_collected", 0)
    problems = []
    if p > n:
        problems.append({"field": "present", "message": f"实到人数 {p} 超过应到人数 {n} / more present than entitled"})
    if votes > p:
        problems.append({"field": "yes", "message": f"赞成、反对、弃权合计 {votes} 超过实到人数 {p} / more votes than members present"})
    if collected > issued:
        problems.append({"field": "ballots_collected",
                         "message": f"收回选票 {collected} 张多于发出选票 {issued} 张 / more ballots collected than issued"})
    if votes > collected:
        problems.append({"field": "abstain",
                         "message": f"计票合计 {votes} 超过收回选票 {collected} 张 / more votes counted than ballots collected"})
    if approved_date and record.get("meeting_date") and record["meeting_date"] != approved_date:
        problems.append({"field": "meeting_date",
                         "message": f"推优大会须在团总支批准并通知党支部的日期（{approved_date}）召开；未按期召开请按实到 0 人记录，以便重新安排"
                                    f" / the meeting must be held on the approved date {approved_date}"})
    return problems


# -- the quota ------------------------------------------------------------------------------------------------
def quota_limit(members: int, percent: int | float) -> int:
    """Most members a branch may recommend in one round (rounded down): 20 % of 32 members is 6."""
    return int(max(members, 0) * percent // 100)


def quota_allows(already_recommended: int, members: int, percent: int | float) -> bool:
    """Whether one more recommendation stays within the quota of the round."""
    return (already_recommended + 1) * 100 <= max(members, 0) * percent


# -- the recommendation form (推荐表) ----------------------------------------------------------------------------
def build_recommendation_form(candidate: Mapping[str, Any], meeting: Mapping[str, Any], branch_opinion: str,
                              general_branch_opinion: str) -> dict[str, Any]:
    """The printable 推荐表: the candidate's particulars, the vote and both opinions."""
    n, p, y = meeting.get("entitled", 0), meeting.get("present", 0), meeting.get("yes", 0)
    rate = f"{y / n:.1%}" if n else "-"
    return {
        "name": candidate.get("name"),
        "gender": candidate.get("gender"),
        "birth_month": (candidate.get("birth_date") or "")[:7],
        "class": candidate.get("class"),
        "league_joined": candidate.get("league_joined"),
        "league_post": candidate.get("league_post"),
        "party_applied": candidate.get("party_applied"),
        "track": candidate.get("track", "A"),
        "recommended_on": meeting.get("meeting_date"),
        "vote": {"entitled": n, "present": p, "yes": y, "pass_rate": rate},
        "branch_opinion": f"应到 {n} 人，实到 {p} 人，赞成 {y} 票，通过率 {y}/{n}（{rate}）。{branch_opinion or ''}",
        "general_branch_opinion": general_branch_opinion or "同意推荐",
        "general_branch_date": today_iso(),
    }


# -- the pack hooks ------------------------------------------------------------------------------------------------
def _valid_certificate(data: Mapping[str, Any], on: str) -> bool:
    """A Party-school certificate counts until its valid_until date (inclusive) unless revoked."""
    if not data.get("number") or data.get("revoked"):
        return False
    until = data.get("valid_until")
    return not until or str(until) >= on


def track_b_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Track B's preconditions from what the service knows, not from the start request.

    The certificate is the newest valid one the person holds (records written by party_training);
    with subject records present (the service always sends them) a certificate named in the start
    data counts for nothing. The date of becoming an activist comes from an `activist` record or the
    roster when either has it; otherwise the start data's `activist_since` stands."""
    found: dict[str, Any] = {}
    records = facts.get("records")
    if isinstance(records, Mapping):
        today = today_iso()
        valid = [r.get("data") or {} for r in records.get("training_certificate") or []
                 if _valid_certificate(r.get("data") or {}, today)]
        found["training_certificate"] = valid[0]["number"] if valid else None
        found["training_certificate_record"] = dict(valid[0]) if valid else None
        activist = [r for r in records.get("activist") or [] if (r.get("data") or {}).get("since")]
        if activist:
            found["activist_since"] = activist[0]["data"]["since"]
    if facts.get("activist_since"):
        found["activist_since"] = facts["activist_since"]
    return found


def initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The candidate's facts the eligibility rules need, and defaults for the optional start data."""
    unit = facts.get("unit") or {}
    return {
        **track_b_facts(facts),
        "candidate_name": facts.get("name"),
        "gender": facts.get("gender"),
        "birth_date": facts.get("birth_date"),
        "league_member": facts.get("league_member"),
        "league_joined": facts.get("league_joined"),
        "league_post": facts.get("league_post"),
        "party_applied": facts.get("party_applied"),
        "party_status": facts.get("party_status"),
        "org_unit": facts.get("org_unit"),
        "branch_name": unit.get("name"),
        "branch_members": unit.get("league_members", 0),
        "paired_party_branch": unit.get("paired_with"),
        "candidate_is_secretary": facts.get("league_post") in SECRETARY_POSTS,
        "outcome": None,
    }


#: what a start request may carry
START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "track": {"enum": ["A", "B"]},
        "round_recommended": {"type": "integer", "minimum": 0, "maximum": 1000},
        "on_behalf": {"type": "boolean"},
        "activist_since": {"type": ["string", "null"], "format": "date"},
        "training_certificate": {"type": ["string", "null"], "maxLength": 100},
    },
}

#: optional start data (a start request may set each)
START_DEFAULTS = {"track": "A", "round_recommended": 0, "on_behalf": False, "activist_since": None,
                  "training_certificate": None}


def resolve_lane(lane: str, unit_kind: str | None, data: Mapping[str, Any]) -> str:
    """The secretary files for the member when asked to; a secretary-candidate's meeting is recorded
    by another committee member."""
    if lane == "member" and data.get("on_behalf"):
        return "league_branch_secretary"
    if lane == "league_branch_secretary" and data.get("candidate_is_secretary"):
        return "league_branch_committee"
    return lane


def on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome != "accepted":
        return []
    status = "development_candidate" if data.get("track") == "B" else "activist"
    return [{"kind": "set_person", "person": data.get("subject") or facts.get("id"), "values": {"party_status": status}}]


FUNCTIONS = {
    f.__name__: f
    for f in (now_iso, today_iso, is_past, full_years, full_months, add_working_days, calendar_warnings, quorum_met,
              passed, check_meeting_record, quota_limit, quota_allows, build_recommendation_form)
}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="推优入党",
    title_en="Recommending League members to the Party",
    subject_kind="person",
    milestones={
        "apply": "提交申请",
        "committee_review": "支委会审查",
        "meeting_approval": "团总支批准召开推优大会",
        "meeting_record": "推优大会",
        "committee_opinion": "支委会组织意见",
        "publicity_wait": "公示中",
        "investigate_objection": "异议调查",
        "general_branch_review": "团总支审核",
        "party_branch_decision": "党支部研究决定",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=("member", "league_branch_secretary", "league_branch_committee", "league_general_branch_secretary"),
    resolve_lane=resolve_lane,
    initial_data=initial_data,
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    on_complete=on_complete,
)
