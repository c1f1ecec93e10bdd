from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from service.api import require_actor, require_admin
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema, InstancePage, PageArgs
from service.errors import not_found
from service.extensions import db
from service.instances.access import visible_units
from service.instances.routes import list_instances
from service.tracking.visibility import may_see_party_status, record_restricted_view
from service.transaction import transactional

from .models import OrgUnit, Person

blp = Blueprint("org", __name__, description="Roster: org units and people")


class PersonSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    gender = fields.String(allow_none=True)
    org_unit = fields.String(allow_none=True)
    league_member = fields.Boolean()
    league_post = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    league_joined = fields.Date(allow_none=True)
    party_status = fields.String(allow_none=True, metadata={"description": "restricted"})
    party_applied = fields.Date(allow_none=True, metadata={"description": "restricted"})


class RosterResult(Schema):
    org_units = fields.Integer()
    people = fields.Integer()
    users = fields.Integer()


@blp.route("/roster")
class Roster(MethodView):
    @blp.arguments(Schema.from_dict({"org_units": fields.List(fields.Dict()), "people": fields.List(fields.Dict()),
                                     "users": fields.List(fields.Dict())}, name="RosterDocument")())
    @blp.response(200, RosterResult)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, document):  # type: ignore[no-untyped-def]
        from .roster import import_roster

        actor = require_admin()
        return import_roster(document, actor_id=actor.user_id)


@blp.route("/people/<string:person_id>")
class PersonItem(MethodView):
    @blp.response(200, PersonSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def get(self, person_id):  # type: ignore[no-untyped-def]
        actor = require_actor()
        person = db.session.get(Person, person_id)
        if person is None:
            raise not_found()
        unit = person.org_unit.code if person.org_unit else None
        entitled = actor.is_admin or actor.person_id == person.id or (unit is not None and unit in visible_units(actor))
        if not entitled:
            raise not_found()
        view = {"id": person.id, "name": person.name, "gender": person.gender, "org_unit": unit,
                "league_member": person.league_member, "league_post": person.league_post,
                "birth_date": person.birth_date, "league_joined": person.league_joined}
        if may_see_party_status(actor, person):  # the same rule as the candidate page
            # the view carries the restricted Party status: every read of it is in the audit trail
            record_restricted_view(actor, "api_person", person=person.id)
            view.update(party_status=person.party_status, party_applied=person.party_applied)
        return view


@blp.route("/people/<string:person_id>/instances")
class PersonInstances(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InstancePage)
    def get(self, query, person_id):  # type: ignore[no-untyped-def]
        return list_instances(query, subject_kind="person", subject=person_id)


@blp.route("/org-units/<string:code>/instances")
class UnitInstances(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InstancePage)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, query, code):  # type: ignore[no-untyped-def]
        require_actor()
        if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is None:
            raise not_found()
        return list_instances(query, subject_kind="org_unit", subject=code)
