"""Two people acting on one case at the same moment: exactly one wins, the other gets a 409, the case
advances once. Real threads with their own test clients (so their own sessions) against the file
database of the app fixture, released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import assert_error
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.errors import ApiError
from service.extensions import db
from service.instances import operations
from service.instances.models import Instance
from service.transaction import commit, transactional

ROUNDS = 10
LOSING_CODES = {"conflict", "task_not_ready", "task_claimed", "instance_not_running"}


def _race(app: Any, calls: list[tuple[str, dict[str, str], dict[str, Any]]]) -> list[tuple[int, Any]]:
    """POST each (path, headers, json) from its own thread, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=10)
            response = client.post(path, headers=headers, json=body)
            results[index] = (response.status_code, response.get_json())
        except BaseException as exc:  # reported by the main thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    db.session.remove()  # the main thread's session must not serve rows cached before the race
    return results


def _one_winner(results: list[tuple[int, Any]]) -> tuple[Any, Any]:
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status == 409)
    assert assert_error(loser)["code"] in LOSING_CODES
    return winner, loser


def _completions(state: dict[str, Any], task_id: str) -> int:
    return sum(1 for _, action, task in state["audit"] if action == "task_completed" and task == task_id)


@pytest.mark.slow
def test_simultaneous_completions_of_one_task(app: Any, world: Any, db_state: Callable[[int], Any]) -> None:
    for _ in range(ROUNDS):
        instance = world.start()
        iid = instance["id"]
        submit = world.ready(iid, "submit")["id"]
        url = f"/api/v1/tasks/{submit}/complete"
        # the candidate double-clicks "submit"
        winner, _ = _one_winner(_race(app, [(url, world.auth["zhangsan"], {"data": {"reason": f"第{n}次"}})
                                            for n in (1, 2)]))
        state = db_state(iid)
        assert _completions(state, submit) == 1
        assert sorted((t["name"], t["status"]) for t in state["tasks"]) == [("review", "ready"), ("submit", "completed")]
        assert [t["name"] for t in winner["ready_tasks"]] == ["review"]
        review = next(t["id"] for t in state["tasks"] if t["name"] == "review")

        # two secretaries decide at the same moment
        url = f"/api/v1/tasks/{review}/complete"
        winner, _ = _one_winner(_race(app, [(url, world.auth["sec1"], {"data": {"decision": "approve"}}),
                                            (url, world.auth["sec1b"], {"data": {"decision": "reject"}})]))
        state = db_state(iid)
        assert _completions(state, review) == 1
        assert [a for _, a, _ in state["audit"]].count("instance_completed") == len(
            world.get("admin", "/api/v1/instances", query_string={"status": "completed"})["items"])
        assert state["instance"]["status"] == "completed" == winner["status"]
        assert state["instance"]["outcome"] == winner["outcome"]
        assert world.instance(iid)["outcome"] == winner["outcome"]


@pytest.mark.slow
def test_simultaneous_claims_and_suspend_against_complete(app: Any, world: Any, db_state: Any) -> None:
    for _ in range(ROUNDS // 2):
        instance = world.submitted()
        iid = instance["id"]
        review = world.ready(iid, "review")["id"]
        url = f"/api/v1/tasks/{review}/claim"
        winner, _ = _one_winner(_race(app, [(url, world.auth["sec1"], {}), (url, world.auth["sec1b"], {})]))
        assert world.ready(iid, "review")["claimed_by"] == winner["claimed_by"]
        world.post("admin", f"/api/v1/tasks/{review}/unclaim")

        # the admin suspends while a secretary completes the last step: one of them is first
        results = _race(app, [(f"/api/v1/tasks/{review}/complete", world.auth["sec1"], {"data": {"decision": "approve"}}),
                              (f"/api/v1/instances/{iid}/suspend", world.auth["admin"], {})])
        winner, _ = _one_winner(results)
        state = db_state(iid)
        assert state["instance"]["status"] == winner["status"] in ("completed", "suspended")
        assert _completions(state, review) == (1 if winner["status"] == "completed" else 0)


def test_a_step_that_read_stale_state_gets_409(app: Any, world: Any, db_state: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic interleaving: while one request is between reading the case and writing it,
    another completes the same task and commits. The first one's write must fail with a 409."""
    instance = world.submitted()
    iid = instance["id"]
    review = world.ready(iid, "review")["id"]
    real_restore = operations.restore_case
    interleaved: list[tuple[int, Any]] = []

    def restore_then_let_another_request_win(target: Instance) -> Any:
        if threading.current_thread() is threading.main_thread() and not interleaved:
            interleaved.extend(_race_in_thread(app, f"/api/v1/tasks/{review}/complete", world.auth["sec1b"],
                                               {"data": {"decision": "reject"}}))
        return real_restore(target)

    monkeypatch.setattr(operations, "restore_case", restore_then_let_another_request_win)
    body = world.complete("sec1", review, {"decision": "approve"}, status=409)
    assert_error(body, "conflict")
    assert [status for status, _ in interleaved] == [200]
    state = db_state(iid)
    assert _completions(state, review) == 1
    assert (state["instance"]["status"], state["instance"]["outcome"]) == ("completed", "rejected")
    completed_by = {t["name"]: t["completed_by"] for t in state["tasks"]}
    with db.engine.connect() as conn:
        sec1b = conn.execute(sa.text("SELECT id FROM app_user WHERE username = 'sec1b'")).scalar_one()
    assert completed_by["review"] == sec1b


def _race_in_thread(app: Any, path: str, headers: dict[str, str], body: dict[str, Any]) -> list[tuple[int, Any]]:
    results: list[tuple[int, Any]] = []

    def run() -> None:
        response = app.test_client().post(path, headers=headers, json=body)
        results.append((response.status_code, response.get_json()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return results


def _bump_revision(iid: int) -> None:
    """Another writer commits a change to the instance row (as a concurrent request would)."""
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE instance SET revision = revision + 1 WHERE id = :i"), {"i": iid})


def test_stale_session_write_maps_to_409(app: Any, world: Any, db_state: Any) -> None:
    """The optimistic lock itself: a session holding an old revision cannot write over a newer one,
    and the unit-of-work helpers turn that into ApiError(409, "conflict")."""
    instance = world.submitted()
    iid = instance["id"]
    with Session(db.engine) as stale:
        old = stale.get(Instance, iid)
        assert old is not None
        old_revision = old.revision
        world.complete("sec1", world.ready(iid, "review")["id"], {"decision": "approve"})
        assert db_state(iid)["instance"]["revision"] > old_revision
        old.milestone = "stale write"
        with pytest.raises(StaleDataError):
            stale.flush()

    # @transactional (every state-changing route) maps it to a 409
    with Session(db.engine) as stale:
        old = stale.get(Instance, iid)
        assert old is not None
        _bump_revision(iid)

        @transactional
        def stale_step() -> None:
            old.milestone = "stale write"
            stale.flush()

        with pytest.raises(ApiError) as raised:
            stale_step()
        assert (raised.value.status, raised.value.code) == (409, "conflict")

    # and so does the request session's own commit()
    db.session.remove()
    mine = db.session.get(Instance, iid)
    assert mine is not None
    _bump_revision(iid)
    mine.milestone = "stale write"
    with pytest.raises(ApiError) as raised:
        commit()
    assert (raised.value.status, raised.value.code) == (409, "conflict")
    assert db_state(iid)["instance"]["milestone"] != "stale write"
    assert world.instance(iid)["status"] == "completed"
