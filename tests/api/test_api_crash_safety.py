"""A failure anywhere between loading a case and committing leaves nothing behind: the response is a
500 in the error shape, and the instance row, its human-task rows, message waits and the audit trail
are exactly as before. Afterwards the same step succeeds normally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_support import API_BPMN, assert_error
from sqlalchemy.exc import OperationalError

import service.audit
from service.extensions import db
from service.instances import operations


class InjectedFault(RuntimeError):
    pass


def _fail_on_audit(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    real = service.audit.record

    def record(name: str, **kwargs: Any) -> Any:
        if name == action:
            raise InjectedFault(f"injected failure while recording {name}")
        return real(name, **kwargs)

    monkeypatch.setattr(service.audit, "record", record)


def _fail_after(monkeypatch: pytest.MonkeyPatch, function: str) -> None:
    """Let operations.<function> do its work (and its SQL), then fail."""
    real = getattr(operations, function)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        db.session.flush()  # the step's rows really reach the database inside the transaction
        raise InjectedFault(f"injected failure after {function}")

    monkeypatch.setattr(operations, function, wrapper)


def _fail_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    def commit() -> None:
        db.session.flush()
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(db.session, "commit", commit)


FAULTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "audit of the completion (before the engine step)": lambda mp: _fail_on_audit(mp, "task_completed"),
    "after the task rows are synced (after the engine step)": lambda mp: _fail_after(mp, "_sync_tasks"),
    "after message waits are synced": lambda mp: _fail_after(mp, "_sync_message_waits"),
    "audit of the case's completion": lambda mp: _fail_on_audit(mp, "instance_completed"),
    "the commit itself": _fail_commit,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_completion_changes_nothing(world: Any, db_state: Any, monkeypatch: pytest.MonkeyPatch,
                                              fault: str) -> None:
    instance = world.submitted()
    iid = instance["id"]
    review = world.ready(iid, "review")
    before = db_state(iid)

    with monkeypatch.context() as patch:
        FAULTS[fault](patch)
        body = world.complete("sec1", review["id"], {"decision": "approve"}, status=500)
    assert_error(body, "internal_error")
    assert "injected" not in str(body) and "disk I/O" not in str(body)  # no internals in the response

    after = db_state(iid)
    assert after == before
    assert after["instance"]["status"] == "running" and after["instance"]["revision"] == before["instance"]["revision"]
    assert world.ready(iid, "review")["id"] == review["id"]
    done = world.complete("sec1", review["id"], {"decision": "approve"})
    assert (done["status"], done["outcome"]) == ("completed", "approved")


def test_a_failing_start_leaves_no_case(world: Any, db_state: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    existing = world.start()
    before = db_state(existing["id"])
    with monkeypatch.context() as patch:
        _fail_after(patch, "_sync_tasks")
        body = world.post("admin", "/api/v1/instances", 500, json={"process": "approval", "subject": "2023010102"})
    assert_error(body, "internal_error")
    assert db_state(existing["id"]) == before
    assert world.get("admin", "/api/v1/instances")["total"] == 1
    assert world.start("2023010102")["status"] == "running"


def test_a_failing_message_delivery_changes_nothing(world: Any, deploy: Any, db_state: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    deploy((API_BPMN / "unit_notice.bpmn").read_text(encoding="utf-8"))
    instance = world.start("TZB-JX2301", "unit_notice")
    before = db_state(instance["id"])
    assert before["waits"] == [("objection",)]
    with monkeypatch.context() as patch:
        _fail_after(patch, "_sync_message_waits")
        world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", 500, json={"name": "objection"})
    assert db_state(instance["id"]) == before
    after = world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", json={"name": "objection"})
    assert [t["name"] for t in after["ready_tasks"]] == ["handle"]


def test_a_failing_terminate_changes_nothing(world: Any, db_state: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = world.submitted()
    before = db_state(instance["id"])
    with monkeypatch.context() as patch:
        _fail_after(patch, "_close_open_tasks")
        world.post("admin", f"/api/v1/instances/{instance['id']}/terminate", 500, json={})
    assert db_state(instance["id"]) == before
    assert world.post("admin", f"/api/v1/instances/{instance['id']}/terminate", json={})["status"] == "terminated"
