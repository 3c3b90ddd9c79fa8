"""Home: the campaign's name and real counters from the database."""
import time

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from ..extensions import db
from ..needs import services as needs
from ..organizations.models import Organization
from ..pledges import services as pledges
from ..villages.models import Village

bp = Blueprint("main", __name__)


def counters():
    """Verified villages and helpers, by kind — straight from the database."""
    villages = db.session.scalar(select(func.count()).select_from(Village).where(Village.status == "verified"))
    rows = db.session.execute(
        select(Organization.kind, func.count()).where(Organization.status == "verified").group_by(Organization.kind)
    ).all()
    by_kind = {kind.value if hasattr(kind, "value") else kind: n for kind, n in rows}
    return {"villages": villages, "enterprises": by_kind.get("enterprise", 0), "ngos": by_kind.get("ngo", 0)}


def campaign_figures():
    """The home page's counters and sums, reused for HOME_FIGURES_CACHE_SECONDS in this process.

    They aggregate whole tables (0.75 s at campaign scale on SQLite), so each process computes them at
    most once a minute however many visitors come; the lists on the page are read on every request.
    """
    cache = current_app.extensions.setdefault("villageaid.home_figures", {})
    now = time.monotonic()
    if cache.get("until", 0) > now:
        return cache["figures"]
    figures = {"counters": counters(), "need_figures": needs.home_figures()}
    cache.update(figures=figures, until=now + current_app.config["HOME_FIGURES_CACHE_SECONDS"])
    return figures


@bp.get("/")
def home():
    latest_villages = db.session.scalars(
        select(Village).where(Village.status == "verified").order_by(Village.verified_at.desc()).limit(6)
    ).all()
    latest_orgs = db.session.scalars(
        select(Organization).where(Organization.status == "verified").order_by(Organization.verified_at.desc()).limit(6)
    ).all()
    return render_template("main/home.html", villages=latest_villages, organizations=latest_orgs,
                           urgent_needs=needs.urgent_needs(), recent_deliveries=pledges.recent_verified(),
                           **campaign_figures())


@bp.get("/ping")
def ping():
    """Liveness: the process answers (no database). Also the ceiling bench/run.py compares pages with."""
    return "pong", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"ok": True}
