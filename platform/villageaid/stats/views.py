"""/stats: the campaign's verified results with charts, each followed by its table."""
from datetime import datetime

from flask import Blueprint, render_template
from flask_babel import gettext as _

from ..money import format_fen
from ..needs.models import CATEGORY_LABELS, UNIT_LABELS, Category, Unit
from . import charts, services

bp = Blueprint("stats", __name__)


@bp.get("/stats")
def page():
    stats = services.current()
    number = "{:,}".format
    return render_template(
        "stats/page.html", stats=stats, computed_at=datetime.fromisoformat(stats["computed_at"]),
        units=list(Unit), unit_labels=UNIT_LABELS, category_labels={c.value: CATEGORY_LABELS[c] for c in Category},
        province_chart=charts.bars([(row["name"], row["cny_fen"]) for row in stats["by_province"][:15]],
                                   _("各省核实到位的帮扶资金"), format_fen),
        category_chart=charts.bars([(str(CATEGORY_LABELS[Category(row["category"])]), row["deliveries"])
                                    for row in stats["by_category"]], _("各类别核实的交付笔数"), number),
        month_funds_chart=charts.columns([(row["month"], row["cny_fen"]) for row in stats["by_month"]],
                                         _("每月核实到位的帮扶资金"), format_fen),
        month_jobs_chart=charts.columns([(row["month"], row["jobs"]) for row in stats["by_month"]],
                                        _("每月核实的就业岗位"), number))
