"""Parse + lint a BPMN document (with the DMN and other BPMN it needs) into a storable spec."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .lint import NS, Issue, LintReport, lint_tree
from .serialization import registry
from .xmlsafe import UnsafeXml, parse_xml


class InvalidProcess(Exception):
    """The document cannot be deployed; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(f"{i.element_id or '-'}: {i.message}" for i in issues))
        self.issues = issues


@dataclass
class CompiledProcess:
    process_id: str
    name: str
    spec_json: str
    report: LintReport
    decisions: dict[str, str] = field(default_factory=dict)  # DMN file name -> XML used

    @property
    def warnings(self) -> list[Issue]:
        return self.report.warnings


def _translate(exc: ValidationException) -> str:
    message = str(exc).split("\n")[0]
    if "perhaps a form has the same ID" in message:
        # raised for a sequence flow whose targetRef/sourceRef names no element
        return "a sequence flow points to an element that does not exist / 顺序流指向了不存在的元素"
    return message


def _main_process(tree: etree._ElementTree) -> etree._Element | None:
    processes = tree.getroot().findall("bpmn:process", NS)
    executable = [p for p in processes if p.get("isExecutable", "false").lower() == "true"]
    return (executable or processes or [None])[0]


def peek_process_id(bpmn: bytes | str) -> str | None:
    """The id of the process a document would deploy as, without linting (None if unreadable)."""
    try:
        process = _main_process(parse_xml(bpmn))
    except UnsafeXml:
        return None
    return process.get("id") if process is not None else None


def _decision_ids(tree: etree._ElementTree) -> set[str]:
    return {d.get("id") for d in tree.getroot().iter() if etree.QName(d).localname == "decision" and d.get("id")}


def compile_process(
    bpmn: bytes | str,
    *,
    filename: str = "upload.bpmn",
    dmn: Mapping[str, bytes | str] | None = None,
    library: Iterable[bytes | str] = (),
    known_roles: Iterable[str] | None = None,
) -> CompiledProcess:
    """Lint and parse. `dmn`: DMN files available to business rule tasks; `library`: BPMN of other
    deployed processes that call activities may name. Raises InvalidProcess."""
    try:
        tree = parse_xml(bpmn)
    except UnsafeXml as exc:
        raise InvalidProcess([Issue(None, f"{exc} / XML 无效或不安全", exc.line)]) from None
    report = lint_tree(tree, known_roles=known_roles)
    process = _main_process(tree)
    if report.errors or process is None:
        raise InvalidProcess(report.errors or [Issue(None, "no process found / 未找到流程")])
    process_id = process.get("id")

    parser = SpiffBpmnParser(validator=VALIDATOR)
    issues: list[Issue] = []
    try:
        parser.add_bpmn_xml(tree.getroot(), filename)
    except ValidationException as exc:
        raise InvalidProcess([Issue(exc.id or None, _translate(exc), exc.line_number or None)]) from None
    own_ids = set(parser.get_process_ids())
    for document in library:
        try:
            other = parse_xml(document)
        except UnsafeXml:
            continue
        other_ids = {p.get("id") for p in other.getroot().findall("bpmn:process", NS)}
        if other_ids & own_ids:
            continue
        try:
            parser.add_bpmn_xml(other.getroot(), "library.bpmn")
            own_ids |= other_ids
        except ValidationException:
            continue  # a broken library document is that process's problem, not this one's

    available_decisions: dict[str, tuple[str, str]] = {}
    for dmn_name, dmn_xml in (dmn or {}).items():
        try:
            dmn_tree = parse_xml(dmn_xml)
            file_decisions = _decision_ids(dmn_tree)
            if len(file_decisions) > 1:
                # SpiffWorkflow reads one decision per DMN file and fails on more with an AttributeError
                if file_decisions & report.called_decisions:
                    issues.append(Issue(None, f"decision file {dmn_name} holds {len(file_decisions)} decisions "
                                              f"({', '.join(sorted(file_decisions))}); put each decision in its own "
                                              "DMN file / 每个 DMN 文件只能包含一个决策"))
                continue
            parser.add_dmn_xml(dmn_tree.getroot(), dmn_name)
        except (UnsafeXml, ValidationException) as exc:
            if _decision_ids_safe(dmn_xml) & report.called_decisions:
                issues.append(Issue(None, f"decision file {dmn_name}: {exc}", getattr(exc, "line", None)))
            continue
        text = dmn_xml.decode("utf-8") if isinstance(dmn_xml, bytes) else dmn_xml
        for decision_id in _decision_ids(dmn_tree):
            available_decisions[decision_id] = (dmn_name, text)

    for call in tree.getroot().iter(f"{{{NS['bpmn']}}}callActivity"):
        target = call.get("calledElement")
        if target and target not in own_ids:
            issues.append(Issue(call.get("id"), f"called process '{target}' is not deployed / 调用的流程 '{target}' 不存在",
                                call.sourceline))
    for decision in tree.getroot().iter(f"{{{NS['spiffworkflow']}}}calledDecisionId"):
        ref = (decision.text or "").strip()
        if ref and ref not in available_decisions:
            owner = decision.getparent().getparent()
            issues.append(Issue(owner.get("id"), f"decision '{ref}' is not available / 决策表 '{ref}' 不存在",
                                decision.sourceline))
    if issues:
        raise InvalidProcess(issues)

    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise InvalidProcess([Issue(exc.id or None, _translate(exc), exc.line_number or None)]) from None
    spec_json = json.dumps({
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
    }, ensure_ascii=False)
    used = {}
    for ref in report.called_decisions:
        name, text = available_decisions[ref]
        used[name] = text
    return CompiledProcess(process_id, process.get("name") or process_id, spec_json, report, used)


def _decision_ids_safe(xml: bytes | str) -> set[str]:
    try:
        return _decision_ids(parse_xml(xml))
    except UnsafeXml:
        return set()
