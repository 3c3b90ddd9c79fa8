"""The API's building blocks: a smorest Blueprint whose request validation is answered as a 400 (as
web.py's handler does) and whose error responses are documented with the {"error": {...}} body they
really have."""
import flask_smorest
from webargs.flaskparser import FlaskParser

from ..errors import ApiError

BEARER = [{"bearerAuth": []}]


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
