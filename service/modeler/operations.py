"""Deploying BPMN: lint, parse, snapshot forms and decisions, and make an immutable version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from service import audit, clock
from service.engine import CompiledProcess, InvalidProcess, Issue, compile_process, peek_process_id
from service.errors import ApiError
from service.extensions import db
from service.pack import ROLES
from service.runtime import definition

from .forms import load_form
from .models import ProcessModel, ProcessVersion


@dataclass
class DeployResult:
    version: ProcessVersion
    created: bool
    warnings: list[Issue]


def _checksum(bpmn: str, dmn: dict, forms: dict) -> str:
    canonical = json.dumps({"bpmn": bpmn, "dmn": dmn, "forms": forms}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _available_dmn(previous: ProcessVersion | None) -> dict[str, str]:
    found = dict(previous.dmn) if previous else {}
    bpmn_dir = Path(current_app.config["BPMN_DIR"])
    if bpmn_dir.is_dir():
        for path in sorted(bpmn_dir.glob("*.dmn")):
            found[path.name] = path.read_text(encoding="utf-8")
    return found


def _library(except_key: str) -> list[str]:
    """Latest BPMN of every other deployed process, for call activities."""
    rows = db.session.execute(
        select(ProcessVersion.bpmn_xml)
        .join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
        .where(ProcessModel.key != except_key, ProcessVersion.number == ProcessModel.latest_version))
    return [xml for (xml,) in rows]


def invalid(issues: list[Issue]) -> ApiError:
    return ApiError(422, "invalid_bpmn", details=[
        {"element_id": i.element_id, "message": i.message, "line": i.line} for i in issues])


def deploy_bpmn(xml: bytes | str, *, filename: str = "upload.bpmn", actor_id: int | None = None,
                comment: str | None = None) -> DeployResult:
    """Lint and deploy one BPMN document. Raises ApiError(422, invalid_bpmn) listing every problem;
    makes a new version only when the BPMN, its decisions or its forms changed."""
    text = xml.decode("utf-8", errors="replace") if isinstance(xml, bytes) else xml
    key = peek_process_id(xml)
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == key)) if key else None
    previous = _latest(model)
    try:
        compiled = compile_process(xml, filename=filename, dmn=_available_dmn(previous),
                                   library=_library(key or ""), known_roles=ROLES)
    except InvalidProcess as exc:
        raise invalid(exc.issues) from None
    key = compiled.process_id

    issues: list[Issue] = []
    pack_definition = definition(key)
    subject_kind = pack_definition.subject_kind if pack_definition else compiled.report.process_properties.get("subjectKind")
    if subject_kind not in ("person", "org_unit"):
        issues.append(Issue(key, "the process has no subject kind: add the process property subjectKind = person | "
                                 "org_unit / 流程缺少 subjectKind 属性 (person 或 org_unit)"))
    issues += _length_issues(compiled)
    forms: dict[str, object] = {}
    for task in compiled.report.user_tasks:
        for ref in (task.form_schema, task.form_ui_schema):
            if not ref or ref in forms:
                continue
            document, problem = load_form(key, ref)
            if problem:
                issues.append(Issue(task.element_id, problem, task.line))
            else:
                forms[ref] = document
    if issues:
        raise invalid(issues)

    checksum = _checksum(text, compiled.decisions, forms)
    if previous is not None and previous.checksum == checksum:
        return DeployResult(previous, False, compiled.warnings)
    if model is None:
        model = ProcessModel(key=key, name=compiled.name, subject_kind=subject_kind, latest_version=0)
        db.session.add(model)
    model.name = compiled.name
    model.subject_kind = subject_kind
    model.latest_version += 1
    version = ProcessVersion(
        model=model, number=model.latest_version, bpmn_xml=text, dmn=compiled.decisions, forms=forms,
        spec_json=compiled.spec_json, checksum=checksum, warnings=[w.as_dict() for w in compiled.warnings],
        comment=comment, created_by=actor_id, created_at=clock.now())
    db.session.add(version)
    db.session.flush()
    audit.record("process_deployed", actor_id=actor_id, process=key, version=version.number, checksum=checksum,
                 comment=comment)
    return DeployResult(version, True, compiled.warnings)


def _length_issues(compiled: CompiledProcess) -> list[Issue]:
    """Ids and names are stored in bounded columns (process key 100, task id 100, names and titles 200,
    form file names 200); PostgreSQL refuses longer values, so a case could never start or move on."""
    limits = [(compiled.process_id, compiled.process_id, 100, "process id", None),
              (compiled.process_id, compiled.name, 200, "process name", None)]
    for task in compiled.report.user_tasks:
        limits += [(task.element_id, task.element_id, 100, "task id", task.line),
                   (task.element_id, task.title, 200, "task name", task.line),
                   (task.element_id, task.form_schema, 200, "form file name", task.line),
                   (task.element_id, task.form_ui_schema, 200, "UI schema file name", task.line)]
    return [Issue(element, f"{what} is longer than {limit} characters / {what} 超过 {limit} 个字符", line)
            for element, value, limit, what, line in limits if value and len(value) > limit]


def _latest(model: ProcessModel | None) -> ProcessVersion | None:
    if model is None or not model.latest_version:
        return None
    return db.session.scalar(select(ProcessVersion).where(
        ProcessVersion.model_id == model.id, ProcessVersion.number == model.latest_version))


def latest_version(key: str) -> ProcessVersion | None:
    return db.session.scalar(
        select(ProcessVersion).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
        .where(ProcessModel.key == key, ProcessVersion.number == ProcessModel.latest_version))
