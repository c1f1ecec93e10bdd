"""Sandboxed evaluation of BPMN scripts and conditions.

SpiffWorkflow runs scripts with `exec` and conditions with `eval` over the task data; left alone,
a script can import `os`. Here every script and expression is compiled by RestrictedPython
(no imports, no dunder attributes, guarded item/attribute access and writes), runs with a small
set of builtins plus the functions the process pack declares, and under a wall-clock limit
enforced by a per-thread trace function that only watches frames of the script itself.

Known limit: a single C-level operation (``10 ** 10 ** 8``) cannot be interrupted by the trace
function; `range` is capped so loops over huge ranges cannot be written.
"""

from __future__ import annotations

import ast
import builtins
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

SCRIPT_FILENAME = "<bpmn-script>"
RANGE_LIMIT = 100_000

# Names whose mere use is refused at deploy: the sandbox would refuse them at run time anyway,
# but an admin should hear it when saving, not when a case is stuck.
FORBIDDEN_NAMES = frozenset(
    {"open", "eval", "exec", "compile", "__import__", "globals", "locals", "vars", "getattr",
     "setattr", "delattr", "input", "breakpoint", "memoryview", "type", "object", "super"}
)


class ScriptTimeout(BaseException):
    """Raised inside a script that ran past its time limit (BaseException: scripts can't catch it)."""


class ScriptRejected(Exception):
    """The script or expression is not allowed (compile-time refusal)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _capped_range(*args: int) -> range:
    r = range(*args)
    if len(r) > RANGE_LIMIT:
        raise ValueError(f"range() longer than {RANGE_LIMIT} is not allowed in scripts")
    return r


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b,
        "|=": lambda a, b: a | b, "&=": lambda a, b: a & b,
    }
    if op not in ops:
        raise SyntaxError(f"operator {op} is not allowed in scripts")
    return ops[op](x, y)


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    for name in ("min", "max", "sum", "any", "all", "enumerate", "list", "dict", "set", "frozenset",
                 "reversed", "map", "filter", "print"):
        allowed[name] = getattr(builtins, name)
    allowed["range"] = _capped_range
    for name in ("__build_class__", "id", "hash", "issubclass", "BaseException"):
        allowed.pop(name, None)
    return allowed


_GUARDS: dict[str, Any] = {
    "__builtins__": _builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_print_": PrintCollector,  # `print` compiles to _print_; output is collected and dropped
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
}


def _extra_checks(tree: ast.AST) -> list[str]:
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Try | ast.TryStar):
            # a trace function that raises is switched off by CPython, so a script that caught
            # the timeout could run on unbounded; scripts let errors reach the engine instead
            problems.append(f"Line {node.lineno}: try/except is not allowed in scripts / 脚本中不允许 try/except")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            problems.append(f"Line {node.lineno}: import is not allowed in scripts / 脚本中不允许 import")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"Line {node.lineno}: '{node.id}' is not allowed in scripts / 脚本中不允许使用 {node.id}")
    return problems


@lru_cache(maxsize=4096)
def compile_script(source: str) -> Any:
    """Compile a script (exec mode) or raise ScriptRejected; SyntaxError messages carry the line."""
    tree = ast.parse(source, SCRIPT_FILENAME, "exec")  # SyntaxError with lineno
    problems = _extra_checks(tree)
    result = compile_restricted_exec(source, SCRIPT_FILENAME)
    problems += list(result.errors)
    if problems or result.code is None:
        raise ScriptRejected(problems or ["script could not be compiled"])
    return result.code


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    tree = ast.parse(source.strip(), SCRIPT_FILENAME, "eval")
    problems = _extra_checks(tree)
    result = compile_restricted_eval(source.strip(), SCRIPT_FILENAME)
    problems += list(result.errors)
    if problems or result.code is None:
        raise ScriptRejected(problems or ["expression could not be compiled"])
    return result.code


def run_with_time_limit(fn: Callable[[], Any], limit: float) -> Any:
    """Run fn, raising ScriptTimeout inside any script frame once `limit` seconds have passed.

    Once past the deadline every further line of script code raises again, so a script that
    catches the exception cannot keep going.
    """
    deadline = time.monotonic() + limit

    def local_trace(frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise ScriptTimeout(f"script exceeded its time limit of {limit:g} s")
        return local_trace

    def global_trace(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            # a one-line `while True: pass` jumps to itself and emits no line events
            frame.f_trace_opcodes = True
            return local_trace
        return None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        return fn()
    finally:
        sys.settrace(previous)


class SandboxEnvironment(TaskDataEnvironment):
    """A TaskDataEnvironment whose scripts run restricted and time-limited."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]], time_limit: float):
        super().__init__(dict(functions))
        self.time_limit = time_limit

    def _globals(self, external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        scope = dict(_GUARDS)
        scope.update(self.globals)
        scope.update(external_context or {})
        return scope

    def evaluate(self, expression: str, context: dict, external_context: Mapping | None = None) -> Any:
        code = compile_expression(expression)
        scope = self._globals(external_context)
        scope.update(context)
        return run_with_time_limit(lambda: eval(code, scope), self.time_limit)  # noqa: S307 - restricted code

    def execute(self, script: str, context: dict, external_context: Mapping | None = None) -> bool:
        self.check_for_overwrite(context, dict(external_context or {}))
        code = compile_script(script)
        injected = self._globals(external_context)
        context.update(injected)
        try:
            run_with_time_limit(lambda: exec(code, context), self.time_limit)  # noqa: S102 - restricted code
        finally:
            for key in list(context):
                if key in injected or key.startswith("_") or callable(context[key]):
                    context.pop(key, None)
        return True
