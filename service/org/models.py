"""Org units (Party and League branches, paired), people, users and their scoped roles."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import UTCDateTime, db

ORG_KINDS = ("party_general_branch", "party_branch", "league_general_branch", "league_branch")
PARTY_STATUSES = ("masses", "applicant", "activist", "development_candidate", "probationary", "full")


class OrgUnit(db.Model):
    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    paired_with_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    founded: Mapped[date | None] = mapped_column(Date)
    last_reelection: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    paired_with: Mapped[OrgUnit | None] = relationship(remote_side=[id], foreign_keys=[paired_with_id])


class Person(db.Model):
    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # student / staff number
    name: Mapped[str] = mapped_column(String(100), index=True)
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    league_member: Mapped[bool] = mapped_column(Boolean, default=False)
    league_joined: Mapped[date | None] = mapped_column(Date)
    league_number: Mapped[str | None] = mapped_column(String(32))
    league_post: Mapped[str | None] = mapped_column(String(32))
    party_status: Mapped[str] = mapped_column(String(32), default="masses")
    party_applied: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(32))
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    org_unit: Mapped[OrgUnit | None] = relationship(lazy="joined")


class User(db.Model):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on password change: tokens issued before it stop working
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    email: Mapped[str | None] = mapped_column(String(200))  # for notification e-mails (MAIL_ENABLED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    person: Mapped[Person | None] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")


class RoleAssignment(db.Model):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role", "org_unit_id", name="uq_role_assignment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    org_unit: Mapped[OrgUnit | None] = relationship(lazy="joined")
