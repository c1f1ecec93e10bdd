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


def _of_version(column: Any, version_id: int) -> Any:
    """A column of a version, cached by version id per app (versions never change after insert)."""
    cache: dict[int, Any] = current_app.extensions.setdefault(f"version_{column.key}", {})
    if version_id not in cache:
        cache[version_id] = db.session.scalar(select(column).where(ProcessVersion.id == version_id))
    return cache[version_id]


def version_forms(version_id: int) -> dict[str, Any]:
    """A version's form snapshot."""
    return _of_version(ProcessVersion.forms, version_id) or {}


def version_number(version_id: int) -> int:
    """A version's number: a case's answer needs no version row."""
    return _of_version(ProcessVersion.number, version_id)
