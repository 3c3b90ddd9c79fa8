"""Home: the campaign's name, its figures (a snapshot: main/services.py) and the latest of everything."""
from datetime import datetime

from flask import Blueprint, render_template
from sqlalchemy import select

from ..extensions import db
from ..needs import services as needs
from ..organizations.models import Organization
from ..pledges import services as pledges
from ..villages.models import Village
from . import services

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    latest_villages = db.session.scalars(
        select(Village).where(Village.status == "verified").order_by(Village.verified_at.desc()).limit(6)
    ).all()
    latest_orgs = db.session.scalars(
        select(Organization).where(Organization.status == "verified").order_by(Organization.verified_at.desc()).limit(6)
    ).all()
    figures = services.current()
    return render_template("main/home.html", villages=latest_villages, organizations=latest_orgs,
                           urgent_needs=needs.urgent_needs(), recent_deliveries=pledges.recent_verified(),
                           counters=figures["counters"], need_figures=figures["need_figures"],
                           figures_computed_at=datetime.fromisoformat(figures["computed_at"]))


@bp.get("/ping")
def ping():
    """Liveness: the process answers (no database). Also the ceiling bench/run.py compares pages with."""
    return "pong", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"ok": True}
