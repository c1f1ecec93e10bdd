"""What ready_human_tasks() tells the service about each task (TaskView)."""

from __future__ import annotations


def test_task_view_carries_the_spiff_extensions(load_process, start_case):
    case = start_case(load_process("serialization.bpmn"), {"member_no": 7, "clerk": "wang"})

    (view,) = case.ready_human_tasks()
    assert view.name == "fill"
    assert view.title == "填写 Fill in"
    assert view.lane == "clerk"
    assert view.form_schema == "fill.schema.json"
    assert view.form_ui_schema == "fill.uischema.json"
    assert view.instructions.startswith("第1条")
    # all spiffworkflow:properties, e.g. the pack's assigneeVariable
    assert view.properties == {"formJsonSchemaFilename": "fill.schema.json",
                               "formUiSchemaFilename": "fill.uischema.json", "assigneeVariable": "clerk"}
    assert view.properties["assigneeVariable"] in view.data
    assert view.due_at is None and view.reminders == []
    assert view.multi_instance_index is None


def test_a_task_without_extensions_has_empty_defaults(load_process, start_case):
    case = start_case(load_process("gateway_parallel.bpmn"))
    for view in case.ready_human_tasks():
        assert view.properties == {}
        assert view.form_schema is None and view.instructions is None


def test_user_manual_and_plain_tasks_are_human_tasks(load_process, start_case, reload):
    loaded = load_process("task_kinds.bpmn")
    case = start_case(loaded)

    views = {v.name: v for v in case.ready_human_tasks()}
    assert set(views) == {"user_task", "manual_task", "plain_task"}  # not the script task
    assert views["plain_task"].title == "plain_task"  # no name: the id stands in

    for name in ("plain_task", "manual_task", "user_task"):
        assert not case.completed
        case.complete(views[name].id, {name: "done"})
        case = reload(loaded, case)
    assert case.completed
    assert case.data["scripted"] is True
    assert {case.data[n] for n in ("user_task", "manual_task", "plain_task")} == {"done"}
