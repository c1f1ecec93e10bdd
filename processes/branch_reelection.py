"""团支部/团总支换届 — the re-election of a League branch or of the League general branch
(domain.md, Supporting procedures).

One case per unit and term. The case is started ahead of time — by the general branch's yearly
campaign (service/campaigns, one case per League branch) or by hand for one unit (the general
branch for a branch, the Party general branch for the general branch) — and first waits at a timer
until `reminder_days_before` days before the term ends (last re-election, else the founding date,
plus `term_years` for the unit's kind). Then the branch secretary is offered the written request
(换届请示), which the paired Party branch and the general branch approve in parallel (either may
return it); the candidate list must have more candidates than seats (差额) and is approved by the
general branch; the election record is checked (ballots, ≥ 4/5 present, elected with yes > half of
those present, further rounds for seats left over); the results are reported within a week (late:
escalated to the general branch secretary) and approved, and the roster is updated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from service.pack import ProcessDefinition, now

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
NO_POST = "无"

POLICIES: dict[str, Any] = {
    "term_years": {"league_branch": 1, "league_general_branch": 3},  # term length by unit kind
    "reminder_days_before": 30,  # the request is offered this many days before the term ends
    "quorum": [4, 5],  # present >= 4/5 of the entitled members
    "report_days": 7,  # results reported within this many days of the election
    "report_grace_days": 3,  # after an escalation the branch gets this many more days
    "max_rounds": 2,  # election rounds for seats left over; then the vacancies await a by-election
    "campaign_unit_kind": "league_branch",  # the general branch's yearly campaign starts a case per League branch
    "campaign_skip_running": True,  # ... except where the unit's previous case is still open (one case per term)
}

#: lane of the BPMN -> the role for a general branch's own re-election (the BPMN draws a League branch)
GENERAL_BRANCH_LANES = {
    "league_branch_secretary": "league_general_branch_secretary",
    "party_branch_secretary": "party_general_branch_secretary",
    "league_general_branch_secretary": "party_general_branch_secretary",
}


# -- the term -------------------------------------------------------------------------------------------------
def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def term_years_for(unit_kind: str | None, term_years: Mapping[str, Any]) -> int:
    if unit_kind not in term_years:
        raise ValueError(f"换届流程只适用于团支部或团总支，不适用于 {unit_kind} / "
                         f"re-election is for League branches and the general branch, not {unit_kind}")
    return int(term_years[unit_kind])


def term_end(last_reelection: str | None, founded: str | None, years: int) -> str:
    """The day the current term ends: the last re-election (else the founding) plus the term."""
    start = last_reelection or founded
    if not start:
        return now().astimezone(BEIJING).date().isoformat()  # no date known: the term is due now
    return add_years(_day(start), years).isoformat()


def reminder_moment(term_end_day: str, days_before: int) -> str:
    """The start of the day `days_before` days before the term ends, Beijing time (past: due at once)."""
    day = _day(term_end_day) - timedelta(days=int(days_before))
    return datetime.combine(day, time(0, 0), BEIJING).isoformat()


def end_of_day(day: str | date, plus_days: int = 0) -> str:
    """The last second of a day (plus some days), Beijing time, as ISO 8601."""
    target = _day(day) + timedelta(days=int(plus_days))
    return datetime.combine(target, time(23, 59, 59), BEIJING).isoformat()


def later_of(moment: str, days_from_now: int) -> str:
    """A new due moment: the end of the day `days_from_now` days from now (Beijing), never before `moment`."""
    today = now().astimezone(BEIJING).date()
    candidate = end_of_day(today, days_from_now)
    return max(candidate, moment, key=datetime.fromisoformat)


# -- the candidate list ---------------------------------------------------------------------------------------
def check_candidates(candidates: Sequence[Mapping[str, Any]] | None, seats: int) -> list[dict[str, str]]:
    """Problems of a candidate list: more candidates than seats (差额), each person once."""
    candidates = list(candidates or [])
    problems = []
    ids = [str(c.get("person") or "").strip() for c in candidates]
    if len(candidates) <= int(seats):
        problems.append({"field": "candidates", "message": f"差额选举：候选人 {len(candidates)} 人，须多于应选 {seats} 人"
                                                          f" / more candidates than the {seats} seats are required"})
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append({"field": "candidates", "message": f"候选人重复：{'、'.join(duplicates)} / listed twice"})
    return problems


# -- the election ----------------------------------------------------------------------------------------------
def quorum_met(present: int, entitled: int, quorum: Sequence[int]) -> bool:
    """present >= num/den of the entitled (default 4/5), in integers: 16 of 20 is enough, 15 is not."""
    num, den = int(quorum[0]), int(quorum[1])
    return entitled > 0 and present * den >= num * entitled


def check_election(record: Mapping[str, Any], round_candidates: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Integrity of an election record; one {"field", "message"} per problem (empty: the record holds)."""
    n, p = record.get("entitled", 0), record.get("present", 0)
    issued, collected = record.get("ballots_issued", 0), record.get("ballots_collected", 0)
    problems = []
    if p > n:
        problems.append({"field": "present", "message": f"实到 {p} 人超过应到 {n} 人 / more present than entitled"})
    if issued > p:
        problems.append({"field": "ballots_issued", "message": f"发出选票 {issued} 张多于实到 {p} 人 / more ballots than present"})
    if collected > issued:
        problems.append({"field": "ballots_collected",
                         "message": f"收回选票 {collected} 张多于发出选票 {issued} 张 / more ballots collected than issued"})
    expected = {str(c["person"]) for c in round_candidates}
    given = [str(v.get("person")) for v in record.get("votes") or []]
    if sorted(given) != sorted(expected):
        problems.append({"field": "votes", "message": "须为本轮每位候选人各填一行得票数 / one line of votes per candidate of this round"})
    for vote in record.get("votes") or []:
        if int(vote.get("yes", 0)) > collected:
            problems.append({"field": "votes", "message": f"{vote.get('person')} 得票 {vote.get('yes')} 多于收回选票 {collected} 张"
                                                          " / more votes than ballots collected"})
    return problems


def elected_in_round(votes: Sequence[Mapping[str, Any]], present: int, seats: int) -> list[str]:
    """Person ids elected: yes > half of those present, most votes first, at most `seats`; candidates tied
    for the last seat are all left for the next round."""
    passing = sorted((v for v in votes if int(v.get("yes", 0)) * 2 > present), key=lambda v: -int(v["yes"]))
    if len(passing) <= seats:
        return [str(v["person"]) for v in passing]
    cut = int(passing[seats - 1]["yes"]) if seats > 0 else None
    if seats > 0 and int(passing[seats]["yes"]) == cut:
        return [str(v["person"]) for v in passing if int(v["yes"]) > cut]
    return [str(v["person"]) for v in passing[:seats]]


def count_round(state: Mapping[str, Any], record: Mapping[str, Any], policies: Mapping[str, Any]) -> dict[str, Any]:
    """The result of one checked election record, merged into the election state:
    result ∈ invalid | reschedule | next_round | done."""
    errors = check_election(record, state["round_candidates"])
    new = dict(state)
    new["errors"] = errors
    if errors:
        new["result"] = "invalid"
        return new
    present, entitled = int(record["present"]), int(record["entitled"])
    tally = {"round": state["round"], "date": record.get("election_date"), "entitled": entitled, "present": present,
             "ballots_issued": record["ballots_issued"], "ballots_collected": record["ballots_collected"],
             "votes": {str(v["person"]): int(v["yes"]) for v in record.get("votes") or []}}
    if not quorum_met(present, entitled, policies.get("quorum") or POLICIES["quorum"]):
        tally["result"] = "quorum_not_met"
        new["tallies"] = [*state["tallies"], tally]
        new["reschedules"] = state["reschedules"] + 1
        new["result"] = "reschedule"
        return new
    remaining = state["seats"] - len(state["elected"])
    won = elected_in_round(record.get("votes") or [], present, remaining)
    tally["elected"] = won
    tally["result"] = "counted"
    new["tallies"] = [*state["tallies"], tally]
    new["elected"] = [*state["elected"], *won]
    new["election_date"] = record.get("election_date")
    rest = [c for c in state["round_candidates"] if str(c["person"]) not in won]
    left = state["seats"] - len(new["elected"])
    if left > 0 and state["round"] < int(policies.get("max_rounds") or 1) and rest:
        new["round"] = state["round"] + 1
        new["round_candidates"] = rest
        new["result"] = "next_round"
    else:
        new["vacancies"] = left
        new["result"] = "done"
    return new


def start_election(candidates: Sequence[Mapping[str, Any]], seats: int) -> dict[str, Any]:
    return {"round": 1, "seats": int(seats), "round_candidates": list(candidates), "elected": [], "tallies": [],
            "errors": [], "reschedules": 0, "vacancies": 0, "result": None, "election_date": None}


def committee(candidates: Sequence[Mapping[str, Any]], elected: Sequence[str]) -> list[dict[str, Any]]:
    """The new committee: the elected candidates with their posts, in the list's order."""
    chosen = set(elected)
    return [{"person": str(c["person"]), "name": c.get("name"), "post": c.get("post")}
            for c in candidates if str(c["person"]) in chosen]


def describe_members(members: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """One line per person for a read-only list in a form: "2023010101 张三：书记"."""
    return [f"{m.get('person')} {m.get('name') or ''}：{m.get('post') or ''}".replace(" ：", "：")
            for m in members or []]


# -- the pack ---------------------------------------------------------------------------------------------------
def resolve_lane(lane: str, unit_kind: str | None, data: Mapping[str, Any]) -> str:
    """The BPMN draws a League branch; for the general branch's own re-election its secretary files the
    request and the Party general branch approves (the school's League committee is outside the system)."""
    if unit_kind == "league_general_branch":
        return GENERAL_BRANCH_LANES.get(lane, lane)
    return lane


def initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"unit_name": facts.get("name"), "unit_kind": facts.get("kind"), "founded": facts.get("founded"),
            "last_reelection": facts.get("last_reelection"), "league_members": facts.get("league_members"),
            "officers": list(facts.get("officers") or [])}


def on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome != "reelected":
        return []
    elected = list(data.get("new_committee") or [])
    keep = {m["person"] for m in elected}
    effects: list[dict[str, Any]] = [
        {"kind": "set_person", "person": officer["id"], "values": {"league_post": NO_POST}}
        for officer in facts.get("officers") or [] if officer["id"] not in keep]
    effects += [{"kind": "set_person", "person": m["person"], "values": {"league_post": m["post"] or NO_POST}}
                for m in elected]
    election_date = data.get("election", {}).get("election_date")
    effects.append({"kind": "set_unit", "values": {"last_reelection": election_date}})
    effects.append({"kind": "record", "record": "reelection", "year": int(str(election_date)[:4]), "data": {
        "election_date": election_date, "elected": elected, "posts": {m["person"]: m["post"] for m in elected},
        "seats": data.get("seats"), "vacancies": data.get("election", {}).get("vacancies", 0),
        "tallies": data.get("election", {}).get("tallies", []),
        "previous_officers": list(facts.get("officers") or []),
    }})
    return effects


START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "year": {"type": ["integer", "null"]},
        "deadline": {"type": ["string", "null"], "format": "date"},
        "campaign_id": {"type": ["integer", "null"]},
    },
}

DEFINITION = ProcessDefinition(
    key="branch_reelection",
    title="团支部换届",
    title_en="League branch re-election",
    subject_kind="org_unit",
    milestones={
        "term_reminder": "任期内，等待届满提醒",
        "request": "待提交换届请示",
        "party_approval": "换届请示待审批",
        "general_approval": "换届请示待审批",
        "candidates": "待提交候选人名单",
        "candidates_review": "候选人名单待团总支审批",
        "election_record": "待召开选举大会并录入结果",
        "report": "待上报选举结果（一周内）",
        "report_overdue": "选举结果逾期未报，团总支督办",
        "results_review": "选举结果待团总支审批",
    },
    functions={
        "term_years_for": term_years_for,
        "term_end": term_end,
        "reminder_moment": reminder_moment,
        "end_of_day": end_of_day,
        "later_of": later_of,
        "check_candidates": check_candidates,
        "start_election": start_election,
        "count_round": count_round,
        "committee": committee,
        "describe_members": describe_members,
    },
    policies=POLICIES,
    start_roles=("league_general_branch_secretary", "party_general_branch_secretary", "league_branch_secretary"),
    resolve_lane=resolve_lane,
    start_defaults={"year": None, "deadline": None, "campaign_id": None},
    start_schema=START_SCHEMA,
    initial_data=initial_data,
    on_complete=on_complete,
)
