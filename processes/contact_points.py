"""联系点安排 — the yearly assignment of contact points (domain.md, Supporting procedures: each leader has
1–2 contact League branches and visits each at least once a year).

Subject: the Party general branch. One case per year (start data `year`, default this year, Beijing). Its
secretary fills in a table — each leader (a username: a Party general branch or Party branch leader of
this general branch) with 1–2 League branch codes and an optional note; last year's table is offered
again. A script checks the table against the roster (the general branch's `structure` fact: its League
branches and its Party leaders) and the policies; any problem sends the form back with the problems
listed. When the table holds, the case ends: every (leader, branch) pair becomes a `contact_visit` case
about that branch, offered to that leader alone and due by 31 December of the year (overdue visits are
escalated to the Party general branch by contact_visit itself) — that is how each contact point gets its
yearly visit — and the table is recorded on the general branch as {"record": "contact_points"}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.pack import ProcessDefinition, now

from .calendar import BEIJING

KEY = "contact_points"
VISIT_PROCESS = "contact_visit"

POLICIES: dict[str, Any] = {
    "min_branches_per_leader": 1,
    "max_branches_per_leader": 2,
}

START_DEFAULTS: dict[str, Any] = {"year": None, "league_branches": None, "leaders": None}

START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"year": {"type": ["integer", "null"], "minimum": 2000, "maximum": 2100}},
    "additionalProperties": False,
}


def _this_year() -> int:
    return now().astimezone(BEIJING).year


def contact_year(year: int | None) -> int:
    """The year the contact points are for: the one given, else this year (Beijing)."""
    return int(year) if year else _this_year()


# -- checking the table ------------------------------------------------------------------------------------
def _problem(index: int, message_zh: str, message_en: str, field: str = "") -> dict[str, str]:
    path = f"assignments.{index}" + (f".{field}" if field else "")
    return {"field": path, "message": f"第 {index + 1} 行：{message_zh} / row {index + 1}: {message_en}"}


def _tidy_row(row: Mapping[str, Any], canonical: Mapping[str, str]) -> dict[str, Any]:
    """A row with spaces trimmed and branch codes spelled as in the roster (codes match case-insensitively)."""
    branches = [str(code).strip() for code in row.get("branches") or []]
    return {"leader": str(row.get("leader") or "").strip(),
            "branches": [canonical.get(code.upper(), code) for code in branches if code],
            "note": str(row.get("note") or "").strip()}


def _row_problems(index: int, row: Mapping[str, Any], known_branches: set[str] | None, known_leaders: set[str] | None,
                  least: int, most: int) -> list[dict[str, str]]:
    leader, branches = row["leader"], row["branches"]
    problems = []
    if not leader:
        problems.append(_problem(index, "未填写联系领导账号", "no leader given", "leader"))
    elif known_leaders is not None and leader not in known_leaders:
        problems.append(_problem(index, f"{leader} 不是本党总支党组织负责人的账号", f"{leader} is not the account of a Party "
                                 "leader of this general branch", "leader"))
    if not least <= len(branches) <= most:
        problems.append(_problem(index, f"{leader} 联系团支部 {len(branches)} 个，须为 {least}–{most} 个",
                                 f"{leader} has {len(branches)} contact branches, {least}–{most} required", "branches"))
    repeated = sorted({code for code in branches if branches.count(code) > 1})
    if repeated:
        problems.append(_problem(index, f"团支部 {'、'.join(repeated)} 重复填写", f"{', '.join(repeated)} listed twice",
                                 "branches"))
    unknown = [code for code in dict.fromkeys(branches) if known_branches is not None and code not in known_branches]
    if unknown:
        problems.append(_problem(index, f"团支部 {'、'.join(unknown)} 不存在或不属于本党总支",
                                 f"no League branch {', '.join(unknown)} in this general branch", "branches"))
    return problems


def check_assignments(assignments: Sequence[Mapping[str, Any]] | None, league_branches: Sequence[Mapping[str, Any]] | None,
                      leaders: Sequence[Mapping[str, Any]] | None, policies: Mapping[str, Any]) -> dict[str, Any]:
    """{"assignments": the rows tidied, "problems": [{"field", "message"}] (empty: the table holds)}.

    Each leader on one row, known as a Party leader of this general branch; `min`–`max` branches each
    (policies), none twice on a row, each a League branch of this general branch. `league_branches` or
    `leaders` None (no roster facts, e.g. a dry run): that check is skipped."""
    known_branches = None if league_branches is None else {str(b["code"]) for b in league_branches}
    canonical = {code.upper(): code for code in known_branches or ()}
    known_leaders = None if leaders is None else {str(person["username"]) for person in leaders}
    least = int(policies.get("min_branches_per_leader", POLICIES["min_branches_per_leader"]))
    most = int(policies.get("max_branches_per_leader", POLICIES["max_branches_per_leader"]))
    rows = [_tidy_row(row, canonical) for row in assignments or []]
    problems: list[dict[str, str]] = []
    if not rows:
        problems.append({"field": "assignments", "message": "请至少安排一位联系领导 / assign at least one leader"})
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        if row["leader"] in seen:
            problems.append(_problem(index, f"{row['leader']} 已在第 {seen[row['leader']] + 1} 行，每位联系领导只填一行",
                                     f"{row['leader']} is already on row {seen[row['leader']] + 1}; one row per leader",
                                     "leader"))
            continue
        seen[row["leader"]] = index
        problems += _row_problems(index, row, known_branches, known_leaders, least, most)
    return {"assignments": rows, "problems": problems}


def contact_pairs(assignments: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(leader, branch) for every contact point of the table, in table order."""
    return [(str(row["leader"]), str(code)) for row in assignments for code in row.get("branches") or []]


# -- the pack hooks ------------------------------------------------------------------------------------------
def _records(facts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((facts.get("records") or {}).get(KEY) or [])


def start_check(roles: frozenset[str], facts: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """One table per Party general branch and year, for this year or the next."""
    if facts.get("kind") != "party_general_branch":
        return "联系点由党总支安排，主体须为党总支 / contact points are assigned by a Party general branch"
    year = contact_year(data.get("year"))
    if not _this_year() <= year <= _this_year() + 1:
        return f"只能安排今年或明年的联系点，不能安排 {year} 年 / contact points are assigned for this year or the next"
    if any(record.get("year") == year for record in _records(facts)):
        return (f"{year} 年度联系点已安排；调整个别联系点请直接安排联系点走访 / the contact points of {year} are "
                "already assigned; start a single contact visit to change one")
    return None


def initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The general branch's League branches and Party leaders (what the table is checked against) and the
    latest table, offered again."""
    structure = facts.get("structure") or {}
    latest = _records(facts)[:1]
    previous = [{"leader": row.get("leader"), "branches": list(row.get("branches") or []), "note": row.get("note") or ""}
                for row in ((latest[0].get("data") or {}).get("assignments") or [] if latest else [])]
    return {"unit_name": facts.get("name"), "league_branches": list(structure.get("league_branches") or []),
            "leaders": list(structure.get("party_leaders") or []), "assignments": previous,
            "assignment_problems": [], "outcome": None}


def on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome != "assigned":
        return []
    year = int(data["year"])
    assignments = list(data.get("assignments") or [])
    effects: list[dict[str, Any]] = [
        {"kind": "start_process", "process": VISIT_PROCESS, "subject": branch,
         "data": {"leader": leader, "due": f"{year}-12-31", "year": year}}
        for leader, branch in contact_pairs(assignments)]
    effects.append({"kind": "record", "record": KEY, "year": year, "data": {"assignments": assignments}})
    return effects


DEFINITION = ProcessDefinition(
    key=KEY,
    title="联系点安排",
    title_en="Contact-point assignment",
    subject_kind="org_unit",
    milestones={"assign": "待安排联系点"},
    functions={"contact_year": contact_year, "check_assignments": check_assignments},
    policies=POLICIES,
    start_roles=("party_general_branch_secretary",),
    start_check=start_check,
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    initial_data=initial_data,
    on_complete=on_complete,
)
