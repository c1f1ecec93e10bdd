"""Static checks of a BPMN document, run before anything is deployed.

SpiffWorkflow's parser does not look inside conditions, scripts or timer expressions, and does
not know our role catalogue or form files; this module does, and reports each problem with the
element id and the line in the uploaded file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from lxml import etree

from .sandbox import ScriptRejected, compile_expression, compile_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


@dataclass
class Issue:
    element_id: str | None
    message: str
    line: int | None = None
    severity: str = "error"  # error | warning
    code: str = ""  # a stable name of the problem (e.g. "unreachable"); "" for the parser's own

    def as_dict(self) -> dict:
        return asdict(self)

    def problem(self) -> dict:
        """The shape the lint and deploy endpoints answer with."""
        return {"element_id": self.element_id, "line": self.line, "severity": self.severity,
                "code": self.code or ("invalid_bpmn" if self.severity == "error" else "warning"),
                "message": self.message}


@dataclass
class UserTaskRef:
    element_id: str
    title: str
    lane: str | None
    form_schema: str | None
    form_ui_schema: str | None
    line: int | None


@dataclass
class LintReport:
    issues: list[Issue] = field(default_factory=list)
    user_tasks: list[UserTaskRef] = field(default_factory=list)
    called_elements: set[str] = field(default_factory=set)
    called_decisions: set[str] = field(default_factory=set)
    lanes: set[str] = field(default_factory=set)
    process_properties: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _element_id(el: etree._Element) -> str | None:
    node: etree._Element | None = el
    while node is not None:
        # event definitions carry ids too (bpmn-js writes them), but users see and select the event
        if node.get("id") and not etree.QName(node).localname.endswith("EventDefinition"):
            return node.get("id")
        node = node.getparent()
    return None


def _properties(el: etree._Element) -> dict[str, str]:
    props = {}
    for prop in el.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name"):
            props[prop.get("name")] = prop.get("value", "")
    return props


def _check_code(report: LintReport, el: etree._Element, source: str, mode: str, what: str) -> None:
    base_line = el.sourceline or 0
    try:
        if mode == "eval":
            compile_expression(source)
        else:
            compile_script(source)
    except SyntaxError as exc:
        line = base_line + (exc.lineno or 1) - 1 if base_line else None
        report.issues.append(Issue(_element_id(el), f"{what}: syntax error: {exc.msg} / 语法错误", line,
                                   code="syntax_error"))
    except ScriptRejected as exc:
        for message in exc.messages:
            # messages start "Line N:" (N within the script); report the line in the file, as for syntax errors
            found = re.match(r"Line (\d+):", message)
            line = base_line + int(found.group(1)) - 1 if found and base_line else base_line or None
            report.issues.append(Issue(_element_id(el), f"{what}: {message}", line, code="script_rejected"))


def _check_timer(report: LintReport, el: etree._Element) -> None:
    text = (el.text or "").strip()
    kind = etree.QName(el).localname  # timeDuration | timeDate | timeCycle
    eid = _element_id(el)
    if not text:
        report.issues.append(Issue(eid, f"timer {kind} is empty / 定时器表达式为空", el.sourceline, code="timer_invalid"))
        return
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        hint = f' — write "{text}" with the quotes / 请加引号写成 "{text}"' if ISO_DURATION.match(text) or text[:1] in "RP" else ""
        report.issues.append(Issue(
            eid, f"timer {kind} '{text}' is not a Python expression{hint} / 定时器表达式须为带引号的表达式",
            el.sourceline, code="timer_invalid"))
        return
    _check_code(report, el, text, "eval", f"timer {kind}")
    if isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
        value = tree.body.value
        from .timers import validate_timer_literal  # local: keeps SpiffWorkflow out of import cycles

        problem = validate_timer_literal(kind, value)
        if problem:
            report.issues.append(Issue(eid, f"timer {kind} '{value}': {problem}", el.sourceline,
                                       code="timer_invalid"))
    elif isinstance(tree.body, ast.Name) and ISO_DURATION.match(tree.body.id or ""):
        report.issues.append(Issue(eid, f'timer {kind} {text}: write "{text}" with the quotes', el.sourceline,
                                   code="timer_invalid"))


def _reachability(report: LintReport, process: etree._Element) -> None:
    nodes = {el.get("id"): el for el in process.iter() if el.get("id") and el.tag.startswith(f"{{{BPMN_NS}}}")}
    flows: dict[str, list[str]] = {}
    for flow in process.iter(_q("bpmn:sequenceFlow")):
        flows.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    boundaries: dict[str, list[str]] = {}
    for b in process.iter(_q("bpmn:boundaryEvent")):
        boundaries.setdefault(b.get("attachedToRef", ""), []).append(b.get("id"))
    starts = [el.get("id") for el in process.iter(_q("bpmn:startEvent"))]
    starts += [sp.get("id") for sp in process.iter(_q("bpmn:subProcess")) if sp.get("triggeredByEvent") == "true"]
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(flows.get(current, []))
        todo.extend(boundaries.get(current, []))
        el = nodes.get(current)
        if el is not None and etree.QName(el).localname in {"subProcess", "transaction"}:
            todo.extend(s.get("id") for s in el.iter(_q("bpmn:startEvent")))
    flow_nodes = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask",
                  "sendTask", "receiveTask", "callActivity", "subProcess", "exclusiveGateway",
                  "parallelGateway", "inclusiveGateway", "eventBasedGateway", "intermediateCatchEvent",
                  "intermediateThrowEvent", "endEvent"}
    for node_id, el in nodes.items():
        if etree.QName(el).localname in flow_nodes and node_id not in seen:
            # elements inside an event subprocess are started by its own start event
            report.issues.append(Issue(node_id, "element is unreachable from any start event / 该元素无法从开始事件到达",
                                       el.sourceline, "warning", "unreachable"))


FLOW_NODES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway", "complexGateway", "intermediateCatchEvent",
              "intermediateThrowEvent", "endEvent", "startEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _gateway_defaults(report: LintReport, process: etree._Element) -> None:
    """A diverging exclusive/inclusive gateway whose outflows carry conditions needs a default flow:
    when no condition holds the case stops there with an error."""
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in process.iter(_q("bpmn:sequenceFlow")):
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
    for gateway in process.iter(_q("bpmn:exclusiveGateway"), _q("bpmn:inclusiveGateway")):
        flows = outgoing.get(gateway.get("id", ""), [])
        conditional = [f for f in flows if (f.findtext("bpmn:conditionExpression", "", NS) or "").strip()]
        if len(flows) > 1 and conditional and not gateway.get("default"):
            report.issues.append(Issue(
                gateway.get("id"), "gateway has conditional flows but no default flow: when no condition holds the "
                                   "case stops with an error / 网关有条件分支但没有默认路径，条件均不成立时流程将出错",
                gateway.sourceline, "warning", "gateway_without_default"))


def _flow_graph_checks(report: LintReport, container: etree._Element) -> None:
    """Within one process or subprocess: elements that cannot reach an end, and loops no path leaves."""
    nodes = {el.get("id"): el for el in container if _local(el) in FLOW_NODES and el.get("id")}
    edges: dict[str, set[str]] = {node: set() for node in nodes}
    for flow in container.findall("bpmn:sequenceFlow", NS):
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if source in edges and target in nodes:
            edges[source].add(target)
    for node_id, el in nodes.items():
        if _local(el) == "boundaryEvent" and el.get("attachedToRef") in edges:
            edges[el.get("attachedToRef")].add(node_id)  # an event on a task is a way out of it
    components = _strongly_connected(edges)
    closed: set[str] = set()
    for component in components:
        if len(component) == 1:
            (only,) = component
            if only not in edges[only]:
                continue
        if any(target not in component for node in component for target in edges[node]):
            continue
        first = min(component, key=lambda n: (nodes[n].sourceline or 0, n))
        closed |= component
        names = ", ".join(sorted(component))
        report.issues.append(Issue(
            first, f"loop without exit: no gateway or event leads out of the cycle {names}, so a case that enters "
                   f"it never ends / 循环没有出口：{names} 构成的环路没有任何离开的路径，进入后流程永远无法结束",
            nodes[first].sourceline, "error", "loop_without_exit"))
    # an end: an end event, or an element with no outgoing flow (an implicit end)
    ends = {n for n, el in nodes.items() if _local(el) == "endEvent" or not edges[n]}
    reverse: dict[str, set[str]] = {node: set() for node in nodes}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].add(source)
    can_end, todo = set(ends), list(ends)
    while todo:
        for source in reverse[todo.pop()]:
            if source not in can_end:
                can_end.add(source)
                todo.append(source)
    for node_id, el in nodes.items():
        if node_id not in can_end and node_id not in closed:
            report.issues.append(Issue(node_id, "no path leads from this element to an end event / 该元素无法到达结束事件",
                                       el.sourceline, "warning", "cannot_reach_end"))


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (a BPMN graph may be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[set[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                result.append(component)
    return result


def form_issues(report: LintReport, available: Callable[[str], tuple[object | None, str | None]]) -> list[Issue]:
    """Form references of the user tasks: `available(filename)` gives (document, problem). A task without
    a form is a warning (the person sees only a confirm button); a missing or invalid file is an error."""
    issues: list[Issue] = []
    for task in report.user_tasks:
        if not task.form_schema:
            issues.append(Issue(task.element_id, "user task has no form (formJsonSchemaFilename), so the person "
                                                 "only confirms it / 用户任务没有表单，办理人只能点击确认",
                                task.line, "warning", "user_task_without_form"))
        for ref in (task.form_schema, task.form_ui_schema):
            if ref:
                _document, problem = available(ref)
                if problem:
                    issues.append(Issue(task.element_id, problem, task.line, "error", "form_missing"))
    return issues


def lint_tree(tree: etree._ElementTree, *, known_roles: Iterable[str] | None) -> LintReport:
    """Check one BPMN document. Roles: the lane names allowed (None: don't check)."""
    report = LintReport()
    root = tree.getroot()
    if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
        report.issues.append(Issue(None, "not a BPMN 2.0 document (root must be bpmn:definitions) / 不是 BPMN 2.0 文档", root.sourceline,
                                   code="not_bpmn"))
        return report
    roles = set(known_roles) if known_roles is not None else None
    processes = root.findall("bpmn:process", NS)
    if not processes:
        report.issues.append(Issue(None, "the document contains no process / 文档中没有流程", root.sourceline,
                                   code="no_process"))
    for process in processes:
        if process is processes[0]:
            report.process_properties = _properties(process)
        lane_of: dict[str, str] = {}
        for lane in process.iter(_q("bpmn:lane")):
            name = (lane.get("name") or "").strip()
            report.lanes.add(name)
            if roles is not None and name not in roles:
                report.issues.append(Issue(lane.get("id"), f"lane '{name}' is not a known role / 泳道 '{name}' 不是已知角色",
                                           lane.sourceline, code="unknown_role"))
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                lane_of[(ref.text or "").strip()] = name
        ids = {el.get("id") for el in process.iter() if el.get("id")}
        for flow in process.iter(_q("bpmn:sequenceFlow")):
            for attr in ("sourceRef", "targetRef"):
                ref = flow.get(attr) or ""
                if ref not in ids:
                    # SpiffWorkflow misreports a missing target and accepts a missing source (the case then stalls)
                    report.issues.append(Issue(flow.get("id"), f"sequence flow {attr} '{ref}' names no element of the process "
                                                               f"/ 顺序流的 {attr} '{ref}' 指向不存在的元素", flow.sourceline,
                                               code="dangling_flow"))
        for script in process.iter(_q("bpmn:script")):
            _check_code(report, script, script.text or "", "exec", "script")
        for tag in ("spiffworkflow:preScript", "spiffworkflow:postScript"):
            for script in process.iter(_q(tag)):
                _check_code(report, script, script.text or "", "exec", tag.split(":")[1])
        for cond in process.iter(_q("bpmn:conditionExpression"), _q("bpmn:completionCondition"),
                                 _q("bpmn:loopCardinality")):
            if (cond.text or "").strip():
                _check_code(report, cond, cond.text or "", "eval", "condition")
        for timer in process.iter(_q("bpmn:timeDuration"), _q("bpmn:timeDate"), _q("bpmn:timeCycle")):
            _check_timer(report, timer)
        _gateway_defaults(report, process)
        for task in process.iter(_q("bpmn:userTask")):
            props = _properties(task)
            tid = task.get("id")
            ref = UserTaskRef(tid, task.get("name") or tid, lane_of.get(tid), props.get("formJsonSchemaFilename"),
                              props.get("formUiSchemaFilename"), task.sourceline)
            report.user_tasks.append(ref)
            if ref.lane is None:
                report.issues.append(Issue(tid, "user task is not in a lane, so nobody can be offered it / 用户任务不在泳道中",
                                           task.sourceline, "warning", "user_task_without_lane"))
        for call in process.iter(_q("bpmn:callActivity")):
            if call.get("calledElement"):
                report.called_elements.add(call.get("calledElement"))
        for decision in process.iter(_q("spiffworkflow:calledDecisionId")):
            if (decision.text or "").strip():
                report.called_decisions.add(decision.text.strip())
        _reachability(report, process)
        for container in [process, *process.iter(_q("bpmn:subProcess"), _q("bpmn:transaction"))]:
            _flow_graph_checks(report, container)
    return report
