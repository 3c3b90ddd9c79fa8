"""The home page's campaign figures: a snapshot in Redis, rewritten every minute by a job.

The counters and sums aggregate whole tables (0.75 s at campaign scale on SQLite, 2.3 home pages a
second), so no request computes them: the "home-figures" job stores them in Redis (fakeredis
in-process on the embedded default) every minute, and every process serves that one snapshot, with
its time on the page. A missing snapshot is computed on the spot by one request at a time, as /stats
does (snapshots.py); while Redis cannot be reached, each process serves the last snapshot it saw or
made, for as long as Redis would have kept it, rather than aggregating the tables on every home page.
"""
import logging
from datetime import datetime, timedelta

from flask import current_app

from redis.exceptions import RedisError
from sqlalchemy import func, select

from .. import snapshots
from ..extensions import db
from ..needs import services as needs
from ..organizations.models import Organization
from ..timeutil import utcnow
from ..villages.models import Village

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "villageaid:home:figures"
SNAPSHOT_TTL = 600  # the job stopped for ten minutes: compute again rather than show old figures


def counters():
    """Verified villages and helpers, by kind — straight from the database."""
    villages = db.session.scalar(select(func.count()).select_from(Village).where(Village.status == "verified"))
    rows = db.session.execute(
        select(Organization.kind, func.count()).where(Organization.status == "verified").group_by(Organization.kind)
    ).all()
    by_kind = {kind.value if hasattr(kind, "value") else kind: n for kind, n in rows}
    return {"villages": villages, "enterprises": by_kind.get("enterprise", 0), "ngos": by_kind.get("ngo", 0)}


def compute():
    """Every figure the home page shows, from the database, as JSON-able values."""
    return {"computed_at": utcnow().isoformat(), "counters": counters(), "need_figures": needs.home_figures()}


def _remember(snapshot):
    current_app.extensions["villageaid.home_figures"] = snapshot
    return snapshot


def refresh():
    """Compute and store the snapshot (the job); returns it."""
    return snapshots.store(SNAPSHOT_KEY, _remember(compute()), SNAPSHOT_TTL)


def current():
    """The latest snapshot, or a fresh computation when there is none."""
    try:
        stored = snapshots.load(SNAPSHOT_KEY)
    except RedisError as error:
        log.warning("home figures not read: %s", error)
        last = current_app.extensions.get("villageaid.home_figures")
        if last and datetime.fromisoformat(last["computed_at"]) > utcnow() - timedelta(seconds=SNAPSHOT_TTL):
            return last
        return refresh()
    return _remember(stored or snapshots.compute_once(SNAPSHOT_KEY, SNAPSHOT_TTL, compute))
