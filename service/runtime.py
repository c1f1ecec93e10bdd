"""The app's engine and process pack, and the one place that loads a version's spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from .engine import Engine, LoadedSpec
from .extensions import db
from .modeler.models import ProcessVersion
from .pack import ProcessDefinition, discover


def init_runtime(app: Flask) -> None:
    app.extensions["engine"] = Engine(time_limit=app.config["SCRIPT_TIME_LIMIT"])
    app.extensions["pack"] = discover(app.config["PROCESS_PACK"])


def engine() -> Engine:
    return current_app.extensions["engine"]


def pack() -> dict[str, ProcessDefinition]:
    return current_app.extensions["pack"]


def definition(key: str) -> ProcessDefinition | None:
    return pack().get(key)


def script_functions(key: str) -> dict[str, Callable[..., Any]]:
    found = definition(key)
    return dict(found.functions) if found else {}


def load_spec(version: ProcessVersion) -> LoadedSpec:
    return load_spec_of(version.id, version.model.key)


def load_spec_of(version_id: int, key: str) -> LoadedSpec:
    """The parsed spec of a version by its id: the spec is read from the database only on a cache miss."""
    def read() -> str:
        return db.session.scalar(select(ProcessVersion.spec_json).where(ProcessVersion.id == version_id))

    return engine().load(version_id, read, script_functions(key))


def version_forms(version_id: int) -> dict[str, Any]:
    """A version's form snapshot; versions are immutable, so it is cached by id (per app)."""
    cache: dict[int, dict[str, Any]] = current_app.extensions.setdefault("forms_cache", {})
    forms = cache.get(version_id)
    if forms is None:
        forms = cache[version_id] = dict(
            db.session.scalar(select(ProcessVersion.forms).where(ProcessVersion.id == version_id)) or {})
    return forms


def version_number(version_id: int) -> int:
    """A version's number (immutable, so cached by id per app): a case's answer needs no version row."""
    cache: dict[int, int] = current_app.extensions.setdefault("version_numbers", {})
    number = cache.get(version_id)
    if number is None:
        number = cache[version_id] = db.session.scalar(
            select(ProcessVersion.number).where(ProcessVersion.id == version_id))
    return number
