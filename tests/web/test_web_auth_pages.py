"""Sign-in pages: login and logout on a session, CSRF on every form, the shared rate limit, password
change; the API's bearer tokens and its session check keep working alongside."""

from __future__ import annotations

from typing import Any

from web_support import WEB_PASSWORD, csrf_from, sign_in


def test_login_page_is_chinese_first_with_an_english_switch(client: Any, cast: None) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "用户名" in page and "?lang=en" in page
    english = client.get("/login?lang=en")
    assert "Username" in english.get_data(as_text=True)
    assert "lang=en" in english.headers["Set-Cookie"]
    assert "Username" in client.get("/login").get_data(as_text=True)  # remembered by the cookie
    assert "用户名" in client.get("/login?lang=zh_CN").get_data(as_text=True)


def test_login_sets_a_safe_session_cookie_and_lands_in_the_inbox(client: Any, cast: None) -> None:
    response = sign_in(client, "sec1")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/inbox").get_data(as_text=True)
    assert "我的待办" in page and "sec1" in page


def test_pages_need_a_login_and_come_back_after_it(client: Any, cast: None) -> None:
    response = client.get("/inbox?process=approval")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    token = csrf_from(client.get(response.headers["Location"]).get_data(as_text=True))
    back = client.post("/login", data={"username": "sec1", "password": WEB_PASSWORD, "csrf_token": token,
                                       "next": "/inbox?process=approval"})
    assert back.headers["Location"] == "/inbox?process=approval"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/inbox").get_data(as_text=True))})
    outside = sign_in_with_next(client, "//evil.example/")
    assert outside.headers["Location"] == "/inbox"


def sign_in_with_next(client: Any, next_url: str) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": "sec1", "password": WEB_PASSWORD, "csrf_token": token,
                                       "next": next_url})


def test_forms_without_the_csrf_token_are_refused(client: Any, cast: None) -> None:
    refused = client.post("/login", data={"username": "sec1", "password": WEB_PASSWORD})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    sign_in(client, "sec1")
    assert client.post("/logout").status_code == 400
    assert client.post("/password", data={"old_password": WEB_PASSWORD, "new_password": "x" * 10,
                                          "new_password_again": "x" * 10}).status_code == 400
    assert client.get("/inbox").status_code == 200  # still signed in


def test_wrong_password_then_the_shared_rate_limit(app: Any, client: Any, cast: None) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 3
    for _ in range(3):
        failed = sign_in(client, "sec1", "wrong-password")
        assert failed.status_code == 401 and "用户名或密码错误" in failed.get_data(as_text=True)
        assert 'value="sec1"' in failed.get_data(as_text=True)  # the username stays typed in
    limited = sign_in(client, "sec1")
    assert limited.status_code == 429 and "尝试次数过多" in limited.get_data(as_text=True)
    # the API's token endpoint counts the same failures
    assert client.post("/api/v1/auth/token", json={"username": "sec1", "password": WEB_PASSWORD}).status_code == 429


def test_logout_ends_the_session(client: Any, cast: None) -> None:
    sign_in(client, "sec1")
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/inbox").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_password_change(client: Any, login: Any, cast: None) -> None:
    bearer = login("sec1")
    sign_in(client, "sec1")
    token = csrf_from(client.get("/password").get_data(as_text=True))
    wrong = client.post("/password", data={"csrf_token": token, "old_password": "nope", "new_password": "n3w-password",
                                           "new_password_again": "n3w-password"})
    assert wrong.status_code == 403 and "原密码错误" in wrong.get_data(as_text=True)
    mismatch = client.post("/password", data={"csrf_token": token, "old_password": WEB_PASSWORD,
                                              "new_password": "n3w-password", "new_password_again": "other-one"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.get_data(as_text=True)
    short = client.post("/password", data={"csrf_token": token, "old_password": WEB_PASSWORD,
                                           "new_password": "short", "new_password_again": "short"})
    assert short.status_code == 422 and "至少 8 位" in short.get_data(as_text=True)
    done = client.post("/password", data={"csrf_token": token, "old_password": WEB_PASSWORD,
                                          "new_password": "n3w-password", "new_password_again": "n3w-password"})
    assert done.status_code == 302
    assert "密码已修改" in client.get("/inbox").get_data(as_text=True)  # this session carries on
    assert client.get("/api/v1/me", headers=bearer).status_code == 401  # older tokens end
    other = client.application.test_client()
    assert sign_in(other, "sec1", "n3w-password").status_code == 302


def test_bearer_tokens_and_the_api_session_check_keep_working(client: Any, login: Any, cast: None) -> None:
    assert client.get("/api/v1/me", headers=login("sec1")).get_json()["username"] == "sec1"
    sign_in(client, "sec1")
    assert client.get("/api/v1/me").get_json()["username"] == "sec1"  # the browser session, read-only
    body = {"old_password": "nope", "new_password": "whatever-long"}
    refused = client.post("/api/v1/me/password", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["error"]["message"]
    with client.session_transaction() as session:
        raw = session["csrf_token"]  # the value the pages' forms sign
    checked = client.post("/api/v1/me/password", json=body, headers={"X-CSRFToken": raw})
    assert checked.status_code == 403 and checked.get_json()["error"]["details"][0]["field"] == "old_password"
