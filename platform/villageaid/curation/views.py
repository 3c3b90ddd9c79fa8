"""/curate — the curators' console."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..extensions import db
from ..organizations.forms import INDUSTRIES
from ..organizations.models import Organization
from ..policy import curates
from ..villages.forms import CAUSE_LABELS
from ..villages.models import Village
from . import services
from .forms import DecisionForm

bp = Blueprint("curation", __name__)

KINDS = {"organizations": Organization, "villages": Village}


@bp.before_request
@login_required
def _curators_only():
    if not current_user.is_curator:
        abort(403)


@bp.get("/curate")
def console():
    return render_template(
        "curation/console.html",
        organizations=services.pending_organizations(current_user),
        villages=services.pending_villages(current_user),
        form=DecisionForm(), cause_labels=CAUSE_LABELS, industry_labels=dict(INDUSTRIES),
    )


@bp.post("/curate/<kind>/<int:obj_id>")
def decide(kind, obj_id):
    model = KINDS.get(kind) or abort(404)
    obj = db.get_or_404(model, obj_id)
    if not curates(current_user, obj.region_code):
        abort(403)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide(current_user, obj, form.decision.data, form.reason.data)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        message = _("已通过：%(name)s", name=obj.name) if form.decision.data == "verified" else _("已驳回：%(name)s", name=obj.name)
        flash(message, "success")
    return redirect(url_for("curation.console"))
