"""The API's building blocks: a smorest Blueprint whose request validation is answered as a 400 (as
web.py's handler does) and whose error responses are documented with the {"error": {...}} body they
really have; `<id:…>` path ids; `Text`, the string input every schema uses."""
import flask_smorest
from marshmallow import fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from ..errors import ApiError

BEARER = [{"bearerAuth": []}]
MAX_ID = 2**31 - 1  # ids are INTEGER columns: int4 on PostgreSQL


class IdConverter(IntegerConverter):
    """`<id:name>`, an object's id in an API path: a number past any id names no object, so the route
    does not match (a 404) rather than reaching a database that cannot bind it (SQLite refuses
    anything past 2**63 - 1). Documented as the parameter's maximum."""

    def __init__(self, url_map, *_args, **_kwargs):
        super().__init__(url_map, max=MAX_ID)


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # documented as such; web.py answers webargs' errors with a 400 and the fields


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def alt_response(self, status_code, response=None, *, schema=None, **kwargs):
        """An error status (4xx, 5xx) carries the API's error body unless told otherwise."""
        if response is None and schema is None and int(status_code) >= 400:
            schema = ApiError
        return super().alt_response(status_code, response, schema=schema, **kwargs)

    def token_required(self, func):
        """Document an operation behind `api.security.token_required`: the bearer scheme and its 401."""
        func = self.alt_response(401, description="No valid bearer token: missing, unknown, expired or revoked")(func)
        return self.doc(security=BEARER)(func)


NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain the NUL character (U+0000).")


class Text(fields.String):
    """A string input without NUL characters, which PostgreSQL text cannot hold: a 400 naming the field
    rather than a database error (documented as the field's pattern)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validators.insert(0, NO_NUL)
