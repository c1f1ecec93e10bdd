"""What the server-rendered pages share: language (Flask-Babel, Chinese first), CSRF protection of
every form (Flask-WTF), the session login, the base layout and the error page.

The JSON API under /api/ keeps its own scheme (bearer tokens, or the session plus an X-CSRFToken
header checked in service.api); Flask-WTF keeps the session's raw token in session["csrf_token"],
the same value that check compares with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, flash, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel, format_datetime
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import escape
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from service.errors import ApiError, set_page_renderer

from .session import session_actor

LANGUAGES = {"zh_CN": "中文", "en": "English"}
LANG_COOKIE = "lang"

babel = Babel()
csrf = CSRFProtect()
bp = Blueprint("webui", __name__, template_folder="templates")


def requested_language() -> str | None:
    """A `lang` query parameter (which the page then remembers in a cookie), else the cookie."""
    for value in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    return None


def select_locale() -> str:
    return requested_language() or "zh_CN"


def is_english() -> bool:
    return select_locale() == "en"


def localized(text: str | None) -> str:
    """Messages the operations write as "中文 / English": the half for the page's language."""
    if not text:
        return ""
    zh, sep, en = text.partition(" / ")
    return (en if is_english() else zh) if sep else text


def error_message(exc: ApiError) -> str:
    from service.errors import MESSAGES

    if exc.message:
        return localized(exc.message)
    zh, en = MESSAGES.get(exc.code, (exc.code, exc.code))
    return en if is_english() else zh


def flash_outcome(action: Callable[[], Any], done: str, *, describe: Callable[[ApiError], str] = error_message,
                  reraise: tuple[int, ...] = (404,)) -> None:
    """A page's button: run `action` as one transaction and flash `done`, or the refusal as `describe`
    words it. A refusal with a status in `reraise` propagates instead (the page's error page)."""
    from service.transaction import transactional

    try:
        transactional(action)()
    except ApiError as exc:
        if exc.status in reraise:
            raise
        flash(describe(exc), "error")
    else:
        flash(done, "success")


def render_error(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, reason=HTTP_STATUS_CODES.get(status, ""),
                           message=message), status


def render_page_error(exc: ApiError, headers: dict[str, str]) -> tuple[str, int, dict[str, str]]:
    """An error of a page (outside /api/): the error page in the base layout, never a traceback.

    After an unexpected error the request's transaction is rolled back first: the layout queries
    (the signed-in user, unread notifications) must not run in a failed transaction. If the page
    itself cannot be rendered (the database is gone), a bare page says the same in both languages."""
    if exc.status >= 500:
        from service.extensions import db

        try:
            db.session.rollback()
        except Exception:  # the connection may be broken; the bare page still answers
            current_app.logger.exception("rollback before the error page failed")
    message = error_message(exc)
    try:
        body, status = render_error(exc.status, message)
    except Exception:  # an error page must not fail in turn
        current_app.logger.exception("the error page could not be rendered")
        from service.errors import MESSAGES

        zh, en = MESSAGES.get(exc.code, (message, message))
        body, status = _BARE_ERROR_PAGE.format(status=exc.status, zh=escape(zh), en=escape(en)), exc.status
    return body, status, {**headers, "Content-Type": "text/html; charset=utf-8"}


_BARE_ERROR_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{status}</title></head>
<body><h1>无法完成请求 The request could not be completed ({status})</h1>
<p>{zh}</p><p lang="en">{en}</p><p><a href="/inbox">返回我的待办 Back to my tasks</a></p></body></html>
"""


def _switch_language_url(code: str) -> str:
    args = {k: v for k, v in request.args.items(multi=True) if k != "lang"}
    return request.path + "?" + urlencode([*args.items(), ("lang", code)])


def _format_time(value: Any, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, pattern) if value else ""


def add_nav_link(app: Flask, endpoint: str, label: Any, visible: Any = None, order: int = 50) -> None:
    """A page blueprint adds its entry to the top navigation. `label` is a lazy gettext string;
    `visible(actor) -> bool` hides it from users it is not for (default: every signed-in user)."""
    app.extensions.setdefault("nav_links", []).append(
        {"endpoint": endpoint, "label": label, "visible": visible, "order": order})


def _nav_links() -> list[dict[str, Any]]:
    actor = session_actor()
    if actor is None:
        return []
    links = sorted(current_app.extensions.get("nav_links", []), key=lambda link: link["order"])
    return [link for link in links if link["visible"] is None or link["visible"](actor)]


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building the cookie signer for a request that sends no
    session cookie (every API call with a token): the answer is the same empty session."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_web(app: Flask) -> None:
    """Attach the page machinery and register every page blueprint."""
    app.session_interface = _SessionInterface()
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # a browser session lasts as long as an API token
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config.get("TOKEN_LIFETIME_SECONDS", 12 * 3600)
    # a form may stay open for hours (a long opinion); the token lives as long as the session
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # the pages call protect() themselves below, so that /api/ keeps its own check
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    set_page_renderer(app, render_page_error)  # pages answer errors with HTML, /api/ keeps its JSON

    @app.before_request
    def _protect_page_forms() -> None:
        if not request.path.startswith("/api/"):
            csrf.protect()

    @app.after_request
    def _remember_language(response: Response) -> Response:
        wanted = request.args.get("lang")
        if wanted in LANGUAGES and request.cookies.get(LANG_COOKIE) != wanted:
            response.set_cookie(LANG_COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return ApiError(400, "bad_request", exc.description).response()
        from flask_babel import gettext as _

        return render_error(400, _("页面已过期或来源不明（CSRF 校验失败），请返回后刷新页面再试。"))

    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        return {"current_actor": session_actor(), "languages": LANGUAGES, "current_language": select_locale(),
                "switch_language_url": _switch_language_url, "fmt_time": _format_time,
                "nav_links": _nav_links}

    from service.attachments.pages import bp as attachment_pages
    from service.auth.pages import bp as auth_pages
    from service.inbox.action_pages import bp as inbox_action_pages
    from service.inbox.pages import bp as inbox_pages
    from service.notifications.mail import init_mail
    from service.notifications.pages import bp as notification_pages
    from service.tracking.pages import bp as tracking_pages

    app.register_blueprint(bp)
    app.register_blueprint(auth_pages)
    app.register_blueprint(inbox_pages)
    app.register_blueprint(inbox_action_pages)
    app.register_blueprint(attachment_pages)
    app.register_blueprint(notification_pages)
    init_mail(app)
    app.register_blueprint(tracking_pages)
    from flask_babel import lazy_gettext as _l  # noqa: F811 (each page block stands alone)

    add_nav_link(app, "tracking_pages.search_page", _l("搜索"), order=30)
    add_nav_link(app, "tracking_pages.campaigns_page", _l("考核活动"),
                 visible=lambda actor: actor.is_admin or bool(actor.roles - {("member", None)}), order=31)
    add_nav_link(app, "tracking_pages.dashboards_page", _l("看板"), order=32)
    from service.documents.pages import bp as document_pages

    app.register_blueprint(document_pages)
    from flask_babel import lazy_gettext as _l

    from service.ops.pages import bp as ops_pages

    app.register_blueprint(ops_pages)
    add_nav_link(app, "ops_pages.index", _l("事件"), visible=lambda actor: actor.is_admin, order=90)
    from flask_babel import lazy_gettext as _l  # noqa: F811 (each page block stands alone)

    from service.modeler.pages import bp as modeler_pages

    app.register_blueprint(modeler_pages)
    add_nav_link(app, "modeler_pages.models", _l("流程模型"), visible=lambda actor: actor.is_admin, order=80)
    from service.modeler.admin_pages import bp as modeler_admin_pages

    app.register_blueprint(modeler_admin_pages)  # /admin/instances/<id>, /admin/process-models/<key>/migration
    from service.records.pages import bp as record_pages

    app.register_blueprint(record_pages)  # /records/<id> (a certificate prints from here), /records/people/<id>
    from flask_babel import lazy_gettext as _l  # noqa: F811 (each page block stands alone)

    from service.calendar.pages import bp as calendar_pages

    app.register_blueprint(calendar_pages)  # /calendar?month=YYYY-MM
    add_nav_link(app, "calendar_pages.month", _l("工作日历"),
                 visible=lambda actor: actor.is_admin or bool(actor.roles - {("member", None)}), order=33)
    from flask_babel import lazy_gettext as _l  # noqa: F811 (each page block stands alone)

    from service.admin.pages import bp as admin_console_pages

    app.register_blueprint(admin_console_pages)  # /admin, /admin/roster, /admin/users, /admin/policies, /admin/instances
    add_nav_link(app, "admin_console.index", _l("管理"), visible=lambda actor: actor.is_admin, order=85)
