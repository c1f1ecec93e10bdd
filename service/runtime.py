"""The app's engine and process pack, and the one place that loads a version's spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from .engine import Engine, LoadedSpec
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
    key = version.model.key
    return engine().load(version.id, lambda: version.spec_json, script_functions(key))


def version_forms(version: ProcessVersion) -> dict[str, Any]:
    """A version's form snapshot; versions are immutable, so it is cached by id (per app)."""
    cache: dict[int, dict[str, Any]] = current_app.extensions.setdefault("forms_cache", {})
    forms = cache.get(version.id)
    if forms is None:
        forms = cache[version.id] = dict(version.forms or {})
    return forms
