"""Records a finished case leaves on its subject (a person or an org unit): a training certificate,
a cadre grade, an election, a meeting held, a contact visit, a signed responsibility letter.

Processes write them with the declarative effect
    {"kind": "record", "subject_kind": "person" | "org_unit", "subject": id, "record": "<kind>",
     "year": 2026 | None, "data": {...}}
and read them back through the subject's facts (`facts["records"]`), so a later case (推优 track B
checking a certificate, a Party-branch assessment counting meetings) sees what earlier cases did.
"""
