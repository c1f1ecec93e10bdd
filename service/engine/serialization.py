"""Workflow state without its spec: the spec is stored once per process version."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
registry = _serializer.registry
FORMAT_VERSION = _serializer.VERSION
# the registered converter instance (registry entries are partials over its bound to_dict)
_converter: BpmnWorkflowConverter = registry.convert_to_dict[registry.typenames[BpmnWorkflow]].args[1].__self__
_Encoder = create_encoder(registry)


def spec_from_json(spec_json: str) -> tuple[Any, dict[str, Any]]:
    data = json.loads(spec_json)
    spec = registry.restore(data["spec"])
    subprocess_specs = {name: registry.restore(s) for name, s in data["subprocess_specs"].items()}
    return spec, subprocess_specs


def state_to_json(workflow: BpmnWorkflow) -> str:
    registry._encoder_mode = True
    try:
        dct = WorkflowConverter.to_dict(_converter, workflow)
        dct["subprocesses"] = _converter.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        dct["serializer_version"] = FORMAT_VERSION
        return json.dumps(dct, cls=_Encoder, ensure_ascii=False, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def state_from_json(state_json: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    dct = json.loads(state_json)
    version = dct.pop("serializer_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        # an older engine wrote this: let SpiffWorkflow migrate it with the spec put back
        dct["spec"] = registry.convert(spec)
        dct["subprocess_specs"] = {n: registry.convert(s) for n, s in subprocess_specs.items()}
        dct[_serializer.VERSION_KEY] = version
        _serializer.migrate(dct)
        return _serializer.from_dict(dct)
    workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
    workflow.tasks = _converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    _converter.set_default_attributes(workflow, dct)
    _converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = registry.restore(dct.pop("bpmn_events", []))
    return workflow
