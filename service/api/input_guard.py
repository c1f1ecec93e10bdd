"""Input no route can take, refused at the edge as a 400 instead of failing deep inside as a 500:
JSON nested deeper than any form needs (json.loads and copy.deepcopy hit Python's recursion limit),
NaN and infinite numbers (PostgreSQL's json type refuses them, and they are not JSON), integers past
Python's digit limit, and NUL characters anywhere in the path, query or JSON body (PostgreSQL cannot
store U+0000 in text)."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request

from service.errors import ApiError

MAX_JSON_DEPTH = 32


def _problem(value: Any) -> str | None:
    """Walk without recursion: the value may be as deep as the parser allowed."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels / JSON 嵌套过深"
        if isinstance(item, str):
            if "\x00" in item:
                return "NUL characters are not allowed / 不允许包含 NUL 字符"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "numbers must be finite (no NaN or Infinity) / 数值必须有限"
        elif isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((sub, depth + 1) for sub in item.values())
        elif isinstance(item, list):
            stack.extend((sub, depth + 1) for sub in item)
    return None


def refuse_unusable_input() -> None:
    problem = _problem([request.path, *request.args.keys(), *request.args.values()])
    if problem is None and request.is_json:
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except RecursionError:
            problem = f"JSON nested deeper than {MAX_JSON_DEPTH} levels / JSON 嵌套过深"
        except ValueError as exc:  # malformed, or an integer longer than Python reads
            problem = f"malformed JSON: {str(exc)[:200]} / JSON 格式错误"
        else:
            problem = _problem(body)
    if problem is not None:
        raise ApiError(400, "bad_request", details=[{"field": "", "message": problem}])
