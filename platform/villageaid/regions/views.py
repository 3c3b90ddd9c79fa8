"""The division tree as JSON, for the cascading selects (province → prefecture → county)."""
from flask import Blueprint, jsonify

from ..formutil import options
from . import services

bp = Blueprint("regions", __name__)


@bp.get("/regions/children")
@bp.get("/regions/<code>/children")
def children(code=None):
    return jsonify([{"code": r.code, "name": r.name, "level": int(r.level)} for r in services.children(code)])


def choices(code=None, blank=None):
    """Options for a select of the children of `code`, with an optional blank first option."""
    rows = [(r.code, r.name) for r in services.children(code)]
    return options(([("", blank)] if blank is not None else []) + rows)
