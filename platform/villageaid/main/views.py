"""Home: the campaign's name, its figures (a snapshot: main/services.py) and the latest of everything."""
from datetime import datetime

from flask import Blueprint, render_template
from sqlalchemy import select

from ..extensions import db
from ..needs import services as needs
from ..organizations import services as organizations
from ..pledges import services as pledges
from ..villages import services as villages
from . import services

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    figures = services.current()
    return render_template("main/home.html", villages=villages.latest_verified(),
                           organizations=organizations.latest_verified(),
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
