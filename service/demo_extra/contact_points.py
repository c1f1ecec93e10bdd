"""Demo cases of 联系点安排 (contact_points), through the real operations with the clock moved: last year's
table, assigned in January, whose contact-point visits (contact_visit cases started by it) were all made
during that year; and this year's table, sent back to the Party general branch secretary because one
leader was given three branches."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from service import clock
from service.auth.operations import actor_for
from service.demo_cases import advance
from service.extensions import db
from service.instances.models import Instance
from service.instances.operations import restore_case, start_instance
from service.modeler.models import ProcessModel
from service.org.models import OrgUnit, User

PROCESS = "contact_points"
VISIT = "contact_visit"
SUBJECT = "DZZ"
FINDINGS = ["支部组织生活正常开展，团员参与度较高", "主题团日活动有计划、有记录", "推优工作程序规范，台账完整"]


def _moment(day: date, hour: int = 10) -> datetime:
    """That day at `hour` Beijing time, as the service clock's UTC."""
    return datetime.fromisoformat(f"{day.isoformat()}T{hour:02d}:00:00+08:00")


def _table(instance: Instance) -> list[dict[str, Any]]:
    """Each leader one League branch, in roster order, the first leader a second one."""
    data = restore_case(instance).data
    codes = [b["code"] for b in data.get("league_branches") or []]
    leaders = [person["username"] for person in data.get("leaders") or []][:len(codes)]
    table = [{"leader": leader, "branches": [codes[i]], "note": ""} for i, leader in enumerate(leaders)]
    if table and len(codes) > len(leaders):
        table[0]["branches"].append(codes[len(leaders)])
    return table


def _visit_ids() -> set[int]:
    return set(db.session.scalars(select(Instance.id).where(Instance.process_key == VISIT)))


def _last_year(actor: Any, rng: random.Random) -> None:
    """Assigned in January; every contact point visited between April and November."""
    year = clock.now().date().year - 1
    with clock.frozen_at(_moment(date(year, 1, 10))):
        case = start_instance(actor, PROCESS, SUBJECT, {"year": year})
    before = _visit_ids()
    with clock.frozen_at(_moment(date(year, 1, 12))):
        advance(case, [("assign", {"assignments": _table(case)})], rng)
    for visit_id in sorted(_visit_ids() - before):
        day = date(year, 4, 1) + timedelta(days=rng.randrange(0, 230))
        visit = {"visited_on": day.isoformat(), "visit_form": "座谈会", "findings": rng.choice(FINDINGS), "problems": []}
        with clock.frozen_at(_moment(day, 15)):
            advance(db.session.get(Instance, visit_id), [("visit", visit)], rng)


def _this_year(actor: Any, rng: random.Random) -> None:
    """Started two days ago with last year's table offered; sent back yesterday (three branches for one leader)."""
    today = clock.now().date()
    with clock.frozen_at(_moment(today - timedelta(days=2))):
        case = start_instance(actor, PROCESS, SUBJECT, {"year": today.year})
    table = [dict(row) for row in restore_case(case).data.get("assignments") or []]
    codes = [code for row in table for code in row["branches"]]
    if table and len(codes) >= 3:
        table[0] = {**table[0], "branches": codes[:3]}
    with clock.frozen_at(_moment(today - timedelta(days=1))):
        advance(case, [("assign", {"assignments": table})], rng)


def seed(rng: random.Random) -> dict[str, int]:
    deployed = set(db.session.scalars(select(ProcessModel.key)))
    secretary = db.session.scalar(select(User).where(User.username == "dzz_shuji"))
    if not {PROCESS, VISIT} <= deployed or secretary is None or db.session.scalar(
            select(OrgUnit.id).where(OrgUnit.code == SUBJECT)) is None:
        return {}
    actor = actor_for(secretary)
    _last_year(actor, rng)
    _this_year(actor, rng)
    return {PROCESS: 2}
