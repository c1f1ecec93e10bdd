"""Waking instances whose earliest timer is due. Each instance is its own transaction.

On PostgreSQL the due rows are claimed with FOR UPDATE SKIP LOCKED, so several workers can run
side by side and each timer fires once; on SQLite one worker runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from service import clock
from service.extensions import db
from service.instances.models import Instance
from service.instances.operations import fire_timers
from service.ops import jobs, metrics
from service.transaction import is_lock_conflict

log = logging.getLogger(__name__)


@dataclass
class TimerRun:
    fired: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    lateness_seconds: list[float] = field(default_factory=list)


def _claim_next(now: datetime, skip: set[int]) -> Instance | None:
    stmt = (select(Instance)
            .where(Instance.status == "running", Instance.next_timer_at.isnot(None), Instance.next_timer_at <= now)
            .where(~jobs.held_back("timer", now))  # failed before: waits for its next attempt or an admin
            .order_by(Instance.next_timer_at, Instance.id).limit(1)
            .execution_options(populate_existing=True))  # another worker may have changed it meanwhile
    if skip:
        stmt = stmt.where(Instance.id.notin_(skip))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Instance)
    return db.session.scalars(stmt).first()


def run_due(now: datetime | None = None, limit: int | None = None) -> TimerRun:
    """Fire everything due at `now` (default: the clock), one instance per transaction."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    result = TimerRun()
    skip: set[int] = set()
    while limit is None or result.fired + len(result.failed) < limit:
        moment = now or clock.now()
        instance = _claim_next(moment, skip)
        if instance is None:
            db.session.rollback()
            break
        instance_id = instance.id
        skip.add(instance_id)  # at most once per run: a timer due exactly now fires on the next poll
        due = clock.as_utc(instance.next_timer_at)
        try:
            with clock.frozen_at(moment):
                with db.session.begin_nested():  # a failure is undone alone: the claim stays held to record it
                    fire_timers(instance)
                jobs.record_success("timer", instance_id, moment)
            db.session.commit()
            result.fired += 1
            lateness = None
            if due is not None:
                fired_at = moment if now is not None else clock.now()
                lateness = max(0.0, (fired_at - due).total_seconds())
                result.lateness_seconds.append(lateness)
            metrics.timer_fired(lateness)
        except (StaleDataError, OperationalError) as exc:
            db.session.rollback()
            if isinstance(exc, OperationalError) and not is_lock_conflict(exc):
                raise
            skip.add(instance_id)  # someone else changed it meanwhile; its new timer is picked up next round
        except Exception as exc:  # one broken instance must not stop the others
            if not db.session.is_active:  # it failed outside the savepoint (the commit): start over
                db.session.rollback()
            log.exception("timer of instance %s failed", instance_id)
            result.failed.append((instance_id, str(exc)))
            skip.add(instance_id)
            jobs.record_failure("timer", instance_id, f"{type(exc).__name__}: {exc}", moment)  # bounded retries
            db.session.commit()
    return result


def fire_due_timers_of(instance_id: int) -> None:
    """Fire one case's due timers in the caller's transaction (an admin's retry of an incident)."""
    stmt = select(Instance).where(Instance.id == instance_id).execution_options(populate_existing=True)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Instance)  # a worker holding it makes this wait, not fire twice
    instance = db.session.scalars(stmt).first()
    if instance is not None:
        fire_timers(instance)
