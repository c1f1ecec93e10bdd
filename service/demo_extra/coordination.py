"""Demo cases of the rule book's coordination work, at several stages, through the real operations with
the clock moved: 党团联席会议 (one held months ago whose next meeting is being planned, one with an
action item still open), 联系点走访 (one done with a follow-up and a rectification, one with a follow-up
open, one planned), 目标责任书 (last year's reviewed, this year's League-branch campaign partly signed,
the Party branches' letters set by the Party general branch) and this year's 党支部党建带团建工作考核
(one self-report filed, two scored — one weak, which opened a rectification)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from service import clock
from service.auth.operations import actor_for
from service.demo_cases import advance
from service.extensions import db
from service.instances.models import Instance
from service.instances.operations import fire_timers, start_instance
from service.modeler.models import ProcessModel
from service.org.models import OrgUnit, User


def _day(offset: int) -> date:
    return clock.now().date() + timedelta(days=offset)


def _at(day: date, hour: int = 10) -> datetime:
    """That day at `hour` Beijing time, as the service clock's UTC."""
    return datetime.fromisoformat(f"{day.isoformat()}T{hour:02d}:00:00+08:00")


def _then(day: date, action: Callable[[], Any]) -> Any:
    with clock.frozen_at(_at(day)):
        return action()


def _exists(*codes: str) -> bool:
    return len(db.session.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(codes))).all()) == len(codes)


def _meeting_steps(held: date, items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    topics = ["学期推优工作安排", "团支部年度考核", "团干部培训"]
    return [("plan_meeting", {"meeting_date": held.isoformat(), "place": "学院党员活动室", "topics": topics}),
            ("minutes", {"held_on": held.isoformat(), "attendees": ["党总支书记", "团总支书记", "各党支部书记"],
                         "topics": topics, "decisions": "一、推优工作按程序于月底前完成；二、考核方案下周印发。",
                         "action_items": items})]


def _meetings(rng: random.Random) -> int:
    """DZZ: a meeting held 150 days ago (its items closed, the next meeting's case is planning);
    TZZ: a meeting held 5 days ago with one of two action items still open."""
    if not _exists("DZZ", "TZZ"):
        return 0
    held = _day(-150)
    items = [{"title": "修订推优工作细则", "assignee_role": "league_general_branch_secretary",
              "due": (held + timedelta(days=30)).isoformat()},
             {"title": "布置联系点走访", "assignee_role": "party_general_branch_secretary",
              "due": (held + timedelta(days=20)).isoformat()}]
    first = _then(held - timedelta(days=10), lambda: start_instance(None, "coordination_meeting", "DZZ"))
    _then(held, lambda: advance(first, _meeting_steps(held, items), rng))
    for role in ("party_general_branch_secretary", "league_general_branch_secretary"):
        _then(held + timedelta(days=15), lambda role=role: _close_item(first, role, "已按会议要求完成"))
    held = _day(-5)
    second = _then(_day(-20), lambda: start_instance(None, "coordination_meeting", "TZZ"))
    items = [{"title": "汇总各团支部推优名单", "assignee_role": "league_general_branch_committee",
              "due": _day(10).isoformat()},
             {"title": "通知团支部书记参加培训", "assignee_role": "league_general_branch_secretary",
              "due": _day(3).isoformat()}]
    _then(held, lambda: advance(second, _meeting_steps(held, items), rng))
    _then(_day(-1), lambda: _close_item(second, "league_general_branch_secretary", "已通知，培训如期举行"))
    return len(db.session.scalars(select(Instance.id).where(Instance.process_key == "coordination_meeting")).all())


def _close_item(instance: Instance, role: str, note: str) -> None:
    """Close the open action item offered to `role`, as a holder of that role."""
    from service.demo_cases import _acting_user
    from service.instances.models import HumanTask
    from service.instances.operations import complete_task

    task = db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "ready", HumanTask.name == "action_item",
        HumanTask.lane_role == role).order_by(HumanTask.created_at, HumanTask.id).limit(1))
    user = _acting_user(task) if task else None
    if task is not None and user is not None:
        complete_task(actor_for(user), task.id, {"note": note, "done": True})


def _visits(rng: random.Random) -> int:
    branches = db.session.scalars(select(OrgUnit.code).where(OrgUnit.kind == "league_branch")
                                  .order_by(OrgUnit.code)).all()
    if len(branches) < 3 or db.session.scalar(select(User.id).where(User.username == "dzz_shuji")) is None:
        return 0
    done = _then(_day(-60), lambda: start_instance(None, "contact_visit", branches[0], {"leader": "dzz_shuji"}))
    problems = [{"title": "主题团日活动记录不全", "detail": "近两个月无记录", "handling": "follow_up"},
                {"title": "推优未通知结对党支部列席", "detail": "程序不完整", "handling": "rectification"}]
    visit = {"visited_on": _day(-45).isoformat(), "visit_form": "座谈会", "findings": "支部整体运行正常，个别环节不规范",
             "problems": problems}
    _then(_day(-45), lambda: advance(done, [("visit", visit)], rng))
    _then(_day(-40), lambda: advance(done, [("follow_up", {"note": "已补齐活动记录", "resolved": True})], rng))
    open_follow_up = _then(_day(-20), lambda: start_instance(None, "contact_visit", branches[1], {"leader": "dzz_shuji"}))
    visit = {**visit, "visited_on": _day(-3).isoformat(), "problems": [problems[0]]}
    _then(_day(-3), lambda: advance(open_follow_up, [("visit", visit)], rng))
    leader = "dzbs1_shuji" if db.session.scalar(select(User.id).where(User.username == "dzbs1_shuji")) else "dzz_shuji"
    _then(_day(-10), lambda: start_instance(None, "contact_visit", branches[2],
                                            {"leader": leader, "planned_date": _day(12).isoformat()}))
    return 3


def _letter_steps(year: int) -> list[tuple[str, dict[str, Any]]]:
    return [("set_targets", {}),
            ("sign", {"decision": "sign", "signed_by": "支部书记", "signed_on": date(year, 3, 10).isoformat()}),
            ("counter_sign", {"counter_signed_by": "上级书记", "counter_signed_on": date(year, 3, 12).isoformat()})]


def _with_targets(instance: Instance) -> list[tuple[str, dict[str, Any]]]:
    from service.instances.operations import restore_case

    targets = restore_case(instance).data.get("targets") or ["按时开展组织生活"]
    return [("set_targets", {"targets": targets})]


def _letters(rng: random.Random) -> int:
    from service.campaigns.operations import launch_campaign
    from service.instances.operations import restore_case

    secretary = db.session.scalar(select(User).where(User.username == "tzz_shuji"))
    if secretary is None or not _exists("DZZ", "TZZ"):
        return 0
    today = clock.now().date()
    # last year's letter of the League general branch, reviewed this spring
    year = today.year - 1 if today > date(today.year, 3, 20) else today.year - 2
    last = _then(date(year, 3, 5), lambda: start_instance(None, "responsibility_letter", "TZZ", {"year": year}))
    _then(date(year, 3, 12), lambda: advance(last, _with_targets(last) + _letter_steps(year)[1:], rng))
    _then(date(year + 1, 3, 2), lambda: fire_timers(last))
    rows = restore_case(last).data.get("self_results") or []
    results = [{**row, "met": i % 3 != 2, "note": "已完成" if i % 3 != 2 else "未按期完成"} for i, row in enumerate(rows)]
    _then(date(year + 1, 3, 10), lambda: advance(last, [("self_review", {"self_results": results, "self_summary": "基本完成"}),
                                                        ("review", {"results": results, "review_comment": "总体较好"})], rng))
    count = 1
    # this year's letters of the League branches (a campaign); a third are signed and counter-signed
    deadline = today + timedelta(days=30)
    _, instances = launch_campaign(actor_for(secretary), "responsibility_letter", today.year, deadline)
    for index, instance in enumerate(instances):
        if index % 3 == 0:
            advance(instance, _with_targets(instance) + _letter_steps(today.year)[1:], rng)
        elif index % 3 == 1:
            advance(instance, _with_targets(instance), rng)
    count += len(instances)
    # the Party general branch's letters with the Party branches and the League general branch: targets set
    for code in [*db.session.scalars(select(OrgUnit.code).where(OrgUnit.kind == "party_branch").order_by(OrgUnit.code)),
                 "TZZ"]:
        letter = start_instance(None, "responsibility_letter", code, {"year": today.year})
        advance(letter, _with_targets(letter), rng)
        count += 1
    return count


def _assessments(rng: random.Random) -> int:
    from service.campaigns.operations import launch_campaign

    secretary = db.session.scalar(select(User).where(User.username == "dzz_shuji"))
    if secretary is None:
        return 0
    today = clock.now().date()
    _, instances = launch_campaign(actor_for(secretary), "party_branch_assessment", today.year,
                                   today + timedelta(days=21))
    report = {"report": "本年度支部委员会四次专题研究团建工作，委员分别联系结对团支部。", "highlights": "推优程序规范"}
    good = {"leadership": 9, "recommendation": 8, "contact": 8, "cadres": 7, "rectification": 8}
    weak = {"leadership": 5, "recommendation": 6, "contact": 4, "cadres": 6, "rectification": 5}
    for index, instance in enumerate(instances):
        if index == 0:
            advance(instance, [("self_report", report)], rng)
        elif index in (1, 2):
            scores = good if index == 1 else weak
            problems = [] if index == 1 else ["党团联席会议未按期召开", "支委未走访联系的团支部"]
            advance(instance, [("self_report", report), ("score", {"scores": scores, "problems": problems})], rng)
    return len(instances)


def seed(rng: random.Random) -> dict[str, int]:
    deployed = set(db.session.scalars(select(ProcessModel.key)))
    created: dict[str, int] = {}
    for key, make in (("coordination_meeting", _meetings), ("contact_visit", _visits),
                      ("responsibility_letter", _letters), ("party_branch_assessment", _assessments)):
        if key in deployed:
            created[key] = make(rng)
    return created
