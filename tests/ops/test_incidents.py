"""Bounded retries of timer jobs, incidents, and claims between competing workers."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from ops_support import csrf_from, sign_in

from service import clock
from service.audit import AuditEvent
from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.ops.jobs import hold_claims_with_lease
from service.ops.models import JobFailure
from service.timers import operations as timers
from service.timers.operations import run_due

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row claims need PostgreSQL")


@pytest.fixture
def broken_timers(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(instance: Instance) -> bool:
        instance.milestone = "half-applied"  # must be rolled back with the failure
        raise RuntimeError("boom: the engine fell over")

    monkeypatch.setattr(timers, "fire_timers", explode)


def _failure(instance_id: int) -> JobFailure:
    db.session.expire_all()
    return db.session.scalar(sa.select(JobFailure).where(JobFailure.instance_id == instance_id))


def _ready(instance_id: int) -> list[str]:
    return sorted(db.session.scalars(sa.select(HumanTask.name).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "ready")))


def _failed(result: Any) -> list[int]:
    return [instance_id for instance_id, _ in result.failed]


def _make_incident(start_deadline: Any) -> tuple[int, Any]:
    """A case whose timer job failed JOB_MAX_ATTEMPTS (3) times, with the backoff respected."""
    case_id = start_deadline()
    now = clock.now()
    assert (case_id, "boom: the engine fell over") in run_due(now).failed
    row = _failure(case_id)
    assert (row.status, row.attempts) == ("retrying", 1)
    assert clock.as_utc(row.next_attempt_at) == now + timedelta(seconds=30)
    assert db.session.get(Instance, case_id).milestone != "half-applied"

    assert run_due(now + timedelta(seconds=29)).failed == []  # not before its next attempt
    assert case_id in _failed(run_due(now + timedelta(seconds=31)))
    row = _failure(case_id)
    assert (row.status, row.attempts) == ("retrying", 2)
    assert clock.as_utc(row.next_attempt_at) == now + timedelta(seconds=31 + 60)  # the backoff doubled

    assert case_id in _failed(run_due(now + timedelta(seconds=95)))
    row = _failure(case_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("incident", 3, None)
    assert "RuntimeError: boom" in row.last_error
    assert run_due(now + timedelta(days=30)).failed == []  # an incident waits for an admin
    return case_id, row


def test_a_failing_timer_is_retried_then_becomes_an_incident(broken_timers, start_deadline):
    other = start_deadline()
    case_id, row = _make_incident(start_deadline)
    actions = list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.instance_id == case_id)))
    assert actions.count("incident_opened") == 1
    assert _failure(other).status == "incident"  # the other case failed alongside, on its own record


def test_incidents_api_lists_and_retries(broken_timers, start_deadline, client, login, monkeypatch):
    case_id, row = _make_incident(start_deadline)
    admin = login("boss")
    assert client.get("/api/v1/incidents", headers=login("sec")).status_code == 403
    listed = client.get("/api/v1/incidents", headers=admin).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["id"], item["instance_id"], item["attempts"], item["status"]) == (row.id, case_id, 3, "incident")
    assert item["process"] == "deadline" and "boom" in item["last_error"]

    # still broken: the retry runs once, fails, and the attempts start over
    again = client.post(f"/api/v1/incidents/{row.id}/retry", headers=admin)
    assert again.status_code == 200, again.get_json()
    assert (again.get_json()["status"], again.get_json()["attempts"]) == ("retrying", 1)

    monkeypatch.undo()  # fixed: the next retry (of a job still waiting for its retry) fires the case's timers
    fixed = client.post(f"/api/v1/incidents/{row.id}/retry", headers=admin)
    assert fixed.status_code == 200, fixed.get_json()
    assert (fixed.get_json()["status"], fixed.get_json()["attempts"]) == ("resolved", 0)
    db.session.expire_all()
    assert _ready(case_id) == ["escalated"]  # the two-day-old deadline fired
    assert client.get("/api/v1/incidents", headers=admin).get_json()["total"] == 0
    assert client.post(f"/api/v1/incidents/{row.id}/retry", headers=admin).status_code == 409
    assert client.post("/api/v1/incidents/999999/retry", headers=admin).status_code == 404


def test_retry_of_a_case_in_error_uses_the_case_retry(broken_timers, start_deadline, client, login, monkeypatch):
    pytest.importorskip("service.instances.admin", reason="the case retry operation is not there")
    case_id, row = _make_incident(start_deadline)
    db.session.execute(sa.update(Instance).where(Instance.id == case_id).values(
        status="error", error={"message": "a script failed"}))
    db.session.commit()
    monkeypatch.undo()
    response = client.post(f"/api/v1/incidents/{row.id}/retry", headers=login("boss"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "resolved"
    assert response.get_json()["instance_status"] == "running"
    actions = list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.instance_id == case_id)))
    assert "instance_retried" in actions and "incident_retried" in actions


def test_resolve_closes_without_running(broken_timers, start_deadline, client, login):
    case_id, row = _make_incident(start_deadline)
    admin = login("boss")
    response = client.post(f"/api/v1/incidents/{row.id}/resolve", headers=admin)
    assert response.status_code == 200
    assert response.get_json()["status"] == "resolved"
    assert _ready(case_id) == ["report"]
    assert client.post(f"/api/v1/incidents/{row.id}/resolve", headers=admin).status_code == 409
    # a new failure after the resolution starts a new run of attempts
    run_due(clock.now())
    assert (_failure(case_id).status, _failure(case_id).attempts) == ("retrying", 1)


def test_incidents_page_for_admins_only(broken_timers, start_deadline, page_client, monkeypatch):
    case_id, row = _make_incident(start_deadline)
    sign_in(page_client, "sec")
    assert page_client.get("/admin/incidents").status_code == 403
    page_client.post("/logout", data={"csrf_token": csrf_from(page_client.get("/notifications").get_data(True))})
    sign_in(page_client, "boss")
    page = page_client.get("/admin/incidents").get_data(as_text=True)
    assert f'data-incident="{row.id}"' in page and "boom" in page and "/org-units/TZB-JX2301" in page
    assert 'href="/admin/incidents"' in page  # the admin's nav link
    monkeypatch.undo()
    response = page_client.post(f"/admin/incidents/{row.id}/retry", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert _failure(case_id).status == "resolved"
    assert f'data-incident="{row.id}"' not in page_client.get("/admin/incidents").get_data(as_text=True)


# -- competing workers (PostgreSQL) ------------------------------------------------------------------------------
def _claim_in_other_session(app: Any, case_id: int) -> sa.engine.Connection:
    """What a first worker does mid-job: hold the case's row lock in its own transaction."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    connection = engine.connect()
    connection.execute(sa.text("SELECT id FROM instance WHERE id = :id FOR UPDATE"), {"id": case_id})
    return connection


@postgres_only
def test_a_second_worker_does_not_fire_a_claimed_case(app, start_deadline):
    claimed, free = start_deadline(), start_deadline()
    first_worker = _claim_in_other_session(app, claimed)
    try:
        result = run_due()
        assert result.fired == 1  # only the free one: the claimed one is skipped, not waited for
        db.session.expire_all()
        assert _ready(free) == ["escalated"] and _ready(claimed) == ["report"]
    finally:
        first_worker.rollback()
        first_worker.close()
        first_worker.engine.dispose()
    assert run_due().fired == 1  # released: now it fires, once
    db.session.expire_all()
    assert _ready(claimed) == ["escalated"]


@postgres_only
def test_a_hung_workers_claim_expires(app, start_deadline):
    case_id = start_deadline()
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    hold_claims_with_lease(engine, 0.5)
    hung = engine.connect()
    hung.execute(sa.text("SELECT id FROM instance WHERE id = :id FOR UPDATE"), {"id": case_id})
    try:
        assert run_due().fired == 0
        time.sleep(1.5)  # the hung worker stays idle in its transaction past the lease
        assert run_due().fired == 1
    finally:
        hung.invalidate()
        engine.dispose()
