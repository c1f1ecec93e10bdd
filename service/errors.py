"""Errors the service reports, in one JSON shape: {"error": {"code", "message", "details"}}.

Messages are Chinese first; a client that prefers English (Accept-Language) gets English.
Outside /api/ (the server-rendered pages) the same errors become an HTML page: the web UI registers
its renderer with `set_page_renderer` (service.webui), and every handler below hands it page errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

MESSAGES: dict[str, tuple[str, str]] = {
    "bad_request": ("请求格式错误", "The request is malformed"),
    "unauthorized": ("请先登录", "Authentication required"),
    "invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
    "token_invalid": ("令牌无效或已过期，请重新登录", "The token is invalid or has expired"),
    "forbidden": ("您没有权限执行此操作", "You are not allowed to do this"),
    "not_found": ("未找到", "Not found"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "conflict": ("该记录已被他人修改，请刷新后重试", "Someone else changed this record; reload and try again"),
    "task_not_ready": ("该任务已不在待办状态（可能已被他人处理）", "The task is no longer waiting (someone may have completed it)"),
    "task_claimed": ("该任务已被他人认领", "The task is claimed by someone else"),
    "task_delegated": ("该任务已委派他人办理，待其办理后退回", "The task is delegated; it comes back once the delegate has acted"),
    "validation_failed": ("提交的数据有误", "The submitted data is invalid"),
    "invalid_bpmn": ("流程文件无效", "The BPMN document is invalid"),
    "invalid_roster": ("花名册数据有误，未导入任何内容", "The roster has errors; nothing was imported"),
    "instance_not_running": ("该流程实例不在运行状态", "The instance is not running"),
    "message_not_accepted": ("该流程当前不接收此消息", "The instance is not waiting for this message"),
    "too_many_requests": ("尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "payload_too_large": ("上传内容过大", "The upload is too large"),
    "unsupported_media_type": ("不支持的内容类型", "Unsupported content type"),
    "attachment_too_large": ("附件超过大小上限", "The attachment is larger than allowed"),
    "attachment_type_refused": ("不接受该类型的附件（仅限 PDF、JPG、PNG、DOCX、XLSX、TXT，且内容须与扩展名相符）",
                                "This type of file is not accepted (PDF, JPG, PNG, DOCX, XLSX or TXT, whose content "
                                "matches the extension)"),
    "internal_error": ("服务器内部错误，操作未生效", "Internal error; nothing was changed"),
}

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                 415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests"}


def prefers_english() -> bool:
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return best == "en"


def message_for(code: str, fallback: str | None = None) -> str:
    zh, en = MESSAGES.get(code, (fallback or code, fallback or code))
    return en if prefers_english() else zh


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str | None = None, details: list[Any] | None = None):
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []

    def response(self):  # type: ignore[no-untyped-def]
        body = {"error": {"code": self.code, "message": self.message or message_for(self.code),
                          "details": self.details}}
        return jsonify(body), self.status


def not_found() -> ApiError:
    return ApiError(404, "not_found")


def forbidden(message: str | None = None) -> ApiError:
    return ApiError(403, "forbidden", message)


def _webargs_details(messages: Any) -> list[dict[str, Any]]:
    """flask-smorest 422s carry {"json": {"field": ["msg"]}}: flatten to [{field, message}]."""
    details: list[dict[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            for msg in value:
                details.append({"field": prefix, "message": msg})
        else:
            details.append({"field": prefix, "message": str(value)})

    for location, fields in (messages or {}).items():
        walk("" if location in {"json", "query", "form"} else location, fields)
    return details


PageRenderer = Callable[[ApiError, dict[str, str]], Any]
_PAGE_RENDERER = "service.page_errors"


def set_page_renderer(app: Flask, render: PageRenderer) -> None:
    """`render(error, headers)` answers the errors of requests outside /api/ (an HTML page)."""
    app.extensions[_PAGE_RENDERER] = render


def _respond(exc: ApiError, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The JSON shape under /api/ (or when no page renderer is registered), else the error page."""
    render = current_app.extensions.get(_PAGE_RENDERER)
    if render is None or request.path.startswith("/api/"):
        body, status = exc.response()
        return body, status, headers or {}
    return render(exc, headers or {})


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):  # type: ignore[no-untyped-def]
        return _respond(exc)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):  # type: ignore[no-untyped-def]
        return _respond(ApiError(409, "conflict"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code = _STATUS_CODES.get(status, "bad_request" if status < 500 else "internal_error")
        details: list[Any] = []
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and "messages" in data:
            details = _webargs_details(data["messages"])
        # keep what the client needs to act on the error (Allow of a 405, Retry-After, ...)
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return _respond(ApiError(status, code, details=details), headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        return _respond(ApiError(500, "internal_error"))
