"""Typed errors raised by services; views and the API map them to pages and status codes."""


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
