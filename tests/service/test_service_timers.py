"""Timers and messages through the service: the due-time column, run-due, escalation, routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service import clock
from service.audit import AuditEvent
from service.extensions import db
from service.instances.models import HumanTask, Instance, MessageWait
from service.instances.operations import start_instance
from service.timers.operations import run_due

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def deadline_case(college, deploy):
    deploy("deadline")
    with clock.frozen_at(T0):
        instance = start_instance(None, "deadline", "TZB-JX2301")
        db.session.commit()
    return instance


def _ready(instance_id: int) -> list[str]:
    return sorted(db.session.scalars(select(HumanTask.name).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "ready")))


def test_due_times_are_projected(deadline_case):
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == deadline_case.id))
    assert task.name == "report"
    assert task.scope_unit == "TZB-JX2301"
    assert clock.as_utc(task.due_at) == T0 + timedelta(days=1)  # the interrupting timer is the deadline
    assert clock.as_utc(deadline_case.next_timer_at) == T0 + timedelta(hours=1)  # the reminder comes first


def test_nothing_fires_before_due(deadline_case):
    result = run_due(T0 + timedelta(minutes=59))
    assert result.fired == 0
    assert _ready(deadline_case.id) == ["report"]


def test_reminder_then_deadline_escalates(deadline_case):
    first = run_due(T0 + timedelta(hours=1, seconds=1))
    assert first.fired == 1
    db.session.expire_all()
    instance = db.session.get(Instance, deadline_case.id)
    assert _ready(instance.id) == ["report"]  # non-interrupting: the task stays
    assert clock.as_utc(instance.next_timer_at) == T0 + timedelta(days=1)
    second = run_due(T0 + timedelta(days=1, seconds=1))
    assert second.fired == 1
    assert second.lateness_seconds and second.lateness_seconds[0] == pytest.approx(1.0)
    db.session.expire_all()
    instance = db.session.get(Instance, deadline_case.id)
    assert _ready(instance.id) == ["escalated"]
    cancelled = db.session.scalar(select(HumanTask).where(HumanTask.name == "report"))
    assert cancelled.status == "cancelled"
    escalated = db.session.scalar(select(HumanTask).where(HumanTask.name == "escalated"))
    assert escalated.scope_unit == "TZZ"  # the general branch above the subject branch
    assert instance.next_timer_at is None


def test_each_timer_fires_once(deadline_case):
    later = T0 + timedelta(days=2)
    assert run_due(later).fired == 1
    assert run_due(later).fired == 0
    escalations = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.name == "escalated"))
    assert escalations == 1


def test_suspended_cases_do_not_fire(deadline_case):
    deadline_case.status = "suspended"
    db.session.commit()
    assert run_due(T0 + timedelta(days=3)).fired == 0
    assert _ready(deadline_case.id) == ["report"]


def test_message_routes_to_waiting_case(college, deploy, make_user, login, client):
    deploy("relay")
    deploy("relay_receiver")
    receiver = start_instance(None, "relay_receiver", "TZB-JX2301")
    bystander = start_instance(None, "relay_receiver", "TZB-JX2302")
    sender = start_instance(None, "relay_sender", "TZZ")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(MessageWait)) == 2
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    headers = login("tzz")
    task = client.get("/api/v1/tasks", headers=headers).get_json()["items"][0]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"data": {"text": "请于周五前提交材料", "target": "TZB-JX2301"}}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "completed"
    db.session.expire_all()
    # exactly one waiting case received it (the first that waited), in the same transaction
    delivered = [i for i in (receiver, bystander) if _ready(i.id) == ["read_notice"]]
    assert len(delivered) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "message_delivered", AuditEvent.instance_id == delivered[0].id)) == 1
    assert db.session.scalar(select(func.count()).select_from(MessageWait)) == 1
    assert sender.id != delivered[0].id


def test_message_endpoint_delivers_payload(college, deploy, make_user, login, client):
    deploy("relay_receiver")
    receiver = start_instance(None, "relay_receiver", "TZB-JX2301")
    db.session.commit()
    make_user("sec", [("league_branch_secretary", "TZB-JX2301")])
    headers = login("sec")
    response = client.post(f"/api/v1/instances/{receiver.id}/messages",
                           json={"name": "branch_notice", "data": {"text": "你好"}}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert [t["name"] for t in response.get_json()["ready_tasks"]] == ["read_notice"]
    again = client.post(f"/api/v1/instances/{receiver.id}/messages",
                        json={"name": "branch_notice", "data": {}}, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "message_not_accepted"
