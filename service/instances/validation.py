"""Server-side validation of submitted task data against the task's JSON Schema, in Chinese and English."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

_ZH = {
    "required": "此项为必填项",
    "type": "类型不正确",
    "enum": "取值不在允许范围内",
    "minimum": "数值过小",
    "maximum": "数值过大",
    "exclusiveMinimum": "数值过小",
    "exclusiveMaximum": "数值过大",
    "minLength": "内容过短",
    "maxLength": "内容过长",
    "minItems": "条目过少",
    "maxItems": "条目过多",
    "format": "格式不正确",
    "pattern": "格式不正确",
    "additionalProperties": "包含不允许的字段",
    "const": "取值不正确",
    "uniqueItems": "条目不能重复",
}


def validate_task_data(schema: dict[str, Any] | None, data: Any) -> list[dict[str, Any]]:
    """Per-field errors: [{"field": "a.b", "message": "中文 / English", "validator": "required"}]."""
    if not isinstance(data, dict):
        return [{"field": "", "message": "提交的数据必须是对象 / data must be an object", "validator": "type"}]
    problems = []
    for key in data:
        if not isinstance(key, str) or key.startswith("_") or not key.isidentifier():
            problems.append({"field": str(key), "message": "字段名无效 / invalid field name", "validator": "name"})
    if schema is None:
        return problems
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [f for f in error.validator_value if f not in error.instance]
            for name in missing:
                problems.append({"field": ".".join([*path, name]),
                                 "message": f"{_ZH['required']} / {name} is required", "validator": "required"})
            continue
        zh = _ZH.get(str(error.validator), "数据无效")
        problems.append({"field": ".".join(path), "message": f"{zh} / {error.message}",
                         "validator": str(error.validator)})
    return problems


def apply_defaults(schema: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """Fill top-level fields the user left out with the schema's defaults (as the browser form does)."""
    if not schema or not isinstance(schema.get("properties"), dict):
        return data
    filled = dict(data)
    for name, prop in schema["properties"].items():
        if name not in filled and isinstance(prop, dict) and "default" in prop:
            filled[name] = prop["default"]
    return filled


def without_read_only(schema: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """The submission without the form's top-level read-only fields: they show the case's values, and a
    client sending them back (changed or not) must not overwrite what earlier steps recorded."""
    if not schema or not isinstance(schema.get("properties"), dict):
        return data
    read_only = {name for name, prop in schema["properties"].items() if isinstance(prop, dict) and prop.get("readOnly")}
    return {k: v for k, v in data.items() if k not in read_only} if read_only else data
