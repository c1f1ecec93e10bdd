"""What the admin console's lists read: users with their people and roles, cases with filters and
counts per status, the org units to pick from. A fixed number of queries per page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from service.extensions import db
from service.instances.models import INSTANCE_STATUSES, Instance
from service.org.models import ORG_KINDS, OrgUnit, Person, RoleAssignment, User


@dataclass(frozen=True)
class UserFilters:
    search: str | None = None  # username, person name or person id
    role: str | None = None
    active: bool | None = None


def _users_query(filters: UserFilters) -> Select[Any]:
    stmt = select(User).outerjoin(Person, Person.id == User.person_id)
    if filters.search:
        stmt = stmt.where(or_(User.username.contains(filters.search, autoescape=True),
                              Person.name.contains(filters.search, autoescape=True),
                              Person.id == filters.search))
    if filters.role:
        stmt = stmt.where(User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role == filters.role)))
    if filters.active is not None:
        stmt = stmt.where(User.active.is_(filters.active))
    return stmt


def users_page(filters: UserFilters, limit: int, offset: int) -> tuple[Sequence[User], int]:
    stmt = _users_query(filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.options(joinedload(User.person)).order_by(User.username)
                              .limit(limit).offset(offset)).unique().all()
    return rows, total


def org_units() -> list[OrgUnit]:
    """Every org unit, Party before League, general branches before branches, then by code."""
    units = db.session.scalars(select(OrgUnit)).all()
    return sorted(units, key=lambda unit: (ORG_KINDS.index(unit.kind) if unit.kind in ORG_KINDS else 9, unit.code))


@dataclass(frozen=True)
class CaseFilters:
    process: str | None = None
    status: str | None = None
    search: str | None = None  # subject id or code, a person's or an org unit's name


def _cases_query(filters: CaseFilters, *, with_status: bool = True) -> Select[Any]:
    stmt = select(Instance)
    if filters.process:
        stmt = stmt.where(Instance.process_key == filters.process)
    if with_status and filters.status in INSTANCE_STATUSES:
        stmt = stmt.where(Instance.status == filters.status)
    if filters.search:
        text = filters.search
        stmt = stmt.where(or_(
            Instance.subject.startswith(text, autoescape=True),
            Instance.subject.in_(select(Person.id).where(Person.name.contains(text, autoescape=True))),
            Instance.subject.in_(select(OrgUnit.code).where(OrgUnit.name.contains(text, autoescape=True)))))
    return stmt


def cases_page(filters: CaseFilters, limit: int, offset: int) -> tuple[Sequence[Instance], int]:
    stmt = _cases_query(filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(Instance.updated_at.desc(), Instance.id.desc())
                              .limit(limit).offset(offset)).all()
    return rows, total


def status_counts(filters: CaseFilters) -> dict[str, int]:
    """Cases per status under the other filters (every status listed, zero included)."""
    base = _cases_query(filters, with_status=False).subquery()
    found = dict(db.session.execute(select(base.c.status, func.count()).group_by(base.c.status)).all())
    return {status: found.get(status, 0) for status in INSTANCE_STATUSES}
