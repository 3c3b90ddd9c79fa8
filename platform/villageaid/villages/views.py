"""Registering a village, its public page and committee invitations."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.forms import InviteForm
from ..audit.services import events_for
from ..errors import ServiceError
from ..extensions import db
from ..policy import curates
from ..formutil import options, report_service_error
from ..regions.views import choices
from . import services
from .forms import CAUSE_LABELS, VillageForm
from .models import Village

bp = Blueprint("villages", __name__)


def _fill_region_choices(form):
    form.province_code.choices = choices(None, blank=_("请选择省份"))
    form.prefecture_code.choices = choices(form.province_code.data, blank=_("请选择地市")) if form.province_code.data else options([("", _("请先选择省份"))])
    form.county_code.choices = choices(form.prefecture_code.data, blank=_("请选择区县")) if form.prefecture_code.data else options([("", _("请先选择地市"))])


@bp.route("/villages/new", methods=["GET", "POST"])
@login_required
def register():
    form = VillageForm()
    _fill_region_choices(form)
    if form.validate_on_submit():
        try:
            village = services.register_village(
                current_user, county_code=form.county_code.data, township_name=form.township_name.data,
                name=form.name.data, code=form.code.data, households=form.households.data,
                poor_households=form.poor_households.data, poor_population=form.poor_population.data,
                poverty_causes=form.poverty_causes.data or [], industries=form.industries.data,
                description=form.description.data, title=form.title.data,
            )
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("已提交审核。所在地区的审核员核实后会通知您。"), "success")
            return redirect(url_for("villages.show", village_id=village.id))
    return render_template("villages/register.html", form=form)


@bp.get("/villages/<int:village_id>")
def show(village_id):
    village = db.get_or_404(Village, village_id)
    insider = village.is_member(current_user) or curates(current_user, village.code)
    if not village.is_verified and not insider:
        abort(404)
    events = events_for(village, public_only=not insider)
    return render_template("villages/show.html", village=village, insider=insider, events=events,
                           cause_labels=CAUSE_LABELS,
                           invite_form=InviteForm() if village.is_member(current_user) else None)


@bp.post("/villages/<int:village_id>/invite")
@login_required
def invite(village_id):
    village = db.get_or_404(Village, village_id)
    if not village.is_member(current_user):
        abort(403)
    form = InviteForm()
    if form.validate_on_submit():
        services.invite_member(current_user, village, form.email.data, title=form.title.data or None)
        flash(_("邀请已发送至 %(email)s。", email=form.email.data), "success")
    else:
        flash(_("邮箱格式不正确。"), "danger")
    return redirect(url_for("villages.show", village_id=village.id))
