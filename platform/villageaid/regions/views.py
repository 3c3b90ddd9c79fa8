"""The division tree as JSON, for the cascading selects (province → prefecture → county)."""
import time

from flask import Blueprint, current_app, jsonify

from ..formutil import options
from . import services

bp = Blueprint("regions", __name__)


@bp.get("/regions/children")
@bp.get("/regions/<code>/children")
def children(code=None):
    return jsonify([{"code": r.code, "name": r.name, "level": int(r.level)} for r in services.children(code)])


CHOICES_CACHE_SECONDS = 300


def choices(code=None, blank=None):
    """Options for a select of the children of `code`, with an optional blank first option.

    Provinces, and the prefectures and counties under them, come from the national division table
    and change only when it is loaded again: their options are reused per process for
    CHOICES_CACHE_SECONDS (the /needs filters ask for two lists on every request). A county's
    townships and villages grow as villages register, so those are always read.
    """
    if code is None or services.pad(code)[4:] == "00000000":
        rows = _national_rows(services.pad(code) if code else None)
    else:
        rows = options([(r.code, r.name) for r in services.children(code)])
    return (options([("", blank)]) if blank is not None else []) + rows


def _national_rows(code):
    cache = current_app.extensions.setdefault("villageaid.region_choices", {})
    now = time.monotonic()
    hit = cache.get(code)
    if hit is None or hit[0] <= now:
        hit = cache[code] = (now + CHOICES_CACHE_SECONDS, options([(r.code, r.name) for r in services.children(code)]))
    return list(hit[1])
