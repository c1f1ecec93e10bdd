"""The API's Blueprint: flask-smorest's, with a parser that makes each argument schema once.

webargs makes a new marshmallow Schema instance on every request when a route declares its arguments
with a schema class (as ours do), and a Schema's constructor copies all its declared fields. A schema
instance is stateless for loading, so one per class serves every request."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser


class _OneSchemaPerClassParser(FlaskParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = _OneSchemaPerClassParser()
