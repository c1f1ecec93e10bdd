"""Subject records: written by the `record` effect, read back through the subject's facts."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa


def _instance(subject_kind: str, subject: str) -> Any:
    from service.instances.models import Instance

    return Instance(id=None, subject_kind=subject_kind, subject=subject)


def test_record_effect_is_visible_in_person_facts(app: Any, college: dict, make_person: Any) -> None:
    from service.audit import AuditEvent
    from service.extensions import db
    from service.instances.operations import apply_effect
    from service.instances.subjects import resolve_subject

    make_person("2023001", "张三", "TZB-JX2301")
    apply_effect(_instance("person", "2023001"), {
        "kind": "record", "record": "training_certificate", "year": 2026, "data": {"grade": 88.5}})
    apply_effect(_instance("person", "2023001"), {
        "kind": "record", "record": "training_certificate", "year": 2027, "data": {"grade": 91}})
    db.session.commit()

    facts = resolve_subject("person", "2023001").facts
    certificates = facts["records"]["training_certificate"]
    assert [c["year"] for c in certificates] == [2027, 2026]  # newest first
    assert certificates[0]["data"] == {"grade": 91}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "record_added")) == 2
    # another person's facts do not carry them
    make_person("2023002", "李四", "TZB-JX2301")
    db.session.commit()
    assert resolve_subject("person", "2023002").facts["records"] == {}


def test_record_on_unit_and_set_unit_effect(app: Any, college: dict) -> None:
    from service.extensions import db
    from service.instances.operations import apply_effect
    from service.instances.subjects import resolve_subject

    case = _instance("org_unit", "TZB-JX2302")
    apply_effect(case, {"kind": "record", "record": "reelection", "year": 2026, "data": {"seats": 5}})
    apply_effect(case, {"kind": "set_unit", "values": {"last_reelection": "2026-10-20"}})
    db.session.commit()

    facts = resolve_subject("org_unit", "TZB-JX2302").facts
    assert facts["last_reelection"] == date(2026, 10, 20).isoformat()
    assert facts["records"]["reelection"][0]["data"] == {"seats": 5}
    assert resolve_subject("org_unit", "TZB-JX2301").facts["records"] == {}


def test_record_needs_a_known_subject_kind(app: Any, college: dict) -> None:
    import pytest

    from service.records.operations import add_record

    with pytest.raises(ValueError):
        add_record(subject_kind="campaign", subject="1", kind="x")
