"""Writing the rows of a step with plain INSERT and UPDATE statements.

Every step writes the same few rows: the case (its state and revision), the task completed, the
tasks that became ready. The ORM's unit of work costs more than the statements themselves for so few
rows, so `write_rows` writes the session's new and changed objects of the given classes directly on
the session's connection (same transaction) and then tells the session they are persistent and
clean. The revision check of a versioned class (Instance.revision) is kept: a row changed by someone
else since it was read raises StaleDataError, which the request turns into a 409 like the ORM's.
Objects of other classes, and changes made after this call, are flushed by the ORM as usual."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from service.extensions import db


class _Plan:
    """What a mapped class's rows are made of (computed once per class)."""

    def __init__(self, cls: type) -> None:
        mapper = inspect(cls)
        self.table = mapper.local_table
        self.columns = {prop.key: prop.columns[0] for prop in mapper.column_attrs}  # attribute -> column
        self.primary_key = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
        version = mapper.version_id_col
        self.version = mapper.get_property_by_column(version).key if version is not None else None
        self.defaults = {key: column.default.arg for key, column in self.columns.items()
                         if column.default is not None and column.default.is_scalar}
        self.insert = self.table.insert()
        self._updates: dict[tuple[str, ...], Any] = {}

    def update(self, keys: tuple[str, ...]) -> Any:
        """UPDATE of these attributes by primary key (and version), built once per set of attributes."""
        statement = self._updates.get(keys)
        if statement is None:
            where = [self.columns[key] == bindparam(f"k_{key}") for key in self.primary_key]
            if self.version is not None:
                where.append(self.columns[self.version] == bindparam(f"k_{self.version}"))
            statement = self._updates[keys] = update(self.table).where(*where).values(
                {self.columns[key].key: bindparam(f"v_{key}") for key in keys})
        return statement


@cache
def _plan(cls: type) -> _Plan:
    return _Plan(cls)


def _row(plan: _Plan, obj: Any) -> dict[str, Any]:
    """The new object's column values, every column set first (a default or None), so that nothing is
    left to load once it is persistent; a versioned class starts at the ORM's first version, 1."""
    values = inspect(obj).dict
    for key in plan.columns:
        if key not in values:
            setattr(obj, key, plan.defaults.get(key))
    if plan.version is not None and values[plan.version] is None:
        values[plan.version] = 1
    return {column.key: values[key] for key, column in plan.columns.items()}


def write_rows(*classes: type) -> None:
    """INSERT the pending and UPDATE the changed objects of `classes` in the current transaction."""
    session = db.session()
    new = [obj for obj in session.new if isinstance(obj, classes)]
    changed = [obj for obj in session.dirty if isinstance(obj, classes)]
    if new:
        _insert(session, new)
    for obj in changed:
        _update(session, obj)


def insert_one(obj: Any) -> None:
    """INSERT one new object now (its generated primary key is set) and make it persistent and clean."""
    session = db.session()
    plan = _plan(type(obj))
    row = {name: value for name, value in _row(plan, obj).items()
           if not (value is None and plan.table.c[name].primary_key)}  # the database generates it
    result = session.connection().execute(plan.insert, row)
    values = inspect(obj).dict
    for key, value in zip(plan.primary_key, result.inserted_primary_key, strict=True):
        values[key] = value
    _make_persistent(session, [obj])


def _make_persistent(session: Any, objects: list[Any]) -> None:
    """What the ORM's flush does after its own INSERT: the pending objects become persistent and clean,
    and the transaction remembers them as new, so that a rollback expunges them again."""
    for obj in objects:
        if obj not in session:
            session.add(obj)
    session._register_persistent({inspect(obj) for obj in objects})


def _insert(session: Any, objects: list[Any]) -> None:
    by_class: dict[type, list[Any]] = {}
    for obj in objects:
        by_class.setdefault(type(obj), []).append(obj)
    connection = session.connection()
    for cls, group in by_class.items():
        plan = _plan(cls)
        connection.execute(plan.insert, [_row(plan, obj) for obj in group])
        _make_persistent(session, group)


def _update(session: Any, obj: Any) -> None:
    plan = _plan(type(obj))
    state = inspect(obj)
    keys = [key for key in state.committed_state if key in plan.columns and key != plan.version]
    if keys:
        params = {f"v_{key}": state.dict[key] for key in keys}
        params.update({f"k_{key}": state.dict[key] for key in plan.primary_key})
        if plan.version is not None:
            current = state.committed_state.get(plan.version, state.dict[plan.version])
            params[f"k_{plan.version}"], params[f"v_{plan.version}"] = current, current + 1
            keys.append(plan.version)
            state.dict[plan.version] = current + 1
        result = session.connection().execute(plan.update(tuple(keys)), params)
        if result.rowcount != 1:
            raise StaleDataError(f"{plan.table.name} row changed or deleted by another transaction")
        for key in keys:
            set_committed_value(obj, key, state.dict[key])
        session._register_altered([state])  # as the flush does: a savepoint's rollback expires it again
    if not state.committed_state:  # nothing else changed (no relationship): clean, so the flush skips it
        state._commit_all(state.dict, session.identity_map)
