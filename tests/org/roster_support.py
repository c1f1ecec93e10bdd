"""The sample roster shared by the roster tests (a module, not a conftest, so tests can import it by name)."""

from __future__ import annotations

from typing import Any

ROSTER_PASSWORD = "roster-pass-1"

DOCUMENT: dict[str, Any] = {
    "org_units": [
        # the League branch comes first: its parent and partner are defined further down
        {"code": "TZB-JX2301", "name": "机械2301团支部", "kind": "league_branch", "parent": "TZZ",
         "paired_with": "DZB-S1", "founded": "2023-09-15"},
        {"code": "DZZ", "name": "机械工程学院党总支", "kind": "party_general_branch"},
        {"code": "DZB-S1", "name": "学生第一党支部", "kind": "party_branch", "parent": "DZZ"},
        {"code": "TZZ", "name": "机械工程学院团总支", "kind": "league_general_branch", "paired_with": "DZZ"},
    ],
    "people": [
        {"id": "2023010101", "name": "张三", "gender": "男", "birth_date": "2005-03-01", "org_unit": "TZB-JX2301",
         "league_member": True, "league_joined": "2019-05-04", "league_post": "组织委员",
         "party_status": "applicant", "party_applied": "2024-10-10"},
        {"id": "T0001", "name": "李老师", "gender": "女", "party_status": "full"},
    ],
    "users": [
        {"username": "zhangsan", "person": "2023010101", "password": ROSTER_PASSWORD,
         "roles": [{"role": "league_branch_committee", "org_unit": "TZB-JX2301"}, {"role": "member"}]},
        {"username": "li", "person": "T0001", "password": ROSTER_PASSWORD,
         "roles": [{"role": "party_branch_secretary", "org_unit": "DZB-S1"},
                   {"role": "counsellor", "org_unit": "TZB-JX2301"}]},
        {"username": "root", "password": ROSTER_PASSWORD, "roles": [{"role": "admin"}]},
    ],
}
