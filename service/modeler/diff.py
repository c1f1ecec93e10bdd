"""What changed between two BPMN documents, element by element (matched by id).

Compared: flow elements (tasks, events, gateways, subprocesses), lanes, sequence flows (ends and
conditions), timer definitions, scripts, the spiffworkflow extensions (properties, pre/post scripts,
instructions, decisions), names and documentation. Diagram layout (DI) is not a change: an element
whose shape or edge moved only is listed under `moved`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from service.engine.xmlsafe import parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

ELEMENTS = {
    "process", "participant", "lane", "sequenceFlow", "message", "task", "userTask", "manualTask", "scriptTask",
    "serviceTask", "businessRuleTask", "sendTask", "receiveTask", "callActivity", "subProcess", "transaction",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "dataObject", "dataObjectReference", "dataStoreReference", "textAnnotation", "association",
}
#: attributes compared as they are (others, such as bpmn-js's own ids, are ignored)
ATTRIBUTES = ("name", "sourceRef", "targetRef", "default", "attachedToRef", "cancelActivity", "calledElement",
              "messageRef", "triggeredByEvent", "isExecutable", "processRef", "isInterrupting", "instantiate",
              "eventGatewayType")
#: attribute values BPMN gives an element when the attribute is absent
DEFAULTS = {("cancelActivity", "boundaryEvent"): "true", ("isInterrupting", "startEvent"): "true"}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    value = (el.text or "").strip()
    return value or None


def _event_properties(el: etree._Element, props: dict[str, Any]) -> None:
    for definition in el:
        kind = _local(definition)
        if not kind.endswith("EventDefinition"):
            continue
        short = kind.removesuffix("EventDefinition")
        props[f"event.{short}"] = True
        for child in definition:
            name = _local(child)
            if name in ("timeDuration", "timeDate", "timeCycle"):
                props[f"timer.{name}"] = _text(child)
            elif name and name != "extensionElements":
                props[f"event.{short}.{name}"] = _text(child)
        for attr in ("messageRef", "errorRef", "signalRef", "escalationRef"):
            if definition.get(attr):
                props[f"event.{short}.{attr}"] = definition.get(attr)


def _spiff_properties(el: etree._Element, props: dict[str, Any]) -> None:
    extensions = el.find(f"{{{BPMN}}}extensionElements")
    if extensions is None:
        return
    for child in extensions:
        name = _local(child)
        if etree.QName(child).namespace != SPIFF:
            continue
        if name == "properties":
            for prop in child:
                if prop.get("name"):
                    props[f"property.{prop.get('name')}"] = prop.get("value")
        elif len(child):  # structured extensions (correlations, variables): compare their text
            props[f"spiffworkflow.{name}"] = etree.tostring(child, encoding="unicode", with_tail=False).strip()
        else:
            props[f"spiffworkflow.{name}"] = _text(child)


def _properties(el: etree._Element, lane_of: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    kind = _local(el)
    for attr in ATTRIBUTES:
        value = el.get(attr)
        if value is None and (attr, kind) in DEFAULTS:
            value = DEFAULTS[(attr, kind)]  # bpmn-js leaves out a default; the engine reads it the same
        if value is not None:
            props[attr] = value
    if kind == "textAnnotation":
        props["text"] = _text(el.find(f"{{{BPMN}}}text"))
    props["documentation"] = _text(el.find(f"{{{BPMN}}}documentation"))
    if kind == "sequenceFlow":
        props["condition"] = _text(el.find(f"{{{BPMN}}}conditionExpression"))
    props["script"] = _text(el.find(f"{{{BPMN}}}script"))
    loop = next((c for c in el if _local(c).endswith("LoopCharacteristics")), None)
    if loop is not None:
        props["loop"] = _local(loop) + (" sequential" if loop.get("isSequential") == "true" else "")
        for child in loop:
            props[f"loop.{_local(child)}"] = _text(child)
    _event_properties(el, props)
    _spiff_properties(el, props)
    if el.get("id") in lane_of:
        props["lane"] = lane_of[el.get("id")]
    return {k: v for k, v in props.items() if v is not None}


def _elements(root: etree._Element) -> dict[str, dict[str, Any]]:
    lane_of: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            lane_of[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    found: dict[str, dict[str, Any]] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN or _local(el) not in ELEMENTS:
            continue
        if el.get("id"):
            found[el.get("id")] = {"type": _local(el), "name": el.get("name"), "props": _properties(el, lane_of)}
    return found


def _layout(root: etree._Element) -> dict[str, tuple]:
    """bpmnElement -> the position of its shape (bounds) or edge (waypoints) and label."""
    layout: dict[str, tuple] = {}
    for el in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"):
        points = tuple((p.get("x"), p.get("y"), p.get("width"), p.get("height"))
                       for p in el.iter(f"{{{DC}}}Bounds", f"{{{DI}}}waypoint"))
        layout[el.get("bpmnElement", "")] = (el.get("isExpanded"), points)
    return layout


def _summary(element_id: str, element: dict[str, Any]) -> dict[str, Any]:
    return {"id": element_id, "type": element["type"], "name": element["name"]}


def diff_bpmn(old_xml: str | bytes, new_xml: str | bytes) -> dict[str, list[dict[str, Any]]]:
    """{added, removed, changed: [{id, type, name, changes: [{property, old, new}]}], moved}."""
    old_root, new_root = parse_xml(old_xml).getroot(), parse_xml(new_xml).getroot()
    old, new = _elements(old_root), _elements(new_root)
    added = [_summary(i, new[i]) for i in new if i not in old]
    removed = [_summary(i, old[i]) for i in old if i not in new]
    changed, moved = [], []
    old_layout, new_layout = _layout(old_root), _layout(new_root)
    for element_id, after in new.items():
        before = old.get(element_id)
        if before is None:
            continue
        changes = []
        if before["type"] != after["type"]:
            changes.append({"property": "type", "old": before["type"], "new": after["type"]})
        for prop in sorted(set(before["props"]) | set(after["props"])):
            a, b = before["props"].get(prop), after["props"].get(prop)
            if a != b:
                changes.append({"property": prop, "old": a, "new": b})
        if changes:
            changed.append({**_summary(element_id, after), "changes": changes})
        elif old_layout.get(element_id) != new_layout.get(element_id):
            moved.append(_summary(element_id, after))
    return {"added": added, "removed": removed, "changed": changed, "moved": moved}
