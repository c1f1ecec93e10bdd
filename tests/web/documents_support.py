"""The documents' and visibility tests' scene: the real bpmn/ and forms/ deployed, 机械2301团支部 with enough
members, and 张三's recommendation driven through the real operations (the committee, the general branch,
the meeting, the notice with an objection from 王五, the review and the Party branch's acceptance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BEIJING = timezone(timedelta(hours=8))
CANDIDATE = "2023010101"  # 张三, 机械2301团支部
SECRETARY = "2023010102"  # 李四, its secretary
OTHER_MEMBER = "2024010101"  # 王五, 机械2401团支部: raises the objection
ID_NUMBER = "110105200503011234"
PHONE = "13812345678"
MEETING = {"meeting_date": "2026-09-10", "entitled": 8, "present": 7, "yes": 6, "no": 1, "abstain": 0,
           "ballots_issued": 7, "ballots_collected": 7, "notes": "联系人电话 13912345678"}


def beijing(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BEIJING)  # type: ignore[misc]


def real_process_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


def build_cast(make_person: Callable[..., Any], make_user: Callable[..., Any], deploy: Callable[..., Any]) -> None:
    make_person(CANDIDATE, "张三", "TZB-JX2301", birth_date=date(2005, 3, 1), id_number=ID_NUMBER, phone=PHONE)
    make_person(SECRETARY, "李四", "TZB-JX2301", league_post="书记")
    for n in range(3, 9):
        make_person(f"202301010{n}", f"团员{n}", "TZB-JX2301")
    make_person(OTHER_MEMBER, "王五", "TZB-JX2401")
    make_user("zhangsan", [("member", None)], person=CANDIDATE)
    make_user("lisi", [("league_branch_secretary", "TZB-JX2301"), ("member", None)], person=SECRETARY)
    make_user("committee1", [("league_branch_committee", "TZB-JX2301")])
    make_user("counsellor1", [("counsellor", "TZB-JX2301")])
    make_user("counsellor3", [("counsellor", "TZB-JX2401")])  # a counsellor of other classes
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])
    make_user("dzbmember", [("party_branch_committee", "DZB-S1")])  # sees the branch, handles no lane
    make_user("sec3", [("league_branch_secretary", "TZB-JX2401")])
    make_user("wangwu", [("member", None)], person=OTHER_MEMBER)
    make_user("root", [("admin", None)])
    deploy(ROOT / "bpmn" / "recommendation.bpmn")


def _actor(username: str) -> Any:
    from service.auth.operations import actor_for
    from service.extensions import db
    from service.org.models import User

    return actor_for(db.session.scalars(sa.select(User).where(User.username == username)).one())


def complete(instance_id: int, username: str, name: str, data: dict[str, Any]) -> None:
    from service.extensions import db
    from service.instances.models import HumanTask
    from service.instances.operations import complete_task

    task = db.session.scalars(sa.select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.name == name, HumanTask.status == "ready")).one()
    complete_task(_actor(username), task.id, data)
    db.session.commit()


def recommendation(until: str = "accepted") -> int:
    """张三's case driven to `until`: "meeting" (meeting recorded), "objection" (an objection waiting for
    the investigation), "approved" (the general branch approved: the 推荐表 exists) or "accepted"."""
    from service import clock
    from service.extensions import db
    from service.instances.operations import send_message, start_instance
    from service.timers.operations import run_due

    with clock.frozen_at(beijing(2026, 9, 1, 10)):
        instance = start_instance(_actor("zhangsan"), "recommendation", CANDIDATE, {})
        db.session.commit()
        case = instance.id
        complete(case, "zhangsan", "apply", {"statement": "我志愿加入中国共产党，请团组织推荐。"})
        complete(case, "committee1", "committee_review", {"decision": "approve", "counsellor_opinion": "表现优秀，同意"})
        complete(case, "tzz", "meeting_approval", {"decision": "approve", "meeting_date": "2026-09-10",
                                                   "meeting_time": "14:30", "meeting_place": "一教 201"})
        complete(case, "lisi", "meeting_record", MEETING)
    if until == "meeting":
        return case
    with clock.frozen_at(beijing(2026, 11, 27, 10)):
        complete(case, "committee1", "committee_opinion", {"opinion": "该同志表现突出，同意推荐。"})
    with clock.frozen_at(beijing(2026, 11, 30, 10)):
        send_message(_actor("wangwu"), case, "objection", {"reason": "反映该同志团费未交"})
        db.session.commit()
    if until == "objection":
        return case
    with clock.frozen_at(beijing(2026, 11, 30, 11)):
        complete(case, "tzz", "investigate_objection", {"upheld": False, "finding": "经核实团费已按时交纳"})
    run_due(now=beijing(2026, 12, 5, 0, 1))
    with clock.frozen_at(beijing(2026, 12, 7, 10)):
        complete(case, "tzz", "general_branch_review", {"decision": "approve", "comment": "同意推荐"})
    if until == "approved":
        return case
    with clock.frozen_at(beijing(2026, 12, 10, 10)):
        complete(case, "dzb1", "party_branch_decision", {"decision": "accept", "contacts": [SECRETARY]})
    return case


def restricted_views() -> list[Any]:
    from service.audit import AuditEvent
    from service.extensions import db

    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "restricted_view")
                                   .order_by(AuditEvent.id)))
