"""service.engine.dryrun: a process played through in memory with given answers; timers fire at once,
message waits stop the run, loops are bounded, failures are reported with the path so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.engine import Engine
from service.engine.dryrun import dry_run, load_for_dry_run


def _loaded(compile_fixture: Callable[..., Any], name: str, **kwargs: Any) -> Any:
    return load_for_dry_run(compile_fixture(name, **kwargs).spec_json, {}, 0.5)


def test_answers_choose_the_path(compile_fixture: Callable[..., Any], engine: Engine) -> None:
    loaded = _loaded(compile_fixture, "gateway_exclusive.bpmn")
    big = dry_run(engine, loaded, {"amount": 50_000}, {"director_review": {"decision": "approve"}})
    assert big.path == ["start", "route", "director_review", "merge", "end"]
    assert big.ended and big.error is None and big.waiting_at == []
    small = dry_run(engine, loaded, {"amount": 10}, {})
    assert small.path == ["start", "route", "auto_approve", "merge", "end"]
    assert small.data["approved_by"] == "system"


def test_a_ready_task_is_answered_before_its_deadline_fires(compile_fixture: Callable[..., Any], engine: Engine) -> None:
    loaded = _loaded(compile_fixture, "timers.bpmn")
    # the review is answered: the deadline never fires
    done = dry_run(engine, loaded, {"deadline_days": 5}, {"review": {"ok": True}})
    assert done.path[-2:] == ["review", "end_done"] and done.ended
    assert "deadline" not in done.path


def test_a_message_wait_stops_the_run_where_it_waits(compile_fixture: Callable[..., Any], engine: Engine) -> None:
    loaded = _loaded(compile_fixture, "msg_seller.bpmn")
    result = dry_run(engine, loaded, {"order_id": "A1"}, {})
    assert not result.ended and result.error is None
    assert result.path == ["start", "open_order"] and result.waiting_at == ["wait_order"]


def test_a_loop_is_bounded(compile_fixture: Callable[..., Any], engine: Engine) -> None:
    loaded = _loaded(compile_fixture, "gateway_exclusive.bpmn")
    # successive answers: a list gives one per visit (here the task is visited once)
    result = dry_run(engine, loaded, {"amount": 50_000}, {"director_review": [{"decision": "x"}]}, max_steps=0)
    assert not result.ended and result.waiting_at == ["director_review"]
    assert "0 steps" in result.error["message"]
