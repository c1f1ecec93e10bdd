"""Errors of the server-rendered pages are an HTML page in the base layout (Chinese first, English on
request), with the status, the message and a way back to the inbox; /api/ keeps its JSON shape."""

from __future__ import annotations

from typing import Any

import pytest
from web_support import csrf_from, sign_in

SECRET = "injected-secret-detail"


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


def assert_error_page(response: Any, status: int, *texts: str) -> str:
    assert response.status_code == status
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    assert "<!doctype html>" in page.lower() and 'href="/inbox"' in page
    for text in texts:
        assert text in page
    assert not page.lstrip().startswith("{") and '"error"' not in page
    return page


def test_an_unknown_page_is_a_chinese_404_page(client: Any, cast: None) -> None:
    page = assert_error_page(client.get("/no-such-page"), 404, "无法完成请求", "未找到", "返回我的待办", "404 Not Found")
    assert 'lang="zh-CN"' in page


def test_the_error_page_speaks_english_on_request(client: Any, cast: None) -> None:
    assert_error_page(client.get("/no-such-page?lang=en"), 404, "The request could not be completed", "Not found",
                      "Back to my tasks")


def test_a_signed_in_user_gets_the_error_page_in_the_layout(client: Any, cast: None) -> None:
    sign_in(client, "sec1")
    page = assert_error_page(client.get("/inbox/no/such/page"), 404, "未找到")
    assert "sec1" in page and "退出" in page  # the base layout's navigation, as on every page


def test_a_wrong_method_on_a_page_is_a_405_page_with_allow(client: Any, cast: None) -> None:
    sign_in(client, "sec1")
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    response = client.post("/inbox", data={"csrf_token": token})  # /inbox is GET only
    assert_error_page(response, 405, "不支持该请求方法")
    assert "GET" in response.headers["Allow"]


def test_a_failing_page_is_a_500_page_without_internals(client: Any, cast: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from service.inbox import queries

    sign_in(client, "sec1")
    monkeypatch.setattr(queries, "inbox", _boom)
    page = assert_error_page(client.get("/inbox"), 500, "服务器内部错误")
    assert SECRET not in page and "Traceback" not in page and "RuntimeError" not in page


def test_a_failed_transaction_still_gets_the_layout(client: Any, cast: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flush that failed leaves the session unusable until rolled back: the error page's own
    queries (the user, the notification bell) must still work."""
    from service.extensions import db
    from service.inbox import queries
    from service.org.models import User

    def duplicate_user(*args: Any, **kwargs: Any) -> Any:
        db.session.add(User(username="sec1", password_hash="x"))
        db.session.flush()  # IntegrityError: the username is taken

    sign_in(client, "sec1")
    monkeypatch.setattr(queries, "inbox", duplicate_user)
    page = assert_error_page(client.get("/inbox"), 500, "服务器内部错误")
    assert "sec1" in page and "IntegrityError" not in page and "UNIQUE" not in page


def test_a_page_that_cannot_render_falls_back_to_a_bare_page(app: Any, client: Any, cast: None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import service.webui as webui

    monkeypatch.setattr(webui, "render_error", _boom)
    monkeypatch.setitem(app.view_functions, "home.index", _boom)
    page = assert_error_page(client.get("/"), 500, "服务器内部错误", "Internal error; nothing was changed")
    assert SECRET not in page


def test_a_forbidden_page_is_an_html_403(app: Any, client: Any, cast: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.errors import forbidden

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise forbidden()

    monkeypatch.setitem(app.view_functions, "home.index", refuse)  # a page without its own error handler
    assert_error_page(client.get("/"), 403, "您没有权限执行此操作")


def test_the_api_keeps_its_json_errors(client: Any, cast: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.inbox import routes

    missing = client.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404 and missing.is_json
    assert missing.get_json()["error"]["code"] == "not_found"

    token = client.post("/api/v1/auth/token", json={"username": "sec1", "password": "secret-pass-1"}).get_json()
    monkeypatch.setattr(routes, "inbox", _boom)
    failed = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token['token']}"})
    assert failed.status_code == 500 and failed.is_json
    body = failed.get_json()
    assert body["error"]["code"] == "internal_error" and set(body["error"]) == {"code", "message", "details"}
    assert SECRET not in failed.get_data(as_text=True)

    wrong_method = client.put("/api/v1/tasks", headers={"Authorization": f"Bearer {token['token']}"})
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_instructions_are_rendered_with_the_case_data_in_a_sandbox():
    from service.inbox.task_page import render_instructions

    shown = render_instructions("请审核 {{ reason }} 的申请 {{ missing.x }}", {"reason": "<b>张三</b>"})
    assert "请审核 &lt;b&gt;张三&lt;/b&gt; 的申请" in shown  # values are escaped
    assert "object" not in render_instructions("{{ ''.__class__.__mro__ }}", {})  # the sandbox refuses internals
    assert render_instructions("未闭合 {{ x", {"x": 1}) == "未闭合 {{ x"
    assert render_instructions(None, {}) is None
