"""党支部党建带团建工作考核 — the Party general branch assesses how each Party branch leads its paired
League branches (domain.md, Supporting procedures; rule book: 党建带团建 work is part of the Party
branch's yearly assessment).

One case per Party branch and year, launched as a campaign by the Party general branch secretary
(service/campaigns, with the policy `campaign_unit_kind` = party_branch) or started by hand with a
`deadline`. At start the case computes the evidence the system itself holds about the year (from the
subject's facts, see service/instances/subjects.py `league_work`): 推优 cases of the paired League
branches finished that year by outcome, coordination meetings held and contact visits made, and
rectifications still open. The Party branch files a self-report by the deadline (a reminder before
it; at the deadline the general branch secretary extends it or scores without it), the general
branch secretary scores the indicator sheet (policy: indicators with weight and maximum points),
the weighted total is graded by bpmn/party_branch_grade.dmn (好/较好/一般/差) and the grades listed
in the policy `rectification_grades` open a rectification issued by the Party general branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from processes.rectification import BEIJING, deadline_moment
from service.pack import ProcessDefinition, now

KEY = "party_branch_assessment"

#: the indicator sheet (policy): weight = share of the 100-point total, max = the points an indicator is scored on
INDICATORS: list[dict[str, Any]] = [
    {"key": "leadership", "title": "组织领导（研究团建工作、党团联席会议）", "weight": 20, "max": 10},
    {"key": "recommendation", "title": "推优入党（程序规范、按期办理）", "weight": 25, "max": 10},
    {"key": "contact", "title": "联系指导（联系点走访、发现问题并解决）", "weight": 20, "max": 10},
    {"key": "cadres", "title": "团干部培养与教育", "weight": 15, "max": 10},
    {"key": "rectification", "title": "问题整改落实", "weight": 20, "max": 10},
]

#: grade -> Chinese label; the bands live in bpmn/party_branch_grade.dmn
GRADES: dict[str, str] = {"good": "好", "fairly_good": "较好", "average": "一般", "poor": "差"}

POLICIES: dict[str, Any] = {
    "indicators": INDICATORS,
    "campaign_unit_kind": "party_branch",  # the campaign launches one case per Party branch
    "min_branch_age_months": 0,
    "reminder_days_before": 3,
    "rectification_grades": ["average", "poor"],  # these grades open a rectification
    "rectification_days": 90,  # its deadline, counted from the assessment deadline
}

START_DEFAULTS: dict[str, Any] = {"year": None, "campaign_id": None}

START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["deadline"],
    "properties": {
        "deadline": {"type": "string", "minLength": 10, "maxLength": 40},
        "year": {"type": ["integer", "null"], "minimum": 2000, "maximum": 2100},
    },
}


def current_year() -> int:
    """The year on the service clock, in Beijing."""
    return now().astimezone(BEIJING).year


def reminder_moment(deadline_at: str, days_before: int | float) -> str:
    return (datetime.fromisoformat(deadline_at) - timedelta(days=float(days_before or 0))).isoformat()


def evidence_for(league_work: Mapping[str, Any] | None, year: int) -> dict[str, Any]:
    """What the system itself knows about the Party branch's 党建带团建 work in `year`."""
    work = league_work or {}
    key = str(year)
    finished = (work.get("finished") or {}).get(key) or {}
    recommendations = dict(finished.get("recommendation") or {})
    records = (work.get("records") or {}).get(key) or {}
    return {
        "year": year,
        "paired_league_branches": list(work.get("paired_league_branches") or []),
        "recommendations": {"total": sum(recommendations.values()), "by_outcome": recommendations},
        "coordination_meetings": int(records.get("coordination_meeting", 0)),
        "contact_visits": int(records.get("contact_visit", 0)),
        "rectifications_open": int((work.get("running") or {}).get("rectification", 0)),
    }


OUTCOME_LABELS = {"accepted": "确定为积极分子", "deferred": "暂缓", "declined": "不同意", "rejected": "未通过审核",
                  "not_passed": "大会未通过", "ineligible": "不符合条件", "objection_upheld": "公示异议成立",
                  "expired": "已过期"}


def describe_evidence(evidence: Mapping[str, Any]) -> list[str]:
    """The evidence as read-only lines in the forms."""
    recs = evidence.get("recommendations") or {}
    by_outcome = "，".join(f"{OUTCOME_LABELS.get(k, k)} {v}" for k, v in sorted((recs.get("by_outcome") or {}).items()))
    branches = "、".join(evidence.get("paired_league_branches") or []) or "无"
    return [
        f"结对团支部：{branches}",
        f"{evidence.get('year')} 年办结推优 {recs.get('total', 0)} 件" + (f"（{by_outcome}）" if by_outcome else ""),
        f"党团联席会议 {evidence.get('coordination_meetings', 0)} 次",
        f"联系点走访 {evidence.get('contact_visits', 0)} 次",
        f"未完成的整改 {evidence.get('rectifications_open', 0)} 件",
    ]


def describe_indicators(indicators: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{i['key']}：{i['title']}（满分 {i['max']} 分，权重 {i['weight']}%）" for i in indicators]


def weighted_total(scores: Mapping[str, Any] | None, indicators: Sequence[Mapping[str, Any]]) -> float:
    """Σ weight × score / max, each score clamped to 0..max (missing or non-numeric: 0); out of Σ weights."""
    scores = scores or {}
    total = 0.0
    for indicator in indicators:
        value = scores.get(indicator["key"])
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        maximum = float(indicator["max"]) or 1.0
        total += min(max(float(value), 0.0), maximum) / maximum * float(indicator["weight"])
    return round(total, 2)


def weak_indicators(scores: Mapping[str, Any] | None, indicators: Sequence[Mapping[str, Any]]) -> list[str]:
    """Indicators scored below 60 % of their maximum, as problem lines."""
    lines = []
    for indicator in indicators:
        value = (scores or {}).get(indicator["key"])
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0.6 * float(indicator["max"]):
            lines.append(f"{indicator['title']}：得分 {value:g}/{indicator['max']}，未达到 60%")
    return lines


def _initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"branch_name": facts.get("name"), "league_work": facts.get("league_work") or {}}


def _on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome not in GRADES:
        return []
    subject = data.get("subject") or facts.get("code")
    effects: list[dict[str, Any]] = [{
        "kind": "record", "record": KEY, "year": data.get("year"),
        "data": {"grade": outcome, "grade_title": GRADES[outcome], "total": data.get("total"),
                 "evidence": data.get("evidence")},
    }]
    policies = data.get("policies") or {}
    if outcome in (policies.get("rectification_grades") or POLICIES["rectification_grades"]):
        indicators = policies.get("indicators") or INDICATORS
        problems = [p for p in data.get("problems") or [] if isinstance(p, str) and p.strip()]
        problems = problems or weak_indicators(data.get("scores"), indicators)
        problems = problems or [f"党建带团建工作考核等级为“{GRADES[outcome]}”，需全面整改"]
        days = int(policies.get("rectification_days", POLICIES["rectification_days"]))
        base = (datetime.fromisoformat(str(data["deadline_at"])) if data.get("deadline_at") else now()).date()
        effects.append({
            "kind": "start_process", "process": "rectification", "subject": subject,
            "data": {"problems": problems, "deadline": (base + timedelta(days=days)).isoformat(),
                     "issuer": "party_general_branch", "source": KEY},
        })
    return effects


FUNCTIONS = {f.__name__: f for f in (current_year, deadline_moment, reminder_moment, evidence_for, describe_evidence,
                                     describe_indicators, weighted_total)}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="党支部党建带团建工作考核",
    title_en="Party branch assessment of League work",
    subject_kind="org_unit",
    milestones={
        "self_report": "党支部自查报告",
        "self_report_overdue": "自查报告逾期，待党总支处理",
        "score": "党总支评分",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=("party_general_branch_secretary",),
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    initial_data=_initial_data,
    on_complete=_on_complete,
)
