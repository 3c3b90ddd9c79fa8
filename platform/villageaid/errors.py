"""Typed errors raised by services; views and the API map them to pages and status codes."""
from marshmallow import Schema
from marshmallow import fields as ma


class ServiceError(Exception):
    """A rule was broken; `str(error)` is a translated message for the user."""

    status = 400

    def __init__(self, message="", fields=None):
        super().__init__(message)
        self.fields = fields or {}


class PermissionDenied(ServiceError):
    status = 403


class Conflict(ServiceError):
    """The action does not fit the object's current state (HTTP 409)."""

    status = 409


# The API's error body, {"error": {"code", "message", "fields"}}, for the OpenAPI document
# (web.error_response writes it; the pages render the same errors as HTML).

class ApiErrorDetail(Schema):
    code = ma.String(required=True, metadata={
        "description": "bad_request, unauthorized, forbidden, not_found, method_not_allowed, conflict, too_large, "
                       "rate_limited or unavailable"})
    message = ma.String(required=True, metadata={"description": "for people, in the request's language"})
    # `fields` is a Schema attribute: the field gets its name from data_key.
    fields_ = ma.Dict(keys=ma.String(), values=ma.Raw(), required=True, data_key="fields", metadata={
        "description": "the offending fields, each with a list of messages (a nested field: an object of the same "
                       "shape); {} when the error is not about fields"})


class ApiError(Schema):
    error = ma.Nested(ApiErrorDetail, required=True)
