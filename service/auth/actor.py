"""Who is calling: the user with their scoped roles, resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    person_id: str | None
    roles: frozenset[tuple[str, str | None]] = field(default_factory=frozenset)  # (role, org unit code)

    @property
    def is_admin(self) -> bool:
        return any(role == "admin" for role, _ in self.roles)

    def holds(self, role: str | None, unit: str | None) -> bool:
        return (role, unit) in self.roles

    @property
    def role_units(self) -> set[str]:
        return {unit for _, unit in self.roles if unit}


def current_actor() -> Actor | None:
    return g.get("actor")
