"""Running instances: the small facade the service uses (start, ready tasks, complete, timers, messages)."""

from __future__ import annotations

import copy
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .sandbox import SCRIPT_FILENAME, SandboxEnvironment, ScriptRejected, ScriptTimeout
from .serialization import spec_from_json, state_from_json, state_to_json
from .timers import install_clock, parse_due
from .xmlsafe import parse_xml

install_clock()


class EngineError(Exception):
    """Base for errors the service turns into responses."""


class TaskNotReady(EngineError):
    """The task is not READY (already done, cancelled, not reached) or is not a human task."""


class MessageNotAccepted(EngineError):
    """No event in the instance is waiting for this message (or its correlation differs)."""


class ScriptFailure(EngineError):
    """A script, condition or decision failed while the engine ran; the instance is in error."""

    def __init__(self, element_id: str | None, message: str, line: int | None, timed_out: bool):
        super().__init__(message)
        self.element_id = element_id
        self.message = message
        self.line = line
        self.timed_out = timed_out

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "message": self.message, "line": self.line,
                "timed_out": self.timed_out}


@dataclass
class TaskView:
    """What the service needs to know about a ready human task."""

    id: str
    name: str  # BPMN element id
    title: str
    lane: str | None
    form_schema: str | None
    form_ui_schema: str | None
    instructions: str | None
    data: dict[str, Any]
    due_at: datetime | None = None
    reminders: list[datetime] = field(default_factory=list)
    multi_instance_index: int | None = None
    properties: dict[str, str] = field(default_factory=dict)


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_CURRENT_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def sequence_flows(bpmn_xml: bytes | str) -> dict[tuple[str, str], list[str]]:
    """{(source element id, target element id): [sequence flow ids]} of a BPMN document."""
    flows: dict[tuple[str, str], list[str]] = {}
    for node in parse_xml(bpmn_xml).iter(f"{{{BPMN_NS}}}sequenceFlow"):
        source, target, flow_id = node.get("sourceRef"), node.get("targetRef"), node.get("id")
        if source and target and flow_id:
            flows.setdefault((source, target), []).append(flow_id)
    return flows


@dataclass
class OutgoingMessage:
    name: str
    payload: Any
    correlations: dict[str, Any]


@dataclass
class LoadedSpec:
    spec: Any
    subprocess_specs: dict[str, Any]
    script_engine: PythonScriptEngine


class Engine:
    """Holds parsed specs (cached per version) and the sandboxed script engine of each process."""

    def __init__(self, time_limit: float = 2.0, cache_size: int = 256):
        self.time_limit = time_limit
        self._cache: OrderedDict[Any, LoadedSpec] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def load(self, cache_key: Any, spec_json: str | Callable[[], str],
             functions: Mapping[str, Callable[..., Any]]) -> LoadedSpec:
        """The parsed spec for `cache_key`; `spec_json` may be a callable, read only on a cache miss."""
        with self._lock:
            loaded = self._cache.get(cache_key)
            if loaded is not None:
                self._cache.move_to_end(cache_key)
                return loaded
        spec, subprocess_specs = spec_from_json(spec_json() if callable(spec_json) else spec_json)
        environment = SandboxEnvironment(functions, self.time_limit)
        loaded = LoadedSpec(spec, subprocess_specs, PythonScriptEngine(environment=environment))
        with self._lock:
            self._cache[cache_key] = loaded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return loaded

    def start(self, loaded: LoadedSpec, data: Mapping[str, Any]) -> Case:
        workflow = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=loaded.script_engine)
        workflow.task_tree.data = copy.deepcopy(dict(data))
        return Case(workflow)

    def restore(self, loaded: LoadedSpec, state_json: str) -> Case:
        workflow = state_from_json(state_json, loaded.spec, loaded.subprocess_specs)
        workflow.script_engine = loaded.script_engine
        return Case(workflow)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exceptions behind `exc` (WorkflowTaskException keeps the original only as __context__)."""
    found: list[BaseException] = []
    cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    while cause is not None and len(found) < 10:
        found.append(cause)
        cause = getattr(cause, "exception", None) or cause.__cause__ or cause.__context__
    return found


def _script_line(exceptions: list[BaseException]) -> int | None:
    """Line of the innermost script frame (scripts compile as SCRIPT_FILENAME, which SpiffWorkflow,
    looking for '<string>', never finds)."""
    line = None
    for item in exceptions:
        for frame in traceback.extract_tb(item.__traceback__):
            if frame.filename == SCRIPT_FILENAME:
                line = frame.lineno
    return line


def _timeout_failure(exc: ScriptTimeout, task: Any = None) -> ScriptFailure:
    if task is None:  # the innermost engine frame working on a task tells which one ran the script
        tb = exc.__traceback__
        while tb is not None:
            candidate = tb.tb_frame.f_locals.get("my_task")
            if getattr(candidate, "task_spec", None) is not None:
                task = candidate
            tb = tb.tb_next
    element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    return ScriptFailure(element_id, f"script stopped: it ran past the time limit / 脚本运行超时被终止 ({exc})",
                         _script_line([exc]), True)


def _failure(exc: Exception) -> ScriptFailure:
    task = getattr(exc, "task", None)
    element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    causes = _causes(exc)
    timed_out = any(isinstance(c, ScriptTimeout) for c in causes)
    rejected = next((c for c in causes if isinstance(c, ScriptRejected)), None)
    if timed_out:
        message = f"script stopped: it ran past the time limit / 脚本运行超时被终止 ({exc})"
    elif rejected is not None:
        message = f"script refused by the sandbox / 脚本被沙箱拒绝: {rejected}"
    else:
        message = str(exc).split("\n")[0]
    line = getattr(exc, "line_number", None) or _script_line(causes)
    return ScriptFailure(element_id, message, line or None, timed_out)


def _message_definitions(task: Any) -> list[MessageEventDefinition]:
    """The message events a waiting task catches (directly, or as one branch of an event-based gateway)."""
    spec = task.task_spec
    if not isinstance(spec, CatchingEvent):
        return []
    definition = spec.event_definition
    if isinstance(definition, MessageEventDefinition):
        return [definition]
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions if isinstance(d, MessageEventDefinition)]
    return []


class Case:
    """One running workflow. Every method may raise ScriptFailure when the engine runs scripts."""

    def __init__(self, workflow: BpmnWorkflow):
        self.workflow = workflow

    # -- running -------------------------------------------------------------------------------
    def run(self) -> None:
        """Run engine tasks (scripts, gateways, decisions) until only waits remain."""
        try:
            self.workflow.do_engine_steps()
        except ScriptTimeout as exc:  # a BaseException: SpiffWorkflow's wrappers let it through
            raise _timeout_failure(exc) from None
        except (WorkflowTaskException, SpiffWorkflowException) as exc:
            raise _failure(exc) from None

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        task = self._ready_human_task(task_id)
        task.set_data(**copy.deepcopy(dict(data)))
        try:
            task.run()
        except ScriptTimeout as exc:  # e.g. a postScript
            raise _timeout_failure(exc, task) from None
        except (WorkflowTaskException, SpiffWorkflowException) as exc:
            raise _failure(exc) from None
        self.run()

    def _ready_human_task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, KeyError):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task_id)
        return task

    def fire_due_timers(self) -> None:
        self.workflow.refresh_timers()
        self.run()

    def deliver_message(self, name: str, payload: Mapping[str, Any] | None,
                        correlations: Mapping[str, Any] | None = None) -> None:
        definition, waiting = None, None
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            found = next((d for d in _message_definitions(task) if d.name == name), None)
            if found is not None:
                definition, waiting = found, task
                break
        if definition is None:
            raise MessageNotAccepted(name)
        body = dict(payload or {})
        if correlations is None and getattr(definition, "correlation_properties", None):
            # a message from outside (the API) carries its correlation keys in the payload
            try:
                correlations = definition.get_correlations(waiting, body)
            except Exception:  # a payload without the key cannot match a correlated wait
                raise MessageNotAccepted(name) from None
        event = BpmnEvent(definition, payload=body, correlations=dict(correlations or {}))
        try:
            self.workflow.send_event(event)
        except WorkflowException:
            raise MessageNotAccepted(name) from None
        self.run()

    def reset_to(self, task_id: str) -> None:
        """Take the case back to a completed human task (撤回 / 退回): everything after it is removed
        and it is READY again with the data it had when it first became ready."""
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, KeyError):
            task = None
        if task is None or task.state != TaskState.COMPLETED or not task.task_spec.manual:
            raise TaskNotReady(task_id)
        self.workflow.reset_from_task_id(task.id)
        self.run()

    def cancel(self) -> None:
        self.workflow.cancel()

    # -- reading -------------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        return bool(self.workflow.completed)

    @property
    def data(self) -> dict[str, Any]:
        return self.workflow.data if self.completed else self._latest_data()

    def _latest_data(self) -> dict[str, Any]:
        last = self.workflow.last_task
        return dict(last.data) if last is not None else dict(self.workflow.task_tree.data)

    def state_json(self) -> str:
        return state_to_json(self.workflow)

    def ready_human_tasks(self) -> list[TaskView]:
        waiting_timers = self._timers_by_parent()
        views = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            ext = getattr(spec, "extensions", {}) or {}
            props = ext.get("properties", {}) or {}
            owner = task.parent
            if owner is not None and isinstance(owner.task_spec, LoopTask):
                owner = owner.parent  # a multi-instance child: boundary timers sit on the multi-instance task
            due, reminders = waiting_timers.get(owner.id if owner else None, (None, []))
            views.append(TaskView(
                id=str(task.id), name=spec.bpmn_id or spec.name, title=spec.bpmn_name or spec.bpmn_id or spec.name,
                lane=spec.lane, form_schema=props.get("formJsonSchemaFilename"),
                form_ui_schema=props.get("formUiSchemaFilename"),
                instructions=ext.get("instructionsForEndUser"), data=task.data,
                due_at=due, reminders=reminders, properties=dict(props),
                multi_instance_index=task.internal_data.get("key_or_index") if isinstance(task.internal_data, dict) else None,
            ))
        return views

    def _timers_by_parent(self) -> dict[Any, tuple[datetime | None, list[datetime]]]:
        """Boundary timers attached to a task share its parent: interrupting = deadline, else reminder."""
        result: dict[Any, tuple[datetime | None, list[datetime]]] = {}
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            spec = task.task_spec
            if not isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
                continue
            if not hasattr(spec, "cancel_activity"):
                continue  # not a boundary event
            due = parse_due(spec.event_definition.details(task).value)
            if due is None:
                continue
            deadline, reminders = result.get(task.parent.id, (None, []))
            if spec.cancel_activity:
                deadline = due if deadline is None or due < deadline else deadline
            else:
                reminders = sorted([*reminders, due])
            result[task.parent.id] = (deadline, reminders)
        return result

    def next_timer_due(self) -> datetime | None:
        dues = []
        for pending in self.workflow.waiting_events():
            if "Timer" in pending.event_type or "TimeDate" in pending.event_type:  # TimeDateEventDefinition
                due = parse_due(pending.value)
                if due is not None:
                    dues.append(due)
        for task in self._event_gateways():  # an event-based gateway keeps its timer's due time itself
            if any(isinstance(d, TimerEventDefinition) for d in task.task_spec.event_definition.event_definitions):
                due = parse_due(task.internal_data.get("event_value"))
                if due is not None:
                    dues.append(due)
        return min(dues) if dues else None

    def waiting_messages(self) -> set[str]:
        names = {p.name for p in self.workflow.waiting_events() if "Message" in p.event_type}
        for task in self._event_gateways():
            names |= {d.name for d in _message_definitions(task)}
        return names

    def waiting_elements(self) -> list[str]:
        """BPMN ids of the events the case waits at (a notice period, a receive task, a gateway)."""
        return [t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.WAITING)
                if isinstance(t.task_spec, CatchingEvent) and getattr(t.task_spec, "bpmn_id", None)]

    def _event_gateways(self) -> list[Any]:
        return [t for t in self.workflow.get_tasks(state=TaskState.WAITING)
                if isinstance(getattr(t.task_spec, "event_definition", None), MultipleEventDefinition)]

    def outgoing_messages(self) -> list[OutgoingMessage]:
        """Messages thrown that nothing in this instance caught (to deliver to other instances)."""
        return [OutgoingMessage(e.event_definition.name, e.payload, dict(e.correlations))
                for e in self.workflow.get_events()
                if isinstance(e.event_definition, MessageEventDefinition)]

    def diagram_marks(self, bpmn_xml: bytes | str | None = None) -> dict[str, list[str]]:
        """What a diagram viewer marks: BPMN ids of elements completed, current (ready, waiting or
        started) and cancelled, and — given the BPMN XML — the ids of the sequence flows taken.

        An element that ran more than once (a loop back) counts as current or completed rather than
        cancelled; branches a gateway did not take were never tasks, so they are not marked at all.
        Only the top-level process's elements: a call activity is current while its child runs."""
        completed: dict[str, None] = {}
        current: dict[str, None] = {}
        cancelled: dict[str, None] = {}
        edges: dict[tuple[str, str], None] = {}
        for task in self.workflow.get_tasks():
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element or task.workflow is not self.workflow:
                continue  # the engine's own tasks (start, joins, boundary splits); a called process's tasks
            if task.state & TaskState.COMPLETED:
                completed[element] = None
            elif task.state & _CURRENT_STATES:
                current[element] = None
            elif task.state & TaskState.CANCELLED:
                cancelled[element] = None
                continue
            else:
                continue  # not reached (future, likely, maybe)
            source = self._previous_element(task)
            if source is not None:
                edges[(source, element)] = None
        for element in getattr(self.workflow, "pruned_history", ()):  # compacted history of a long case
            completed.setdefault(element, None)
        flows: list[str] = []
        if bpmn_xml is not None:
            by_ends = sequence_flows(bpmn_xml)
            flows = [flow for edge in edges for flow in by_ends.get(edge, [])]
        return {
            "completed": [e for e in completed if e not in current],
            "current": list(current),
            "cancelled": [e for e in cancelled if e not in current and e not in completed],
            "flows": list(dict.fromkeys(flows)),
        }

    @staticmethod
    def _previous_element(task: Any) -> str | None:
        """The BPMN id of the nearest completed ancestor that is a diagram element."""
        parent = task.parent
        while parent is not None:
            element = getattr(parent.task_spec, "bpmn_id", None)
            if element:
                return element if parent.state & TaskState.COMPLETED else None
            parent = parent.parent
        return None

    def task_titles(self) -> dict[str, str]:
        return {spec.bpmn_id: (spec.bpmn_name or spec.bpmn_id) for spec in self.workflow.spec.task_specs.values()
                if getattr(spec, "bpmn_id", None)}
