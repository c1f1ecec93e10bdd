"""A case's subject: a person or an org unit, with the facts a process may read at start."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, func, select

from service.errors import ApiError
from service.extensions import db
from service.org.models import OrgUnit, Person
from service.records.operations import facts_records, facts_records_many


@dataclass
class Subject:
    kind: str
    id: str
    unit: str | None
    _facts: Callable[[], Mapping[str, Any]]

    @cached_property
    def facts(self) -> Mapping[str, Any]:
        """What a process may read about its subject (computed only when a process asks)."""
        return self._facts()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


class LazyFacts(Mapping[str, Any]):
    """A subject's facts: plain values plus entries computed only when a process reads them (each
    costs a query; most processes read a few). Values given up front (bulk reads) win."""

    def __init__(self, values: dict[str, Any], lazy: dict[str, Callable[[], Any]]):
        self._values = values
        self._lazy = {k: f for k, f in lazy.items() if k not in values}

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            if key not in self._lazy:
                raise KeyError(key)
            self._values[key] = self._lazy.pop(key)()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._values, *self._lazy])

    def __len__(self) -> int:
        return len(self._values) + len(self._lazy)


def _league_members(unit: OrgUnit) -> int:
    return db.session.scalar(select(func.count()).select_from(Person).where(
        Person.org_unit_id == unit.id, Person.league_member.is_(True))) or 0


def _officers(unit: OrgUnit) -> list[dict[str, Any]]:
    """Who holds a League post in the unit (a re-election clears the posts of those not re-elected)."""
    return [{"id": pid, "name": name, "league_post": post} for pid, name, post in db.session.execute(
        select(Person.id, Person.name, Person.league_post).where(
            Person.org_unit_id == unit.id, Person.league_post.isnot(None), Person.league_post.notin_(("", "无")))
        .order_by(Person.id))]


def unit_facts(unit: OrgUnit, **known: Any) -> LazyFacts:
    """What a process may read about an org unit. `known`: entries the caller read in bulk."""
    return LazyFacts({
        "code": unit.code, "name": unit.name, "kind": unit.kind, "founded": _iso(unit.founded),
        "last_reelection": _iso(unit.last_reelection),
        "parent": unit.parent.code if unit.parent else None,
        "paired_with": unit.paired_with.code if unit.paired_with else None,
        **known,
    }, {
        "league_members": lambda: _league_members(unit),
        "officers": lambda: _officers(unit),
        "records": lambda: facts_records("org_unit", unit.code),
        **({"league_work": lambda: _league_work(unit)} if unit.kind == "party_branch" else {}),
        **({"structure": lambda: _structure(unit)} if unit.kind == "party_general_branch" else {}),
    })


#: the roles that make a user one of a Party general branch's leaders (e.g. for contact points)
PARTY_LEADER_ROLES = ("party_general_branch_secretary", "party_branch_secretary", "party_branch_committee")


def _structure(unit: OrgUnit) -> dict[str, Any]:
    """A Party general branch's League branches (those under the units it leads or is paired with) and its
    Party leaders (active users holding a Party role at it or a Party branch below it), in two queries."""
    from service.instances.access import org_graph
    from service.org.models import RoleAssignment, User

    graph = org_graph()
    branches = [{"code": code, "name": name} for code, name in db.session.execute(
        select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(graph.visible_units({unit.code})),
                                                 OrgUnit.kind == "league_branch").order_by(OrgUnit.code))]
    leaders: dict[str, dict[str, Any]] = {}
    for username, name, role in db.session.execute(
            select(User.username, Person.name, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.user_id == User.id).join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
            .outerjoin(Person, Person.id == User.person_id)
            .where(User.active.is_(True), OrgUnit.code.in_(graph.descendants(unit.code)),
                   RoleAssignment.role.in_(PARTY_LEADER_ROLES)).order_by(User.username, RoleAssignment.role)):
        leaders.setdefault(username, {"username": username, "name": name or "", "roles": []})["roles"].append(role)
    return {"league_branches": branches, "party_leaders": list(leaders.values())}


def _league_work(unit: OrgUnit) -> dict[str, Any]:
    """A Party branch's 党建带团建 figures, in three grouped queries: its paired League branches; cases
    about those branches (or their members) and the Party branch finished per year (Beijing) -> process
    -> outcome; cases running per process; records on those units per year -> kind."""
    from service.instances.models import Instance
    from service.records.models import SubjectRecord

    paired = list(db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.paired_with_id == unit.id, OrgUnit.kind == "league_branch").order_by(OrgUnit.code)))
    units = [unit.code, *paired]
    finished: dict[str, dict[str, dict[str, int]]] = {}
    for process, outcome, completed_at, count in db.session.execute(
            select(Instance.process_key, Instance.outcome, Instance.completed_at, func.count())
            .where(Instance.subject_unit.in_(units), Instance.status == "completed")
            .group_by(Instance.process_key, Instance.outcome, Instance.completed_at)):
        year = str((completed_at + timedelta(hours=8)).year) if completed_at else "unknown"
        by_outcome = finished.setdefault(year, {}).setdefault(process, {})
        by_outcome[outcome or "none"] = by_outcome.get(outcome or "none", 0) + count
    running = {process: count for process, count in db.session.execute(
        select(Instance.process_key, func.count()).where(Instance.subject_unit.in_(units), Instance.status == "running")
        .group_by(Instance.process_key))}
    records: dict[str, dict[str, int]] = {}
    for kind, year, count in db.session.execute(
            select(SubjectRecord.kind, SubjectRecord.year, func.count())
            .where(SubjectRecord.subject_kind == "org_unit", SubjectRecord.subject.in_(units))
            .group_by(SubjectRecord.kind, SubjectRecord.year)):
        records.setdefault(str(year), {})[kind] = count
    return {"paired_league_branches": paired, "finished": finished, "running": running, "records": records}


def unit_subjects(units: list[OrgUnit]) -> dict[str, Subject]:
    """Subjects of many org units, their member counts and records read in two statements rather than
    two per unit (a campaign starts a case for every branch in one transaction)."""
    counts = dict(db.session.execute(
        select(Person.org_unit_id, func.count()).where(Person.org_unit_id.in_([u.id for u in units]),
                                                        Person.league_member.is_(True))
        .group_by(Person.org_unit_id)).all())
    records = facts_records_many("org_unit", [u.code for u in units])
    subjects: dict[str, Subject] = {}
    for unit in units:
        facts = unit_facts(unit, league_members=counts.get(unit.id, 0), records=records.get(unit.code, {}))
        subjects[unit.code] = Subject("org_unit", unit.code, unit.code, lambda facts=facts: facts)
    return subjects


def resolve_subject(kind: str, subject_id: str) -> Subject:
    if kind == "person":  # the id and unit in one small row; the person's row only if a process reads facts
        row = db.session.execute(_PERSON_AND_UNIT, {"id": subject_id}).first()
        if row is None:
            raise ApiError(422, "validation_failed", details=[
                {"field": "subject", "message": f"人员 {subject_id} 不存在 / no person with this id"}])
        return Subject("person", row.id, row.code, lambda: _person_facts(db.session.get(Person, row.id)))
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == subject_id))
    if unit is None:
        raise ApiError(422, "validation_failed", details=[
            {"field": "subject", "message": f"组织 {subject_id} 不存在 / no org unit with this code"}])
    return Subject("org_unit", unit.code, unit.code, lambda: unit_facts(unit))


_PERSON_AND_UNIT = (select(Person.id, OrgUnit.code).outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
                    .where(Person.id == bindparam("id")))


def _person_facts(person: Person) -> LazyFacts:
    unit = person.org_unit
    return LazyFacts({
        "id": person.id, "name": person.name, "gender": person.gender, "birth_date": _iso(person.birth_date),
        "org_unit": unit.code if unit else None, "league_member": person.league_member,
        "league_joined": _iso(person.league_joined), "league_post": person.league_post,
        "party_status": person.party_status, "party_applied": _iso(person.party_applied),
    }, {
        "unit": lambda: unit_facts(unit) if unit else None,
        "records": lambda: facts_records("person", person.id),
    })
