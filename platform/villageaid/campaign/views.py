"""/campaign — counting down to 17 October and showing the campaign year's verified help, live."""
from flask import Blueprint, render_template

from ..needs.models import UNIT_LABELS, Unit
from . import services

bp = Blueprint("campaign", __name__)


@bp.get("/campaign")
def page():
    period = services.campaign_year()
    day, days_left, starts_at = services.countdown()
    return render_template("campaign/page.html", period=period, day=day, days_left=days_left, starts_at=starts_at,
                           totals=services.verified_totals(period), units=list(Unit), unit_labels=UNIT_LABELS)
