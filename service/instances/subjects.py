"""A case's subject: a person or an org unit, with the facts a process may read at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import func, select

from service.errors import ApiError
from service.extensions import db
from service.org.models import OrgUnit, Person
from service.records.operations import facts_records


@dataclass
class Subject:
    kind: str
    id: str
    unit: str | None
    _facts: Callable[[], dict[str, Any]]

    @cached_property
    def facts(self) -> dict[str, Any]:
        """What a process may read about its subject (computed only when a process asks)."""
        return self._facts()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def unit_facts(unit: OrgUnit) -> dict[str, Any]:
    members = db.session.scalar(select(func.count()).select_from(Person).where(
        Person.org_unit_id == unit.id, Person.league_member.is_(True)))
    return {
        "code": unit.code, "name": unit.name, "kind": unit.kind, "founded": _iso(unit.founded),
        "last_reelection": _iso(unit.last_reelection),
        "parent": unit.parent.code if unit.parent else None,
        "paired_with": unit.paired_with.code if unit.paired_with else None,
        "league_members": members or 0,
        "records": facts_records("org_unit", unit.code),
    }


def resolve_subject(kind: str, subject_id: str) -> Subject:
    if kind == "person":
        person = db.session.get(Person, subject_id)
        if person is None:
            raise ApiError(422, "validation_failed", details=[
                {"field": "subject", "message": f"人员 {subject_id} 不存在 / no person with this id"}])
        unit = person.org_unit
        return Subject("person", person.id, unit.code if unit else None, lambda: _person_facts(person))
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == subject_id))
    if unit is None:
        raise ApiError(422, "validation_failed", details=[
            {"field": "subject", "message": f"组织 {subject_id} 不存在 / no org unit with this code"}])
    return Subject("org_unit", unit.code, unit.code, lambda: unit_facts(unit))


def _person_facts(person: Person) -> dict[str, Any]:
    unit = person.org_unit
    return {
            "id": person.id, "name": person.name, "gender": person.gender, "birth_date": _iso(person.birth_date),
            "org_unit": unit.code if unit else None, "league_member": person.league_member,
            "league_joined": _iso(person.league_joined), "league_post": person.league_post,
            "party_status": person.party_status, "party_applied": _iso(person.party_applied),
            "unit": unit_facts(unit) if unit else None,
            "records": facts_records("person", person.id),
    }
