"""The admin console's state changes: accounts and their roles, policy resets, roster uploads and exports.

Each operation checks the actor and the current state, changes it, flushes and audits; none commits
(the request does, once). Role, account and roster changes clear the actor and org caches after the
commit, so the change is in force at once in this process (and within CACHE_TTL_SECONDS elsewhere)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import event, func, select

from service import audit
from service.auth.actor import Actor
from service.cache import invalidate
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.models import Policy
from service.modeler.policies import list_policies
from service.org import roster
from service.org.models import OrgUnit, Person, RoleAssignment, User
from service.org.scope import ROLE_UNIT_KIND
from service.pack import ROLES
from service.runtime import definition

ROSTER_FORMATS = (".json", ".xlsx")
ROSTER_SHEETS = {"org_units": OrgUnit, "people": Person, "users": User}


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise ApiError(403, "forbidden")


def _refused(zh: str, en: str, field: str | None = None) -> ApiError:
    details = [{"field": field, "message": f"{zh} / {en}"}] if field else []
    return ApiError(422, "validation_failed", f"{zh} / {en}", details)


def _clear_caches_after_commit(*names: str) -> None:
    """Clear the TTL caches once the change is committed (clearing before would let another request
    reload the old state into them until the commit)."""

    def clear(_session: Any) -> None:
        for name in names:
            invalidate(name)

    event.listen(db.session(), "after_commit", clear, once=True)


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise not_found()
    return user


# -- accounts and roles -----------------------------------------------------------------------------------
def set_user_active(actor: Actor, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; a deactivated user can neither sign in nor use a token."""
    _require_admin(actor)
    user = _user(user_id)
    if not active and user.id == actor.user_id:
        raise _refused("不能停用自己的账号", "You cannot deactivate your own account")
    if user.active == active:
        return user
    user.active = active
    db.session.flush()
    audit.record("user_activated" if active else "user_deactivated", actor_id=actor.user_id, user=user.username)
    _clear_caches_after_commit("actors")
    return user


def _unit(code: str | None) -> OrgUnit | None:
    if not code:
        return None
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code[:64]))
    if unit is None:
        raise _refused(f"找不到组织 {code}", f"unknown org unit {code}", "org_unit")
    return unit


def _check_role_unit(role: str, unit: OrgUnit | None) -> None:
    """The roster import's rules: scoped roles need an org unit of the role's kind."""
    if role not in ROLES:
        raise _refused(f"未知的角色 {role}", f"unknown role {role}", "role")
    if unit is None and role not in roster.UNSCOPED_ROLES:
        raise _refused(f"角色 {ROLES[role][0]} 需要指定组织", f"the role {ROLES[role][1]} needs an org unit", "org_unit")
    expected = ROLE_UNIT_KIND.get(role)
    if unit is not None and expected and unit.kind != expected:
        raise _refused(f"角色 {ROLES[role][0]} 应设在{roster.KIND_LABELS[expected]}，{unit.name} 不是",
                       f"the role {ROLES[role][1]} is held at a {expected}; {unit.code} is not one", "org_unit")


def add_role(actor: Actor, user_id: int, role: str, unit_code: str | None) -> RoleAssignment:
    """Give a user a role, at an org unit unless the role is held college-wide (admin, member)."""
    _require_admin(actor)
    user = _user(user_id)
    unit = _unit(unit_code)
    _check_role_unit(role, unit)
    if any(a.role == role and a.org_unit_id == (unit.id if unit else None) for a in user.roles):
        raise _refused("该用户已有此角色", "the user already holds this role", "role")
    assignment = RoleAssignment(role=role, org_unit=unit)
    user.roles.append(assignment)
    db.session.flush()
    audit.record("role_added", actor_id=actor.user_id, user=user.username, role=role,
                 org_unit=unit.code if unit else None)
    _clear_caches_after_commit("actors")
    return assignment


def remove_role(actor: Actor, user_id: int, assignment_id: int) -> None:
    _require_admin(actor)
    user = _user(user_id)
    assignment = next((a for a in user.roles if a.id == assignment_id), None)
    if assignment is None:
        raise not_found()
    if user.id == actor.user_id and assignment.role == "admin":
        raise _refused("不能移除自己的管理员角色", "You cannot remove your own admin role")
    code = assignment.org_unit.code if assignment.org_unit else None
    user.roles.remove(assignment)  # delete-orphan: the row goes with the flush
    db.session.flush()
    audit.record("role_removed", actor_id=actor.user_id, user=user.username, role=assignment.role, org_unit=code)
    _clear_caches_after_commit("actors")


# -- policies -----------------------------------------------------------------------------------------------
def reset_policy(actor: Actor, key: str, policy_key: str) -> dict[str, Any]:
    """Drop an admin's override: the process's default is in force again (for cases started from now on)."""
    _require_admin(actor)
    found = definition(key)
    if found is None or policy_key not in found.policies:
        raise not_found()
    default = found.policies[policy_key]
    row = db.session.get(Policy, (key, policy_key))
    if row is not None:
        previous = row.value.get("value")
        db.session.delete(row)
        db.session.flush()
        audit.record("policy_changed", actor_id=actor.user_id, process=key, policy=policy_key, old=previous,
                     new=default, reset=True)
    return next(item for item in list_policies(key) if item["key"] == policy_key)


# -- roster -------------------------------------------------------------------------------------------------
def roster_format(filename: str | None) -> str:
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if suffix not in ROSTER_FORMATS:
        raise ApiError(415, "unsupported_media_type", "文件应为 .json 或 .xlsx / The file must be .json or .xlsx")
    return suffix


def _row_counts() -> dict[str, int]:
    return {sheet: db.session.scalar(select(func.count()).select_from(model)) or 0
            for sheet, model in ROSTER_SHEETS.items()}


def _json_document(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))  # -sig: files saved by Windows tools
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(422, "invalid_roster", details=[{
            "sheet": None, "row": None, "field": None,
            "message": f"不是有效的 JSON（UTF-8）文件：{exc} / not a valid JSON (UTF-8) file: {exc}"}]) from None


def import_roster_file(actor: Actor, filename: str | None, data: bytes) -> dict[str, dict[str, int]]:
    """Import an uploaded roster (all or nothing, see service.org.roster) and say, per list, how many
    rows it had and how many were new. The import only adds and updates, so the growth of each table
    is the number created."""
    _require_admin(actor)
    suffix = roster_format(filename)
    before = _row_counts()
    if suffix == ".xlsx":
        listed = roster.import_xlsx(data, actor_id=actor.user_id)
    else:
        listed = roster.import_roster(_json_document(data), actor_id=actor.user_id)
    after = _row_counts()
    _clear_caches_after_commit("actors", "org_graph")
    summary = {}
    for sheet in ROSTER_SHEETS:
        created = after[sheet] - before[sheet]
        summary[sheet] = {"listed": listed[sheet], "created": created, "updated": max(0, listed[sheet] - created)}
    return summary


def export_roster_file(actor: Actor, suffix: str) -> bytes:
    """The roster as a download; the export carries restricted fields, so it is audited."""
    _require_admin(actor)
    document = roster.export_roster()
    audit.record("roster_exported", actor_id=actor.user_id, format=suffix.lstrip("."),
                 **{sheet: len(document[sheet]) for sheet in ROSTER_SHEETS})
    if suffix == ".xlsx":
        return roster.write_xlsx(document)
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
