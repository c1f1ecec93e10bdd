"""党建带团建目标责任书 — responsibility letters signed each year level by level (党总支 → 党支部/团总支 →
团支部) and reviewed the next spring (domain.md, Supporting procedures).

Subject: the unit that signs — a Party branch or the League general branch (targets set by the Party
general branch), or a League branch (targets set by the League general branch). One case per unit
and year: launched as a campaign (policy `campaign_unit_kind`, default league_branch) or started by hand
per unit. The superior's secretary sets the targets (prefilled from the policy `default_targets` for the
unit's kind); the unit's secretary signs or objects (back to the superior with a comment); the superior
counter-signs. The case then waits for the review date (policy `review_date`, 1 March of the next
year, Beijing); the unit reports on each target (met / not met, notes) and the superior reviews it.
Outcome: `all_met`, `partly_met` or `none_met`; the case records {"record": "responsibility_letter"}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from processes.rectification import BEIJING
from service.pack import ProcessDefinition, now

KEY = "responsibility_letter"

DEFAULT_TARGETS: dict[str, list[str]] = {
    "party_branch": ["每学期至少研究一次结对团支部工作", "推优入党按程序、按期办理", "支委成员联系团支部并至少走访一次",
                     "指导结对团支部完成年度考核中发现问题的整改"],
    "league_general_branch": ["按期召开党团联席会议并落实议定事项", "组织全院团支部年度考核", "推优入党工作规范有序",
                              "团干部培训全覆盖"],
    "league_branch": ["按时开展“三会两制一课”", "团员教育评议全覆盖", "推优入党程序规范", "按期完成支部换届"],
}

POLICIES: dict[str, Any] = {
    "default_targets": DEFAULT_TARGETS,
    "review_date": "03-01",  # month-day of the next year on which the review opens (Beijing, 09:00)
    "campaign_unit_kind": "league_branch",
    "min_branch_age_months": 0,
}

#: the secretary of the signing unit and of its superior, by the signing unit's kind
SECRETARY_OF = {
    "party_branch": "party_branch_secretary",
    "league_general_branch": "league_general_branch_secretary",
    "league_branch": "league_branch_secretary",
}
SUPERIOR_OF = {
    "party_branch": "party_general_branch_secretary",
    "league_general_branch": "party_general_branch_secretary",
    "league_branch": "league_general_branch_secretary",
}
UNIT_LANE = "league_branch_secretary"
SUPERIOR_LANE = "league_general_branch_secretary"

START_DEFAULTS: dict[str, Any] = {"year": None, "targets": None, "campaign_id": None}

START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "year": {"type": ["integer", "null"], "minimum": 2000, "maximum": 2100},
        "targets": {"type": ["array", "null"], "maxItems": 30,
                    "items": {"type": "string", "minLength": 1, "maxLength": 500}},
    },
}


def letter_year(year: int | None) -> int:
    return int(year) if year else now().astimezone(BEIJING).year


def default_targets(targets: Sequence[str] | None, unit_kind: str | None, defaults: Mapping[str, Any]) -> list[str]:
    """The targets given at start, else the policy's default targets for the unit's kind."""
    if targets:
        return [str(t) for t in targets]
    return [str(t) for t in (defaults or {}).get(unit_kind or "", [])]


def review_moment(year: int, month_day: str) -> str:
    """When the review opens: `month_day` (MM-DD) of the year after `year`, 09:00 Beijing."""
    month, day = (int(part) for part in str(month_day).split("-"))
    return datetime.combine(date(int(year) + 1, month, day), time(9, 0), tzinfo=BEIJING).isoformat()


def result_rows(targets: Sequence[str], previous: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One row per target for the review forms, carrying over an earlier assessment of the same target."""
    earlier = {r.get("target"): r for r in previous or [] if isinstance(r, Mapping)}
    rows = []
    for target in targets:
        before = earlier.get(target) or {}
        rows.append({"target": target, "met": bool(before.get("met", False)), "note": str(before.get("note") or "")})
    return rows


def review_outcome(results: Sequence[Mapping[str, Any]] | None) -> str:
    rows = [r for r in results or [] if isinstance(r, Mapping)]
    met = sum(1 for r in rows if r.get("met") is True)
    if rows and met == len(rows):
        return "all_met"
    return "partly_met" if met else "none_met"


def resolve_lane(lane: str, unit_kind: str | None, data: Mapping[str, Any]) -> str:
    """The BPMN draws a League branch's letter; the lanes follow the signing unit's level."""
    if lane == UNIT_LANE:
        return SECRETARY_OF.get(unit_kind or "", lane)
    if lane == SUPERIOR_LANE:
        return SUPERIOR_OF.get(unit_kind or "", lane)
    return lane


def calendar_items(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The review date of a signed letter (its timer shows too, but this names what is due)."""
    if data.get("review_at") and data.get("counter_signed_on") and not data.get("self_results"):
        return [{"date": str(data["review_at"])[:10], "kind": "review",
                 "title": f"目标责任书年度考评：{data.get('subject_name') or data.get('subject')}（{data.get('year')} 年度）"}]
    return []


def _initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"subject_name": facts.get("name"), "subject_unit_kind": facts.get("kind")}


def _on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome not in ("all_met", "partly_met", "none_met"):
        return []
    return [{"kind": "record", "record": KEY, "year": data.get("year"),
             "data": {"targets": data.get("targets") or [], "results": data.get("results") or [], "outcome": outcome,
                      "signed_on": data.get("signed_on"), "counter_signed_on": data.get("counter_signed_on")}}]


FUNCTIONS = {f.__name__: f for f in (letter_year, default_targets, review_moment, result_rows, review_outcome)}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="党建带团建目标责任书",
    title_en="Responsibility letter",
    subject_kind="org_unit",
    milestones={
        "set_targets": "上级制定目标",
        "sign": "责任单位签订",
        "counter_sign": "上级会签",
        "wait_review": "已签订，待来年考评",
        "self_review": "年度自查",
        "review": "上级考评",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=("party_general_branch_secretary", "league_general_branch_secretary"),
    resolve_lane=resolve_lane,
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    initial_data=_initial_data,
    on_complete=_on_complete,
    calendar_items=calendar_items,
)
