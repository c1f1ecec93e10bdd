"""The contract between the service and a process pack (the `processes/` package).

BPMN conventions the service reads (besides the engine's own):
- a lane's name is a role from ROLES; the task is offered to holders of that role at the org unit
  found from the case's subject (see service/org/scope.py), or assigned to the subject person for
  the lane "member";
- a user task property `assigneeVariable` names a task-data variable holding a username: that
  user alone is offered the task (e.g. the reviewer of one multi-instance child);
- the process data variable `outcome` becomes the finished case's outcome;
- a process property `subjectKind` (person | org_unit) when the pack has no module for it.

The service never imports a process module by name: it imports the pack package named by the
PROCESS_PACK setting, walks its modules and collects each module's `DEFINITION`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from service import clock

SubjectKind = Literal["person", "org_unit"]

#: Roles known to the service. A lane's name must be one of these.
ROLES: dict[str, tuple[str, str]] = {
    "admin": ("系统管理员", "Administrator"),
    "party_general_branch_secretary": ("党总支书记", "Party general branch secretary"),
    "party_branch_secretary": ("党支部书记", "Party branch secretary"),
    "party_branch_committee": ("党支部委员", "Party branch committee member"),
    "league_general_branch_secretary": ("团总支书记", "League general branch secretary"),
    "league_general_branch_committee": ("团总支委员", "League general branch committee member"),
    "league_branch_secretary": ("团支部书记", "League branch secretary"),
    "league_branch_committee": ("团支部委员", "League branch committee member"),
    "counsellor": ("辅导员", "Counsellor"),
    "member": ("成员", "Member"),
}


@dataclass(frozen=True)
class ProcessDefinition:
    """What a process module declares. Everything but key/title/subject_kind is optional."""

    key: str  # = the BPMN process id
    title: str  # Chinese
    title_en: str
    subject_kind: SubjectKind
    bpmn_file: str = ""  # under bpmn/; default "<key>.bpmn"
    #: BPMN element id -> milestone shown while that element is the current step
    milestones: Mapping[str, str] = field(default_factory=dict)
    #: functions the process's scripts and conditions may call (nothing else is reachable)
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    #: policy key -> default value; the values in force are copied into each instance's data
    #: at start under "policies", so a case always shows the rules it ran under
    policies: Mapping[str, Any] = field(default_factory=dict)
    #: roles allowed to start a case (besides admin)
    start_roles: tuple[str, ...] = ()
    #: (start roles the starter holds over the subject, subject facts, start data) -> why this start is
    #: refused (bilingual), or None; for rules beyond role and scope (who may issue what to whom)
    start_check: Callable[[frozenset[str], Mapping[str, Any], Mapping[str, Any]], str | None] | None = None
    #: lane role -> org unit kind to offer the task at, when the default (by role prefix) is wrong
    lane_scopes: Mapping[str, str] = field(default_factory=dict)
    #: (lane, subject unit kind, task data) -> the role actually offered the task; lets one BPMN lane
    #: mean "the secretary of the subject unit" whether that unit is a League or a Party branch
    resolve_lane: Callable[[str, str | None, Mapping[str, Any]], str] | None = None
    #: defaults for optional start data (a start request or campaign may set these keys)
    start_defaults: Mapping[str, Any] = field(default_factory=dict)
    #: JSON Schema of a start request's data (checked before anything runs: a bad deadline is a 422,
    #: not a case that fails at its first script)
    start_schema: Mapping[str, Any] | None = None
    #: subject facts -> initial data read from the roster (e.g. birth date, branch size); these values
    #: win over anything in the start request, so nobody can start a case with their own "facts"
    initial_data: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    #: (outcome, final data, subject facts) -> declarative effects the service applies on completion
    on_complete: Callable[[str | None, Mapping[str, Any], Mapping[str, Any]], list[dict[str, Any]]] | None = None
    #: (a running case's data) -> [{"date": "YYYY-MM-DD", "title", "kind"?}]: dates the case has coming that
    #: its task due dates and timers do not show (a planned meeting, an action item's due date); read by
    #: the month calendar (service/calendar)
    calendar_items: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None

    @property
    def bpmn_filename(self) -> str:
        return self.bpmn_file or f"{self.key}.bpmn"


#: for pack functions: the same day some months later (a meeting due six months after the last one)
add_months = clock.add_months


def now() -> datetime:
    """The service clock (timezone-aware UTC) for pack functions: scripts have no clock of their own,
    and tests move this one with service.clock.frozen_at, as they move the engine's timers."""
    return clock.now()


def discover(package_name: str) -> dict[str, ProcessDefinition]:
    """Import every module of the pack package and collect the DEFINITIONs, keyed by process key."""
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError:
        return {}
    found: dict[str, ProcessDefinition] = {}
    for info in pkgutil.iter_modules(getattr(package, "__path__", []), prefix=f"{package_name}."):
        module = importlib.import_module(info.name)
        definition = getattr(module, "DEFINITION", None)
        if isinstance(definition, ProcessDefinition):
            if definition.key in found:
                raise RuntimeError(f"process key {definition.key!r} is declared twice in {package_name}")
            found[definition.key] = definition
    return found
