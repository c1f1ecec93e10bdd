"""团支部年度考核 — the annual assessment of a League branch (domain.md, Process 2).

One case per League branch, started by a campaign (service/campaigns) with the year, the
deadline and the reviewers. The branch scores itself against the indicator sheet, the general
branch's reviewers score it in parallel, the mean of their totals is graded by bpmn/branch_grade.dmn,
the general branch secretary confirms (the campaign checks the grade quotas across all branches
first), and the Party general branch accepts. 后进 and 软弱涣散 branches get a rectification case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from statistics import median
from typing import Any

from service.pack import ProcessDefinition

#: China Standard Time: a deadline given as a date ends at the end of that day in Beijing
CST = timezone(timedelta(hours=8), "CST")

INDICATORS: list[dict[str, Any]] = [
    {"key": "committee_work", "title": "支委会建设", "max": 30},
    {"key": "organisational_life", "title": "组织生活", "max": 30},
    {"key": "recommendation", "title": "推优工作", "max": 15},
    {"key": "registration", "title": "团员管理", "max": 10},
    {"key": "activities", "title": "主题活动", "max": 15},
]

#: grade -> (Chinese label, star rating); the bands themselves live in bpmn/branch_grade.dmn
GRADES: dict[str, tuple[str, str]] = {
    "excellent": ("优秀", "五星"),
    "good": ("良好", "四星"),
    "fair": ("一般", "三星"),
    "lagging": ("后进", ""),
    "weak": ("软弱涣散", ""),
}
GRADES_NEEDING_RECTIFICATION = ("lagging", "weak")

POLICIES: dict[str, Any] = {
    "indicators": INDICATORS,
    "aggregate": "mean",  # how reviewers' totals combine: mean | median
    "quotas": {"excellent": 0.2, "good": 0.6},  # share of graded branches, checked at campaign confirmation
    "min_branch_age_months": 6,  # younger branches are left out of a campaign
    "reminder_days_before": 3,  # reminder to the branch secretary before the self-assessment deadline
    "reviewers": [],  # usernames; empty: the campaign names them, else every holder of reviewer_role
    "reviewer_role": "league_general_branch_committee",  # the general branch role whose holders review
    "rectification_days": 90,  # rectification deadline, counted from the assessment deadline
}

# A total is compared with the grade bands (90, 80, ...); rounding keeps float noise such as
# 89.99999999999999 from landing a branch in the band below, without rounding real decimals up.
_PLACES = 6


def sheet_total(scores: Mapping[str, Any] | None, indicators: Sequence[Mapping[str, Any]]) -> float:
    """Total of a score sheet: each indicator's score clamped to 0..max; missing or non-numeric counts 0."""
    scores = scores or {}
    total = 0.0
    for indicator in indicators:
        value = scores.get(indicator["key"])
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        total += min(max(float(value), 0.0), float(indicator["max"]))
    return round(total, _PLACES)


def aggregate_totals(totals: Sequence[float], method: str = "mean") -> float | None:
    """The reviewers' totals combined (policy `aggregate`); None when nobody reviewed."""
    values = [float(t) for t in totals]
    if not values:
        return None
    if method == "median":
        return round(median(values), _PLACES)
    return round(sum(values) / len(values), _PLACES)


def indicator_means(reviews: Sequence[Mapping[str, Any]], indicators: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per indicator, the mean of the reviewers' (clamped) scores."""
    result: dict[str, float] = {}
    for indicator in indicators:
        key = indicator["key"]
        values = [sheet_total({key: (r.get("scores") or {}).get(key)}, [indicator]) for r in reviews]
        if values:
            result[key] = round(sum(values) / len(values), 2)
    return result


def deadline_moment(deadline: str) -> str:
    """The instant (ISO 8601 with offset) a deadline falls due. A date means the end of that day
    in Beijing time; a date-time without offset is read as Beijing time."""
    if not isinstance(deadline, str) or not deadline.strip():
        raise ValueError("deadline missing: start the case with data {'deadline': 'YYYY-MM-DD'} / 缺少截止日期")
    text = deadline.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CST)
    else:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CST)
    return moment.isoformat()


def reminder_moment(deadline_at: str, days_before: int) -> str:
    """When to remind: `days_before` days before the deadline instant."""
    return (datetime.fromisoformat(deadline_at) - timedelta(days=int(days_before))).isoformat()


def grade_label(grade: str | None) -> str:
    """优秀 (五星) style label for a grade key."""
    if grade not in GRADES:
        return ""
    label, stars = GRADES[grade]
    return f"{stars}/{label}" if stars else label


def problems_found(data: Mapping[str, Any]) -> list[str]:
    """The problem list handed to rectification: vetoes, weak indicators (< 60 % of the maximum)
    and the reviewers' comments."""
    indicators = (data.get("policies") or {}).get("indicators") or INDICATORS
    reviews = [r for r in data.get("reviews") or [] if isinstance(r, Mapping)]
    problems: list[str] = []
    for review in reviews:
        if review.get("veto"):
            problems.append(f"否决项：{review.get('comment') or '评审认定存在一票否决情形'}")
    means = indicator_means(reviews, indicators)
    for indicator in indicators:
        score = means.get(indicator["key"])
        if score is not None and score < 0.6 * float(indicator["max"]):
            problems.append(f"{indicator['title']}：得分 {score:g}/{indicator['max']}，未达到 60%")
    for review in reviews:
        comment = (review.get("comment") or "").strip()
        if comment and not review.get("veto"):
            problems.append(f"评审意见：{comment}")
    if not problems:
        problems.append(f"年度考核等级为{grade_label(data.get('grade'))}，需全面整改")
    return list(dict.fromkeys(problems))


def _initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"branch_name": facts.get("name"), "founded": facts.get("founded"),
            "last_reelection": facts.get("last_reelection"), "league_members": facts.get("league_members")}


def _on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    if outcome not in GRADES_NEEDING_RECTIFICATION:
        return []
    days = int((data.get("policies") or {}).get("rectification_days", POLICIES["rectification_days"]))
    base = datetime.fromisoformat(str(data["deadline_at"])).date() if data.get("deadline_at") else None
    deadline = (base + timedelta(days=days)).isoformat() if base else None
    return [{
        "kind": "start_process", "process": "rectification", "subject": data.get("subject") or facts.get("code"),
        "data": {
            "problems": problems_found(data), "deadline": deadline, "issuer": "league_general_branch",
            "source": "branch_assessment", "assessment_year": data.get("year"), "assessment_grade": outcome,
        },
    }]


DEFINITION = ProcessDefinition(
    key="branch_assessment",
    title="团支部年度考核",
    title_en="Annual League branch assessment",
    subject_kind="org_unit",
    milestones={
        "self_assessment": "支部自评",
        "self_assessment_overdue": "自评逾期，待团总支处理",
        "review": "团总支评审",
        "confirm": "团总支确认等级",
        "party_acceptance": "党总支审核",
    },
    functions={
        "sheet_total": sheet_total,
        "aggregate_totals": aggregate_totals,
        "deadline_moment": deadline_moment,
        "reminder_moment": reminder_moment,
    },
    policies=POLICIES,
    start_roles=("league_general_branch_secretary",),
    # a campaign sets these; a case started by hand must give `deadline` and should name `reviewers`
    # (without any, the self-assessment total is graded)
    start_defaults={"year": None, "reviewers": [], "campaign_id": None},
    initial_data=_initial_data,
    on_complete=_on_complete,
)
