"""Demo cases of 党校培训班 (party_training) at several stages, driven through the real operations with
the clock moved: a spring class finished months ago (certificates issued, a few participants failed or
missed too many hours), an autumn class in progress (applications reviewed, the first session's
attendance recorded) and a winter class open for applications."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from service import clock
from service.auth.operations import actor_for
from service.demo_cases import advance
from service.extensions import db
from service.instances.models import Instance
from service.instances.operations import fire_timers, restore_case, send_message, start_instance
from service.modeler.models import ProcessModel
from service.org.models import OrgUnit, Person, User

PROCESS = "party_training"
ORGANISER = "DZZ"


def _day(offset: int) -> str:
    return (clock.now().date() + timedelta(days=offset)).isoformat()


def _moment(day: str, hour: int = 10) -> datetime:
    """10:00 Beijing time on that day, as the service clock's UTC."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


def _class(code: str, name: str, start: int, sessions: int, capacity: int, deadline: int) -> dict[str, Any]:
    days = [_day(start + 7 * i) for i in range(sessions)]
    return {"class_name": name, "class_code": code, "start_date": days[0], "end_date": days[-1],
            "sessions": [{"date": d, "hours": 4, "topic": topic} for d, topic in zip(days, TOPICS, strict=False)],
            "capacity": capacity, "application_deadline": _day(deadline)}


TOPICS = ["党的基本理论", "党章与党的纪律", "党的光荣历史", "入党动机与端正态度", "新时代青年的使命担当"]


def _ready_data(instance: Instance, task: str) -> dict[str, Any]:
    for view in restore_case(instance).ready_human_tasks():
        if view.name == task:
            return dict(view.data)
    return {}


def _applicants(rng: random.Random, count: int, exclude: set[str]) -> list[tuple[Person, User | None]]:
    """Applicants (入党申请人) of the college, preferring those with an account (they apply themselves)."""
    people = list(db.session.execute(select(Person, User).outerjoin(User, User.person_id == Person.id).where(
        Person.party_status == "applicant").order_by(User.id.is_(None), Person.id).limit(count + len(exclude))).all())
    chosen = [(p, u) for p, u in people if p.id not in exclude]
    return chosen[:count]


def _apply(instance: Instance, person: Person, user: User | None) -> None:
    send_message(actor_for(user) if user else None, instance.id, "training_application",
                 {"person": person.id, "name": person.name, "statement": "本人已递交入党申请书，希望参加党校学习，提高思想认识。"})


def _open(secretary: User, spec: dict[str, Any], at: str, rng: random.Random) -> Instance:
    with clock.frozen_at(_moment(at)):
        instance = start_instance(actor_for(secretary), PROCESS, ORGANISER, spec)
        advance(instance, [("open_class", spec)], rng)
    return instance


def _review(instance: Instance, at: str, rng: random.Random, reject_every: int = 4) -> None:
    with clock.frozen_at(_moment(at)):
        fire_timers(instance)  # the application deadline has passed
        rows = _ready_data(instance, "review_applications").get("decisions") or []
        decisions = [{"person": r["person"], "decision": "reject", "reason": "尚不满足参训条件"}
                     if i % reject_every == reject_every - 1 else {"person": r["person"], "decision": "approve"}
                     for i, r in enumerate(rows)]
        advance(instance, [("review_applications", {"decisions": decisions})], rng)


def _attend(instance: Instance, at: str, rng: random.Random, absent: set[str]) -> None:
    with clock.frozen_at(_moment(at, 20)):
        rows = _ready_data(instance, "record_attendance").get("attendance") or []
        sheet = [{"person": r["person"], "name": r["name"],
                  "hours": 0 if r["person"] in absent else (r["hours"] if rng.random() > 0.1 else r["hours"] - 1)}
                 for r in rows]
        advance(instance, [("record_attendance", {"attendance": sheet})], rng)


def _spring_class(secretary: User, rng: random.Random) -> Instance:
    """Finished about four months ago: certificates on most participants."""
    spec = _class("DEMO-1", f"{clock.now().year} 年春季入党积极分子培训班", -150, 3, 60, -155)
    instance = _open(secretary, spec, _day(-165), rng)
    with clock.frozen_at(_moment(_day(-160))):
        for person, user in _applicants(rng, 3, set()):
            _apply(instance, person, user)
    _review(instance, _day(-154), rng)
    participants = [p["person"] for p in _ready_data(instance, "record_attendance").get("participants") or []]
    absent = set(participants[-2:])  # missed two of three sessions: no certificate
    for index, session in enumerate(spec["sessions"]):
        _attend(instance, session["date"], rng, absent if index < 2 else set())
    with clock.frozen_at(_moment(_day(-140))):
        scores = [{"person": p, "exam": rng.randint(30, 40) if i % 9 == 4 else rng.randint(68, 96),
                   "reflection": rng.randint(70, 95)} for i, p in enumerate(participants)]
        advance(instance, [("record_exam", {"scores": scores}),
                           ("confirm_results", {"decision": "confirm", "comment": "成绩已核对"})], rng)
    return instance


def _autumn_class(secretary: User, rng: random.Random, applied: set[str]) -> Instance:
    """Under way: applications reviewed, the first session's attendance recorded."""
    spec = _class("DEMO-2", f"{clock.now().year} 年秋季入党积极分子培训班", -3, 4, 30, -6)
    instance = _open(secretary, spec, _day(-20), rng)
    with clock.frozen_at(_moment(_day(-12))):
        for person, user in _applicants(rng, 4, applied):
            _apply(instance, person, user)
    _review(instance, _day(-5), rng)
    _attend(instance, spec["sessions"][0]["date"], rng, set())
    return instance


def _winter_class(secretary: User, rng: random.Random, applied: set[str]) -> Instance:
    """Open for applications until next week."""
    spec = _class("DEMO-3", f"{clock.now().year + 1} 年寒假党校培训班", 14, 3, 20, 7)
    instance = _open(secretary, spec, _day(-2), rng)
    with clock.frozen_at(_moment(_day(-1))):
        for person, user in _applicants(rng, 2, applied):
            _apply(instance, person, user)
    return instance


def _applied(instance: Instance) -> set[str]:
    data = restore_case(instance).data
    return {a["person"] for a in data.get("applications") or []}


def seed(rng: random.Random) -> dict[str, int]:
    deployed = db.session.scalar(select(ProcessModel.key).where(ProcessModel.key == PROCESS))
    secretary = db.session.scalar(select(User).where(User.username == "dzz_shuji"))
    organiser = db.session.scalar(select(OrgUnit).where(OrgUnit.code == ORGANISER))
    if deployed is None or secretary is None or organiser is None:
        return {}
    spring = _spring_class(secretary, rng)
    autumn = _autumn_class(secretary, rng, _applied(spring))
    _winter_class(secretary, rng, _applied(spring) | _applied(autumn))
    return {PROCESS: 3}
