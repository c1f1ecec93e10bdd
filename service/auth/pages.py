"""Sign-in pages: login, logout and password change, on the browser session.

The same checks as the API's token endpoint (service.auth.operations): the rate limit on failed
logins, and a password change that ends every other session and token."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from service.errors import ApiError
from service.extensions import db
from service.org.models import User
from service.transaction import commit
from service.webui import error_message, localized
from service.webui.session import current_page_actor, login_required, login_user, logout_user, safe_next

from . import operations

bp = Blueprint("auth_pages", __name__, template_folder="templates")

MAX_FIELD = 256


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:MAX_FIELD]
    if not username or not password:
        return _login_failed(_("请输入用户名和密码。"), username, next_url, 400)
    try:
        user = operations.authenticate(username, password, request.remote_addr)
        commit()  # the successful login clears the failure count
    except ApiError as exc:
        db.session.rollback()
        return _login_failed(error_message(exc), username, next_url, exc.status)
    login_user(user)
    return redirect(next_url or url_for("inbox_pages.inbox"))


def _login_failed(message: str, username: str, next_url: str | None, status: int) -> tuple[str, int]:
    return render_template("auth/login.html", error=message, username=username, next_url=next_url), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth_pages.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("auth/password.html")
    old = request.form.get("old_password", "")[:MAX_FIELD]
    new = request.form.get("new_password", "")[:MAX_FIELD]
    if new != request.form.get("new_password_again", "")[:MAX_FIELD]:
        return render_template("auth/password.html", errors={"new_password_again": _("两次输入的新密码不一致。")}), 422
    user = db.session.get(User, current_page_actor().user_id)
    assert user is not None
    try:
        operations.change_password(user, old, new)
        commit()
    except ApiError as exc:
        db.session.rollback()
        errors = {d["field"]: localized(d["message"]) for d in exc.details if isinstance(d, dict)}
        return render_template("auth/password.html", errors=errors or {"": error_message(exc)}), exc.status
    login_user(user)  # this session continues with the new generation; all others end
    flash(_("密码已修改。其他设备上的登录和令牌已失效。"), "success")
    return redirect(url_for("inbox_pages.inbox"))
