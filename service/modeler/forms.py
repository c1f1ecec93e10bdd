"""Form files: forms/<process>/<file>. The one function that resolves a form reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import current_app
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


def form_path(process_key: str, filename: str) -> Path | None:
    """The file a BPMN form reference names, or None if the name tries to leave the folder."""
    base = (Path(current_app.config["FORMS_DIR"]) / process_key).resolve()
    candidate = (base / filename).resolve()
    if base not in candidate.parents:
        return None
    return candidate


def load_form(process_key: str, filename: str) -> tuple[Any | None, str | None]:
    """(document, problem). Problem is a bilingual message when the file is missing or invalid."""
    path = form_path(process_key, filename)
    if path is None or not path.is_file():
        return None, f"form file forms/{process_key}/{filename} does not exist / 表单文件不存在"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"form file {filename} is not valid JSON: {exc} / 表单文件不是有效的 JSON"
    if filename.endswith(".schema.json"):
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as exc:
            return None, f"form file {filename} is not a valid JSON Schema: {exc.message} / 不是有效的 JSON Schema"
    return document, None
