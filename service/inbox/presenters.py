"""What the inbox pages show, gathered with a fixed number of queries: subjects' names, process
names, the case history in words, and form errors in the page's language."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from service.extensions import db
from service.modeler.models import ProcessModel
from service.org.models import OrgUnit, Person
from service.webui import localized

ACTIONS = {
    "instance_started": _l("发起流程"),
    "task_completed": _l("完成"),
    "task_claimed": _l("认领"),
    "task_unclaimed": _l("释放"),
    "instance_completed": _l("流程结束"),
    "instance_error": _l("流程出错"),
    "instance_suspended": _l("挂起"),
    "instance_resumed": _l("恢复"),
    "instance_terminated": _l("终止"),
    "message_received": _l("收到消息"),
    "message_delivered": _l("收到消息"),
    "effect_start_process": _l("启动后续流程"),
    "effect_set_person": _l("更新人员信息"),
    "effect_set_unit": _l("更新组织信息"),
    "record_added": _l("记入档案"),
    "incident_opened": _l("后台任务多次失败"),
    "incident_retried": _l("重试事件"),
    "incident_resolved": _l("事件已解决"),
    "instance_migrated": _l("迁移到新版本"),
    "instance_data_changed": _l("管理员修改数据"),
    "instance_retried": _l("重试出错步骤"),
}

STATUSES = {"running": _l("进行中"), "completed": _l("已完成"), "suspended": _l("已挂起"),
            "terminated": _l("已终止"), "error": _l("出错"), "ready": _l("待办"), "cancelled": _l("已取消")}


def process_names() -> dict[str, str]:
    return dict(db.session.execute(select(ProcessModel.key, ProcessModel.name)).all())


def subject_labels(subjects: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """{subject id: {"name", "unit"}} for people and org units alike; two queries at most."""
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    labels: dict[str, dict[str, str | None]] = {}
    for person in db.session.scalars(select(Person).where(Person.id.in_(wanted))):
        labels[person.id] = {"name": person.name, "unit": person.org_unit.name if person.org_unit else None}
    rest = [s for s in wanted if s not in labels]
    if rest:
        for code, name in db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(rest))):
            labels[code] = {"name": name, "unit": None}
    return labels


def history_rows(history: list[dict[str, Any]], task_titles: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for event in history:
        details = event.get("details") or {}
        action = ACTIONS.get(event["action"], event["action"])
        rows.append({
            "at": event["at"], "actor": event.get("actor"), "action": action,
            "task": details.get("title") or task_titles.get(event.get("task") or "", event.get("task")),
            "comment": event.get("comment"), "outcome": details.get("outcome"),
        })
    return rows


def field_errors(details: list[Any]) -> list[dict[str, str]]:
    """The server's per-field errors, each message in the page's language."""
    return [{"field": str(d.get("field", "")), "message": localized(str(d.get("message", "")))}
            for d in details if isinstance(d, dict)]


def json_attr(value: Any) -> str:
    """A value for a data-* attribute holding JSON (Jinja's autoescape then escapes it for the attribute)."""
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


def parse_form_data(raw: str | None) -> dict[str, Any] | None:
    """The form island's JSON, or None when it is not a JSON object."""
    try:
        value = json.loads(raw or "")
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
