"""Where a lane's task is offered, and which cases a person may see, from the org structure.

A role is held at an org unit. A lane names a role; the unit it is offered at is found from the
case's subject unit by walking up parents and across the Party/League pairing to the nearest
unit of the kind that role lives at (a League branch's paired Party branch, the general branch
above it, ...).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from sqlalchemy import select

from service.extensions import db

from .models import OrgUnit

ROLE_UNIT_KIND = {
    "party_general_branch_secretary": "party_general_branch",
    "party_branch_secretary": "party_branch",
    "party_branch_committee": "party_branch",
    "league_general_branch_secretary": "league_general_branch",
    "league_general_branch_committee": "league_general_branch",
    "league_branch_secretary": "league_branch",
    "league_branch_committee": "league_branch",
    "counsellor": "league_branch",
}


@dataclass(frozen=True)
class UnitNode:
    code: str
    kind: str
    parent: str | None
    paired: str | None


class OrgGraph:
    """The org tree in memory (a few hundred rows even for a large college); built per request."""

    def __init__(self, nodes: dict[str, UnitNode]):
        self.nodes = nodes
        self.children: dict[str, list[str]] = {}
        self.paired_by: dict[str, list[str]] = {}
        for node in nodes.values():
            if node.parent:
                self.children.setdefault(node.parent, []).append(node.code)
            if node.paired:
                self.paired_by.setdefault(node.paired, []).append(node.code)

    @classmethod
    def load(cls) -> OrgGraph:
        parent = OrgUnit.__table__.alias("p")
        paired = OrgUnit.__table__.alias("q")
        unit = OrgUnit.__table__
        rows = db.session.execute(
            select(unit.c.code, unit.c.kind, parent.c.code, paired.c.code)
            .select_from(unit.outerjoin(parent, unit.c.parent_id == parent.c.id)
                         .outerjoin(paired, unit.c.paired_with_id == paired.c.id)))
        return cls({code: UnitNode(code, kind, p, q) for code, kind, p, q in rows})

    def _neighbours(self, code: str) -> list[str]:
        node = self.nodes[code]
        result = [c for c in (node.parent, node.paired) if c]
        back = self.paired_by.get(code, [])
        if len(back) == 1:  # follow a pairing backwards only when it is unambiguous
            result.append(back[0])
        return result

    def unit_of_kind(self, start: str | None, kind: str) -> str | None:
        """Nearest unit of `kind` reachable from `start` upwards and across pairings."""
        if start is None or start not in self.nodes:
            return None
        seen = {start}
        queue = deque([start])
        while queue:
            code = queue.popleft()
            if self.nodes[code].kind == kind:
                return code
            for nxt in self._neighbours(code):
                if nxt in self.nodes and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return None

    def scope_for_lane(self, subject_unit: str | None, role: str | None, override_kind: str | None = None) -> str | None:
        if role is None or role in ("admin", "member"):
            return None
        kind = override_kind or ROLE_UNIT_KIND.get(role)
        return self.unit_of_kind(subject_unit, kind) if kind else None

    def descendants(self, code: str) -> set[str]:
        found = set()
        stack = [code]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.add(current)
            stack.extend(self.children.get(current, []))
        return found

    def visible_units(self, role_units: set[str]) -> set[str]:
        """Units whose cases a holder of roles at `role_units` may see: those units, the units
        below them, and the units paired with any of these (and below those)."""
        result: set[str] = set()
        for code in role_units:
            if code not in self.nodes:
                continue
            below = self.descendants(code)
            result |= below
            for member in below:
                for partner in self.paired_by.get(member, []):
                    result |= self.descendants(partner)
        return result
