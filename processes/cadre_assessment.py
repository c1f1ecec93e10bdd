"""团干部述职评议 — the yearly assessment of a League branch's secretary (domain.md, Process 2, cadres).

One case per League branch and year, launched like the branch assessment by the general branch's
campaign (service/campaigns: same year, same deadline for every branch). The branch secretary writes a
report (述职报告); member representatives' scores (the highest and the lowest dropped, the mean of the
rest), the general branch's score and the paired Party branch's score are weighted (policy) into a
total that bpmn/cadre_grade.dmn grades 优秀 / 合格 / 不合格. The general branch secretary confirms — on the
campaign page for all branches at once, which checks the 优秀 quota (policy, ≤ 30 %) — and the Party
general branch accepts. The grade is recorded on the secretary (record kind `cadre_grade`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from service.pack import ProcessDefinition

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
SECRETARY_POST = "书记"

#: grade -> Chinese label; the bands themselves live in bpmn/cadre_grade.dmn
GRADES: dict[str, str] = {"excellent": "优秀", "qualified": "合格", "unqualified": "不合格"}

POLICIES: dict[str, Any] = {
    # weights of the three scores (any positive numbers; the total is their weighted mean)
    "weights": {"members": 40, "general_branch": 40, "party_branch": 20},
    "quotas": {"excellent": 0.3},  # share of the campaign's graded cadres, checked at campaign confirmation
    "campaign_unit_kind": "league_branch",
    "min_member_scores": 3,  # the highest and the lowest are dropped, so at least three are needed
}

_PLACES = 6  # see processes/branch_assessment.py: rounding keeps float noise off the grade bands


def trimmed_mean(scores: Sequence[Any], minimum: int = 3) -> float:
    """Members' score: drop one highest and one lowest score, the mean of the rest."""
    values = sorted(float(s) for s in scores or [])
    if len(values) < max(int(minimum), 3):
        raise ValueError(f"至少需要 {max(int(minimum), 3)} 个团员评分 / at least {max(int(minimum), 3)} member scores are needed")
    rest = values[1:-1]
    return round(sum(rest) / len(rest), _PLACES)


def weighted_total(members: float, general_branch: float, party_branch: float, weights: Mapping[str, Any]) -> float:
    """The weighted mean of the three scores (weights as policy, e.g. 40/40/20)."""
    parts = {"members": members, "general_branch": general_branch, "party_branch": party_branch}
    total_weight = sum(float(weights.get(k, 0)) for k in parts)
    if total_weight <= 0:
        raise ValueError("评分权重之和须大于 0 / the weights must add up to more than 0")
    return round(sum(float(v) * float(weights.get(k, 0)) for k, v in parts.items()) / total_weight, _PLACES)


def deadline_moment(deadline: str | None) -> str | None:
    """The end of the deadline's day in Beijing time (ISO 8601), or None without a deadline."""
    if not deadline:
        return None
    day = date.fromisoformat(str(deadline)[:10])
    return datetime.combine(day, time(23, 59, 59), BEIJING).isoformat()


def secretary_of(officers: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """The officer holding the secretary's post (the cadre assessed), or an empty dict."""
    for officer in officers or []:
        if officer.get("league_post") == SECRETARY_POST:
            return {"id": officer.get("id"), "name": officer.get("name")}
    return {}


def initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    secretary = secretary_of(facts.get("officers"))
    return {"branch_name": facts.get("name"), "secretary": secretary.get("id"), "secretary_name": secretary.get("name")}


def on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome not in GRADES:
        return []
    record: dict[str, Any] = {"kind": "record", "record": "cadre_grade", "year": data.get("year"), "data": {
        "grade": outcome, "grade_title": GRADES[outcome], "total": data.get("total"),
        "members_score": data.get("members_score"), "general_score": data.get("general_score"),
        "party_score": data.get("party_score"), "weights": (data.get("policies") or {}).get("weights"),
        "branch": data.get("subject") or facts.get("code"), "secretary": data.get("secretary"),
        "secretary_name": data.get("secretary_name"),
    }}
    if data.get("secretary"):
        record.update(subject_kind="person", subject=data["secretary"])
    return [record]


START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "year": {"type": ["integer", "null"]},
        "deadline": {"type": ["string", "null"], "format": "date"},
        "campaign_id": {"type": ["integer", "null"]},
    },
}

DEFINITION = ProcessDefinition(
    key="cadre_assessment",
    title="团干部述职评议",
    title_en="League cadre assessment",
    subject_kind="org_unit",
    milestones={
        "report": "待提交述职报告",
        "member_scores": "民主评议打分中",
        "general_score": "民主评议打分中",
        "party_score": "民主评议打分中",
        "confirm": "团总支确认等级",
        "party_acceptance": "党总支审核",
    },
    functions={
        "trimmed_mean": trimmed_mean,
        "weighted_total": weighted_total,
        "deadline_moment": deadline_moment,
    },
    policies=POLICIES,
    start_roles=("league_general_branch_secretary",),
    start_defaults={"year": None, "deadline": None, "campaign_id": None},
    start_schema=START_SCHEMA,
    initial_data=initial_data,
    on_complete=on_complete,
)
