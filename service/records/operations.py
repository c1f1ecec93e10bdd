"""Writing and reading subject records (see the package docstring)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service import audit, clock
from service.extensions import db

from .models import SubjectRecord

SUBJECT_KINDS = ("person", "org_unit")
#: the most records of one kind a subject's facts carry (newest first)
FACTS_LIMIT = 20


def add_record(*, subject_kind: str, subject: str, kind: str, year: int | None = None,
               data: dict[str, Any] | None = None, instance_id: int | None = None,
               actor_id: int | None = None) -> SubjectRecord:
    if subject_kind not in SUBJECT_KINDS:
        raise ValueError(f"unknown subject kind {subject_kind!r}")
    if not kind or len(kind) > 64:
        raise ValueError("a record needs a kind of at most 64 characters")
    row = SubjectRecord(subject_kind=subject_kind, subject=str(subject), kind=kind, year=year,
                        data=dict(data or {}), instance_id=instance_id, created_at=clock.now())
    db.session.add(row)
    audit.record("record_added", actor_id=actor_id, instance_id=instance_id, subject_kind=subject_kind,
                 subject=str(subject), kind=kind, year=year)
    return row


def as_fact(row: SubjectRecord) -> dict[str, Any]:
    return {"kind": row.kind, "year": row.year, "at": row.created_at.isoformat(), "instance": row.instance_id,
            "data": row.data}


def records_of(subject_kind: str, subject: str, kind: str | None = None) -> list[SubjectRecord]:
    query = select(SubjectRecord).where(SubjectRecord.subject_kind == subject_kind,
                                        SubjectRecord.subject == str(subject))
    if kind is not None:
        query = query.where(SubjectRecord.kind == kind)
    return list(db.session.scalars(query.order_by(SubjectRecord.created_at.desc(), SubjectRecord.id.desc())))


def facts_records(subject_kind: str, subject: str) -> dict[str, list[dict[str, Any]]]:
    """kind -> that kind's records, newest first (at most FACTS_LIMIT each): what processes read."""
    return facts_records_many(subject_kind, [subject]).get(str(subject), {})


def facts_records_many(subject_kind: str, subjects: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """facts_records for many subjects in one statement per 500: subject -> kind -> records."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    wanted = [str(s) for s in subjects]
    for chunk in range(0, len(wanted), 500):
        rows = db.session.scalars(
            select(SubjectRecord).where(SubjectRecord.subject_kind == subject_kind,
                                        SubjectRecord.subject.in_(wanted[chunk:chunk + 500]))
            .order_by(SubjectRecord.created_at.desc(), SubjectRecord.id.desc()))
        for row in rows:
            bucket = grouped.setdefault(row.subject, {}).setdefault(row.kind, [])
            if len(bucket) < FACTS_LIMIT:
                bucket.append(as_fact(row))
    return grouped
