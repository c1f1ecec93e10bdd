"""整改 — rectification of a branch (domain.md, Process 3).

The BPMN is bpmn/rectification.bpmn. An issuer (the League general branch by default, or the
Party general branch) orders a branch to fix a list of problems by a deadline. The branch
acknowledges, plans a measure per problem, the issuer approves the plan (or returns it, at most
`max_plan_revisions` times, then fixes the plan itself), the branch reports progress at least
every `report_interval` and marks problems done, may ask once for an extension, files a completion
report, and the issuer accepts problem by problem: close (销号) or redo with a new deadline (at most
`max_redos` times, then the Party general branch has the last word). At the deadline the case is
marked overdue and the issuer's superior is asked to hold a talk (约谈). An optional re-check
(回头看) follows the closing after `recheck_after`.

Start data: `problems` (strings or {"title", "detail"}), `deadline` (ISO date or datetime; a date
ends at 23:59:59 Beijing time), `issuer` ("league_general_branch" | "party_general_branch"),
`responsible`, `source` (e.g. "branch_assessment"). An admin ends a case early with the service's
terminate action (outcome `terminated`).

Problem bookkeeping: `problem_status[i]` is "open", "done" (reported done by the branch) or
"accepted" (accepted by the issuer); indexes are 0-based positions in `problems`.

Execution is a loop of reporting periods (the subprocess `execution`, one pass per period): each
pass offers a progress report and, until it has been used, the extension request, and watches the
deadline (`watch_state`: the reminder first, then the deadline itself). Filing the report ends the
period; the reminder, the deadline and an extension request end it early, and the main path records
them before the next period starts. So `deadline`, `overdue` and the problem statuses always live in
the main path's data, and every loop is bounded by a policy (plan returns, reports per round, redos).
A 约谈 still open when the case closes is cancelled; what was submitted stays in the audit trail.

The functions below are what the scripts may call: pure, JSON in and out (ISO strings for times).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from service.pack import ProcessDefinition, now

KEY = "rectification"

#: China has no daylight saving time: Beijing time is always UTC+8.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)

POLICIES: dict[str, Any] = {
    "report_interval": "P30D",  # progress reports at least monthly (a reminder when one is late)
    "reminder_days_before": 7,  # reminder before the deadline; 0: none
    "max_plan_revisions": 3,  # returns of the plan; after that the issuer settles the plan
    "max_progress_reports": 12,  # per round; after that the completion report is due
    "max_redos": 2,  # 重新整改 rounds; after that the Party general branch decides the acceptance
    "recheck_enabled": False,  # 回头看 after closing
    "recheck_after": "P90D",
}

ISSUERS = ("league_general_branch", "party_general_branch")
STATUS_LABELS = {"open": "整改中", "done": "已完成待验收", "accepted": "已验收"}

#: the secretary role of each kind of org unit (the subject's lane and the issuer's lane)
SECRETARY_OF = {
    "league_branch": "league_branch_secretary",
    "party_branch": "party_branch_secretary",
    "league_general_branch": "league_general_branch_secretary",
    "party_general_branch": "party_general_branch_secretary",
}
SUBJECT_LANE = "league_branch_secretary"
ISSUER_LANE = "league_general_branch_secretary"


# -- time ----------------------------------------------------------------------------------------------
def _moment(value: str | datetime | date) -> datetime:
    """A deadline as an aware datetime: a date ends at 23:59:59 Beijing time; a naive datetime is Beijing time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, END_OF_DAY)
    else:
        text = str(value).strip()
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), END_OF_DAY)
        else:
            moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def deadline_moment(deadline: str | None) -> str | None:
    """The ISO datetime (Beijing time) at which a deadline passes; None when there is no deadline.

    Raises ValueError with a readable message for text that is not an ISO date or datetime."""
    if deadline in (None, ""):
        return None
    try:
        return _moment(deadline).astimezone(BEIJING).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"整改期限 {deadline!r} 不是有效的日期 / deadline is not an ISO date or datetime") from None


def reminder_moment(deadline_at: str | None, days_before: int | float | None) -> str | None:
    """When to remind the branch: `days_before` days before the deadline (None: no reminder)."""
    if not deadline_at or not days_before or days_before <= 0:
        return None
    return (_moment(deadline_at) - timedelta(days=days_before)).astimezone(BEIJING).isoformat()


def now_iso() -> str:
    """The service clock as an ISO datetime (UTC)."""
    return now().isoformat()


def is_past(moment: str | None) -> bool:
    """Whether an ISO moment has passed on the service clock."""
    return moment is not None and _moment(moment) <= now()


def arm_deadline(deadline: str | None, days_before: int | float | None) -> tuple[str | None, str | None, str]:
    """(deadline_at, reminder_at, watch_state) for a deadline that has just been set.

    watch_state drives the deadline watch of each reporting period: "reminder" (the reminder is
    still to come), "deadline" (waiting for the deadline itself), "none" (no deadline, or passed
    and already escalated)."""
    deadline_at = deadline_moment(deadline)
    reminder_at = reminder_moment(deadline_at, days_before)
    if deadline_at is None:
        state = "none"
    elif reminder_at is None or is_past(reminder_at):
        state = "deadline"
    else:
        state = "reminder"
    return deadline_at, reminder_at, state


def later_deadline(current: str | None, requested: str | None) -> str | None:
    """The deadline after an approved extension: the requested one, unless it is not later."""
    if not requested:
        return current
    if not current:
        return requested
    return requested if _moment(requested) > _moment(current) else current


# -- problems ---------------------------------------------------------------------------------------------
def normalise_problems(problems: Any) -> list[dict[str, str]]:
    """Problems as [{"title", "detail"}]; strings become titles. Raises ValueError for an empty list."""
    if isinstance(problems, str | Mapping):
        problems = [problems]
    result = []
    for item in problems or []:
        if isinstance(item, Mapping):
            title, detail = str(item.get("title") or "").strip(), str(item.get("detail") or "").strip()
        else:
            title, detail = str(item or "").strip(), ""
        if title or detail:
            result.append({"title": title or detail[:40], "detail": detail})
    if not result:
        raise ValueError("整改问题清单不能为空 / the problem list is empty")
    return result


def _indexes(values: Any, count: int) -> list[int]:
    """Valid, distinct problem indexes from a submitted list (anything else is ignored)."""
    found = []
    for value in values or []:
        if isinstance(value, bool):
            continue
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and 0 <= value < count and value not in found:
            found.append(value)
    return sorted(found)


def mark_done(status: Sequence[str], done: Any) -> list[str]:
    """Statuses after a progress report: the listed open problems become "done"."""
    chosen = set(_indexes(done, len(status)))
    return ["done" if i in chosen and s == "open" else s for i, s in enumerate(status)]


def open_problems(status: Sequence[str]) -> list[int]:
    return [i for i, s in enumerate(status) if s == "open"]


def all_done(status: Sequence[str]) -> bool:
    """Nothing is left to work on (every problem is done or accepted)."""
    return not open_problems(status)


def mark_accepted(status: Sequence[str], accepted: Any) -> list[str]:
    """Statuses after the issuer's acceptance: the listed problems become "accepted"."""
    chosen = set(_indexes(accepted, len(status)))
    return ["accepted" if i in chosen else s for i, s in enumerate(status)]


def unaccepted(status: Sequence[str]) -> list[int]:
    return [i for i, s in enumerate(status) if s != "accepted"]


def reopen_unaccepted(status: Sequence[str]) -> list[str]:
    """A redo (重新整改): every problem not accepted is open again."""
    return [s if s == "accepted" else "open" for s in status]


def describe_problems(problems: Sequence[Mapping[str, Any]], status: Sequence[str]) -> list[str]:
    """One line per problem for the forms: "[0] 标题（整改中）"."""
    lines = []
    for i, problem in enumerate(problems):
        label = STATUS_LABELS.get(status[i] if i < len(status) else "open", "")
        lines.append(f"[{i}] {problem.get('title', '')}（{label}）")
    return lines


def describe_measures(problems: Sequence[Mapping[str, Any]], measures: Any) -> list[str]:
    """One line per measure of a plan, for the reviewer: "[0] 标题：措施（时限 2027-01-31，责任人 张三）"."""
    lines = []
    for measure in measures or []:
        if not isinstance(measure, Mapping):
            continue
        index = measure.get("problem")
        title = problems[index].get("title", "") if isinstance(index, int) and 0 <= index < len(problems) else "（序号无效）"
        lines.append(f"[{index}] {title}：{measure.get('measure', '')}（时限 {measure.get('deadline', '')}，"
                     f"责任人 {measure.get('owner', '')}）")
    return lines


def describe_deadline(deadline: str | None, overdue: bool = False, extension_used: bool = False) -> str:
    """The deadline as the forms show it."""
    if not deadline:
        return "整改期限：未设定"
    text = f"整改期限：{str(deadline)[:16].replace('T', ' ')}"
    if overdue:
        text += "（已逾期）"
    if extension_used:
        text += "（延期申请已使用）"
    return text


def overview(problems: Sequence[Mapping[str, Any]], status: Sequence[str], deadline: str | None,
             overdue: bool = False, extension_used: bool = False) -> tuple[list[str], str]:
    """(problem_overview, deadline_note): the read-only lines the forms show. Scripts recompute them
    after every change, so an edited copy sent back with a form never outlives the next step."""
    return describe_problems(problems, status), describe_deadline(deadline, overdue, extension_used)


def describe_extension(request: Mapping[str, Any] | None, deadline: str | None) -> str:
    """The extension request as the issuer sees it."""
    request = request or {}
    return (f"原期限 {deadline or '未设定'}，申请延期至 {request.get('new_deadline') or '未填写'}。"
            f"理由：{request.get('reason') or '未填写'}")


def describe_completion(completions: Sequence[Mapping[str, Any]] | None) -> str:
    """The latest completion report as the issuer sees it at acceptance."""
    if not completions:
        return ""
    latest = completions[-1]
    text = f"第 {latest.get('round', 1)} 轮整改报告：{latest.get('report', '')}"
    if latest.get("evidence"):
        text += f"\n佐证材料：{latest['evidence']}"
    return text


def progress_entry(round_no: int, number: int, done: Any, report: str, evidence: str,
                   status: Sequence[str]) -> dict[str, Any]:
    """The record of one progress report, as kept in `reports`."""
    return {"round": round_no, "number": number, "done": _indexes(done, len(status)), "report": report,
            "evidence": evidence, "at": now().isoformat(), "open_after": open_problems(status)}


# -- roles --------------------------------------------------------------------------------------------------
def default_issuer(issuer: str | None, unit_kind: str | None) -> str:
    """The issuer named in the start data, else the general branch that oversees this kind of unit."""
    if issuer in ISSUERS:
        return issuer
    if unit_kind in ("party_branch", "league_general_branch"):
        return "party_general_branch"
    return "league_general_branch"


def start_check(roles: frozenset[str], facts: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """Who may order whom: the issuer named in the order must be the starter's own general branch, and
    the League general branch orders League branches only (a Party branch answers to the Party)."""
    unit_kind = facts.get("kind")
    issuer = default_issuer(data.get("issuer"), unit_kind)
    if SECRETARY_OF[issuer] not in roles:
        return ("整改须由下发单位（issuer）的书记发起 / a rectification is ordered by the secretary of the issuing "
                "general branch")
    if issuer == "league_general_branch" and unit_kind not in ("league_branch",):
        return "团总支只能对团支部下发整改 / the League general branch orders rectifications of League branches only"
    return None


def resolve_lane(lane: str, unit_kind: str | None, data: Mapping[str, Any]) -> str:
    """The BPMN draws a League branch ordered by the League general branch; the lanes follow the case:
    the subject lane is the secretary of whatever unit is being rectified, the issuer lane the
    secretary of the general branch that issued the order. The 约谈 lane stays the Party general
    branch secretary (the superior of a League general branch secretary)."""
    if lane == SUBJECT_LANE:
        return SECRETARY_OF.get(unit_kind or "", lane)
    if lane == ISSUER_LANE:
        issuer = default_issuer(data.get("issuer"), unit_kind)
        return SECRETARY_OF[issuer]
    return lane


# -- the pack hooks ----------------------------------------------------------------------------------------
#: the optional start data; a start request (or the assessment that orders the rectification) sets them
START_DEFAULTS: dict[str, Any] = {
    "issuer": None,  # None: the general branch over the unit (default_issuer)
    "deadline": None,  # None: the issuer sets it when approving the plan
    "responsible": None,
    "source": "manual",
    "outcome": None,
}


#: what a start request may carry (anything else is refused with a field error)
START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["problems"],
    "properties": {
        "problems": {"type": "array", "maxItems": 50, "items": {"anyOf": [
            {"type": "string", "minLength": 1, "maxLength": 500},
            {"type": "object", "required": ["title"], "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 500},
                "detail": {"type": "string", "maxLength": 2000}}}]}},
        "deadline": {"type": ["string", "null"], "maxLength": 40},  # ISO date or datetime
        "issuer": {"enum": [None, "party_general_branch", "league_general_branch"]},
        "responsible": {"type": ["string", "null"], "maxLength": 100},
        "source": {"type": "string", "maxLength": 64},
    },
}


def initial_data(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The unit's name and kind from the roster (they win over the start request)."""
    return {"subject_name": facts.get("name"), "subject_unit_kind": facts.get("kind")}


def on_complete(outcome: str | None, data: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A re-check (回头看) that finds problems back opens a new rectification for them."""
    recheck = data.get("recheck") or {}
    relapsed = _indexes(recheck.get("relapsed"), len(data.get("problems") or []))
    if outcome != "closed" or not relapsed:
        return []
    problems = data.get("problems") or []
    return [{
        "kind": "start_process", "process": KEY, "subject": data.get("subject") or facts.get("code"),
        "data": {
            "problems": [problems[i] for i in relapsed], "deadline": recheck.get("new_deadline"),
            "issuer": data.get("issuer"), "responsible": data.get("responsible"), "source": "recheck",
        },
    }]


FUNCTIONS = {
    f.__name__: f
    for f in (
        now_iso, is_past, deadline_moment, reminder_moment, arm_deadline, later_deadline,
        normalise_problems, mark_done, open_problems, all_done, mark_accepted, unaccepted, reopen_unaccepted,
        overview, describe_problems, describe_measures, describe_deadline, describe_extension, describe_completion,
        progress_entry, default_issuer,
    )
}

DEFINITION = ProcessDefinition(
    key=KEY,
    title="整改",
    title_en="Rectification",
    subject_kind="org_unit",
    milestones={
        "acknowledge": "待签收整改通知",
        "plan": "制定整改方案",
        "plan_review": "审核整改方案",
        "plan_final_review": "审定整改方案",
        # progress_report and extension_request have none on purpose: the service shows the milestone of
        # the first ready task that has one, so an overdue case reads 已逾期 while the 约谈 is pending;
        # otherwise a case in execution shows the period's task titles (报送整改进展、申请延期)
        "escalation": "已逾期，待约谈",
        "extension_review": "审批延期申请",
        "completion_report": "提交整改报告",
        "acceptance": "整改验收",
        "final_acceptance": "党总支最终验收",
        "recheck": "回头看",
    },
    functions=FUNCTIONS,
    policies=POLICIES,
    start_roles=("league_general_branch_secretary", "party_general_branch_secretary"),
    start_check=start_check,
    resolve_lane=resolve_lane,
    start_defaults=START_DEFAULTS,
    start_schema=START_SCHEMA,
    initial_data=initial_data,
    on_complete=on_complete,
)
