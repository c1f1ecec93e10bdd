"""A long-lived case does not grow without bound: the finished history of a loop is compacted
(service/engine/serialization.py compact_history), so steps stay cheap, loops may run past the
task iterator's depth limit, and diagrams still mark the path taken."""

from __future__ import annotations

import json

from service.engine.serialization import COMPACT_MIN, KEEP_LEVELS, KEEP_RECENT

ROUNDS = 340  # beyond SpiffWorkflow's ~330-round depth limit on an uncompacted tree


def _report(case, text: str):  # type: ignore[no-untyped-def]
    (task,) = case.ready_human_tasks()
    assert task.name == "report"
    case.complete(task.id, {"text": text})


def test_a_loop_of_periods_runs_past_the_depth_limit_with_a_bounded_state(load_process, start_case, reload):
    loaded = load_process("loop_periods.bpmn")
    case = start_case(loaded, {"limit": ROUNDS})
    sizes = []
    for i in range(ROUNDS - 1):
        _report(case, f"r{i}")
        case = reload(loaded, case)
        sizes.append(len(case.state_json()))
    # still at the report step, with every report counted and logged in order
    assert [t.name for t in case.ready_human_tasks()] == ["report"]
    assert case.data["reports"] == ROUNDS - 1
    assert case.data["log"][:2] == ["r0", "r1"] and case.data["log"][-1] == f"r{ROUNDS - 2}"
    # the tree was compacted: the state at the end is not ~10x the state after 40 rounds
    # (without compaction it grows by a whole period's tasks and subprocess every round)
    data_growth = len(json.dumps(case.data, ensure_ascii=False)) * 25  # the kept tasks' copies of the data
    assert sizes[-1] < sizes[39] * 2 + data_growth, (sizes[39], sizes[-1])
    assert len(case.workflow.tasks) < 6 * (KEEP_LEVELS + COMPACT_MIN)
    assert len(case.workflow.subprocesses) <= KEEP_LEVELS + KEEP_RECENT
    # the last report ends the case; the far timer branch is still waiting
    _report(case, "last")
    case = reload(loaded, case)
    assert case.data["reports"] == ROUNDS


def test_compacted_history_still_marks_the_path_taken(load_process, start_case, reload):
    loaded = load_process("loop_periods.bpmn")
    case = start_case(loaded, {"limit": 1000})
    for i in range(90):
        _report(case, f"r{i}")
        case = reload(loaded, case)
    assert case.workflow.pruned_history, "the case should have been compacted by now"
    marks = case.diagram_marks()
    assert {"init", "split", "period"} <= set(marks["completed"]) | set(marks["current"])
    assert "watch" in marks["current"] and "period" in marks["current"]


def test_short_cases_are_not_compacted(load_process, start_case, reload):
    loaded = load_process("loop_periods.bpmn")
    case = start_case(loaded, {"limit": 3})
    for i in range(3):
        _report(case, f"r{i}")
        case = reload(loaded, case)
    assert getattr(case.workflow, "pruned_history", []) == []
    assert case.data["reports"] == 3
