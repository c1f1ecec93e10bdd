"""Deploying BPMN: lint, parse, snapshot forms and decisions, and make an immutable version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import bindparam, select

from service import audit, clock
from service.engine import CompiledProcess, InvalidProcess, Issue, compile_process, peek_process_id
from service.engine.lint import form_issues
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


@dataclass
class LintOutcome:
    """What the one lint of a model found. `compiled` is None when the document did not compile."""

    key: str | None
    problems: list[Issue]
    compiled: CompiledProcess | None = None
    forms: dict[str, Any] = field(default_factory=dict)  # the form snapshot a version would store
    subject_kind: str | None = None

    @property
    def errors(self) -> list[Issue]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [p for p in self.problems if p.severity == "warning"]


def _form_source(key: str, given: Mapping[str, Any] | None,
                 previous: ProcessVersion | None) -> Callable[[str], tuple[Any | None, str | None]]:
    """Where a form reference is looked up: the forms sent with the request, then forms/<key>/ on disk,
    then the previous version's snapshot (a form edited in the modeler exists nowhere else)."""
    snapshot = dict(previous.forms or {}) if previous is not None else {}

    def available(filename: str) -> tuple[Any | None, str | None]:
        if given and filename in given:
            return _check_given_form(filename, given[filename])
        document, problem = load_form(key, filename)
        if problem and filename in snapshot:
            return snapshot[filename], None
        return document, problem

    return available


def _check_given_form(filename: str, document: Any) -> tuple[Any | None, str | None]:
    if not isinstance(document, dict):
        return None, f"form {filename} must be a JSON object / 表单 {filename} 必须是 JSON 对象"
    if filename.endswith(".schema.json"):
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as exc:
            return None, f"form file {filename} is not a valid JSON Schema: {exc.message} / 不是有效的 JSON Schema"
    return document, None


def lint_model(bpmn: bytes | str, *, key: str | None = None, filename: str = "upload.bpmn",
               dmn: Mapping[str, str] | None = None, forms: Mapping[str, Any] | None = None) -> LintOutcome:
    """THE lint of a model, used by deploy and by the modeler's lint endpoint: engine lint and parse,
    subject kind, column lengths, forms (given ones win) and, with `key`, that the document is that
    process. `dmn` given: decision files added to (and replacing) the ones of the previous version and
    bpmn/."""
    found_key = peek_process_id(bpmn)
    model_key = found_key or key
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == model_key)) if model_key else None
    previous = _latest(model)
    problems: list[Issue] = []
    if key is not None and found_key is not None and found_key != key:
        problems.append(Issue(found_key, f"the document's process id is '{found_key}', not '{key}' / 流程 id 与地址不符",
                              None, "error", "process_id_mismatch"))
    decisions = {**_available_dmn(previous), **dict(dmn or {})}
    try:
        compiled = compile_process(bpmn, filename=filename, dmn=decisions, library=_library(model_key or ""),
                                   known_roles=ROLES)
    except InvalidProcess as exc:
        return LintOutcome(model_key, problems + list(exc.issues))
    process_key = compiled.process_id
    problems += compiled.report.issues
    pack_definition = definition(process_key)
    subject_kind = (pack_definition.subject_kind if pack_definition
                    else compiled.report.process_properties.get("subjectKind"))
    if subject_kind not in ("person", "org_unit"):
        problems.append(Issue(process_key, "the process has no subject kind: add the process property subjectKind = "
                                           "person | org_unit / 流程缺少 subjectKind 属性 (person 或 org_unit)",
                              None, "error", "subject_kind_missing"))
    problems += _length_issues(compiled)
    available = _form_source(process_key, forms, previous)
    problems += form_issues(compiled.report, available)
    snapshot: dict[str, Any] = {}
    for task in compiled.report.user_tasks:
        for ref in (task.form_schema, task.form_ui_schema):
            if ref and ref not in snapshot:
                document, problem = available(ref)
                if not problem:
                    snapshot[ref] = document
    return LintOutcome(process_key, problems, compiled, snapshot, subject_kind)


def deploy_bpmn(xml: bytes | str, *, filename: str = "upload.bpmn", actor_id: int | None = None,
                comment: str | None = None, key: str | None = None, dmn: Mapping[str, str] | None = None,
                forms: Mapping[str, Any] | None = None) -> DeployResult:
    """Lint (lint_model) and deploy one BPMN document. Raises ApiError(422, invalid_bpmn) listing every
    error, so a version that fails lint is never stored; makes a new version only when the BPMN, its
    decisions or its forms changed."""
    text = xml.decode("utf-8", errors="replace") if isinstance(xml, bytes) else xml
    outcome = lint_model(xml, key=key, filename=filename, dmn=dmn, forms=forms)
    if outcome.errors or outcome.compiled is None:
        raise invalid(outcome.errors)
    compiled = outcome.compiled
    key = compiled.process_id
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == key))
    previous = _latest(model)
    warnings = outcome.warnings
    checksum = _checksum(text, compiled.decisions, outcome.forms)
    if previous is not None and previous.checksum == checksum:
        return DeployResult(previous, False, warnings)
    if model is None:
        model = ProcessModel(key=key, name=compiled.name, subject_kind=outcome.subject_kind, latest_version=0)
        db.session.add(model)
    model.name = compiled.name
    model.subject_kind = outcome.subject_kind
    model.latest_version += 1
    version = ProcessVersion(
        model=model, number=model.latest_version, bpmn_xml=text, dmn=compiled.decisions, forms=outcome.forms,
        spec_json=compiled.spec_json, checksum=checksum, warnings=[w.as_dict() for w in warnings],
        comment=comment, created_by=actor_id, created_at=clock.now())
    db.session.add(version)
    db.session.flush()
    audit.record("process_deployed", actor_id=actor_id, process=key, version=version.number, checksum=checksum,
                 comment=comment)
    return DeployResult(version, True, warnings)


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
    return [Issue(element, f"{what} is longer than {limit} characters / {what} 超过 {limit} 个字符", line,
                  "error", "too_long")
            for element, value, limit, what, line in limits if value and len(value) > limit]


def _latest(model: ProcessModel | None) -> ProcessVersion | None:
    if model is None or not model.latest_version:
        return None
    return db.session.scalar(select(ProcessVersion).where(
        ProcessVersion.model_id == model.id, ProcessVersion.number == model.latest_version))


def latest_version(key: str) -> ProcessVersion | None:
    return db.session.scalar(_LATEST_VERSION, {"key": key})


_LATEST_VERSION = (select(ProcessVersion).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
                   .where(ProcessModel.key == bindparam("key"), ProcessVersion.number == ProcessModel.latest_version))


@dataclass(frozen=True)
class VersionRef:
    """What starting a case needs of a version: no ORM row (a start reads one small row of the model)."""

    id: int
    number: int
    name: str
    subject_kind: str


def current_version(key: str) -> VersionRef | None:
    """The latest version of `key`, read as one small row every time: a deploy shows at once in every process."""
    row = db.session.execute(_CURRENT_VERSION, {"key": key}).first()
    return VersionRef(row.id, row.number, row.name, row.subject_kind) if row is not None else None


_CURRENT_VERSION = (
    select(ProcessVersion.id, ProcessVersion.number, ProcessModel.name, ProcessModel.subject_kind)
    .join(ProcessVersion, (ProcessVersion.model_id == ProcessModel.id)
          & (ProcessVersion.number == ProcessModel.latest_version))
    .where(ProcessModel.key == bindparam("key")))


# -- dry run ------------------------------------------------------------------------------------------
def dry_run_model(key: str, *, data: Mapping[str, Any], answers: Mapping[str, Any], bpmn: str | None = None,
                  dmn: Mapping[str, str] | None = None, forms: Mapping[str, Any] | None = None,
                  version_number: int | None = None) -> dict[str, Any]:
    """Play the given draft (or a version, default the latest) through in memory with the pack's
    functions and policies: nothing is stored and no case is touched. Returns
    {path, waiting_at, ended, outcome, data, error}."""
    from service.engine.dryrun import dry_run, load_for_dry_run
    from service.instances.operations import policies_for
    from service.instances.validation import apply_defaults
    from service.runtime import engine, script_functions

    if bpmn is not None:
        outcome = lint_model(bpmn, key=key, filename=f"{key}.bpmn", dmn=dmn, forms=forms)
        if outcome.errors or outcome.compiled is None:
            raise invalid(outcome.errors)
        spec_json, form_documents = outcome.compiled.spec_json, outcome.forms
    else:
        version = _version(key, version_number)
        spec_json, form_documents = version.spec_json, dict(version.forms or {})
    found = definition(key)
    initial: dict[str, Any] = dict(found.start_defaults) if found else {}
    initial.update({"process": key, "policies": policies_for(key)})
    initial.update(data)
    if isinstance(data.get("policies"), Mapping):
        initial["policies"] = {**policies_for(key), **data["policies"]}

    def prepare(task: Any, answer: dict[str, Any]) -> dict[str, Any]:
        schema = form_documents.get(task.form_schema) if task.form_schema else None
        return apply_defaults(schema, answer) if isinstance(schema, dict) else answer

    runner = engine()
    loaded = load_for_dry_run(spec_json, script_functions(key), runner.time_limit)
    return dry_run(runner, loaded, initial, answers, prepare=prepare).as_dict()


def _version(key: str, number: int | None) -> ProcessVersion:
    query = select(ProcessVersion).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id).where(
        ProcessModel.key == key)
    query = query.where(ProcessVersion.number == number) if number is not None else query.where(
        ProcessVersion.number == ProcessModel.latest_version)
    version = db.session.scalar(query)
    if version is None:
        raise ApiError(404, "not_found", f"流程 {key} 没有该版本 / process {key} has no such version")
    return version
