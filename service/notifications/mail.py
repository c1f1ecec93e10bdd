"""The e-mail hook (off unless MAIL_ENABLED). Messages wait in flask.g until the session commits and
go out after the response, only if it succeeded; a rollback drops them. Side effects after the
commit, never before."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import Flask, Response, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING, COMMITTED = "mail_pending", "mail_committed"


def enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("MAIL_ENABLED"))


def queue(to: str, subject: str, body: str) -> None:
    if enabled() and to:
        g.setdefault(PENDING, []).append((to, subject, body))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if has_app_context() and g.get(PENDING):
        g.setdefault(COMMITTED, []).extend(g.pop(PENDING))


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if has_app_context():
        g.pop(PENDING, None)


def send_committed(response: Response) -> Response:
    messages = g.pop(COMMITTED, None)
    g.pop(PENDING, None)  # queued but never committed (a handler that caught its own error)
    if not messages or response.status_code >= 400:
        return response
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            for to, subject, body in messages:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = config["MAIL_SENDER"], to, subject
                message.set_content(body)
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException):  # the change is committed; a mail outage must not turn it into an error
        current_app.logger.exception("notification e-mail not sent")
    return response


def init_mail(app: Flask) -> None:
    app.after_request(send_committed)
