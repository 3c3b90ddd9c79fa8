"""Registering an organisation, its public page and member invitations."""
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
from .forms import OrganizationForm
from .models import Organization

bp = Blueprint("organizations", __name__)


def _fill_region_choices(form):
    form.province_code.choices = choices(None, blank=_("请选择省份"))
    form.prefecture_code.choices = choices(form.province_code.data, blank=_("（省级，不选地市）")) if form.province_code.data else options([("", _("请先选择省份"))])


@bp.route("/helpers/new", methods=["GET", "POST"])
@login_required
def register():
    form = OrganizationForm()
    _fill_region_choices(form)
    if form.validate_on_submit():
        try:
            org = services.register_organization(
                current_user, kind=form.kind.data, name=form.name.data, credit_code=form.credit_code.data,
                industry=form.industry.data, province_code=form.province_code.data,
                prefecture_code=form.prefecture_code.data or None, size=form.size.data,
                contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
                description=form.description.data,
            )
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("已提交审核。所在地区的工商联审核后会通知您。"), "success")
            return redirect(url_for("organizations.show", org_id=org.id))
    return render_template("organizations/register.html", form=form)


@bp.get("/helpers/<int:org_id>")
def show(org_id):
    org = db.get_or_404(Organization, org_id)
    insider = org.is_member(current_user) or curates(current_user, org.region_code)
    if not org.is_verified and not insider:
        abort(404)
    events = events_for(org, public_only=not insider)
    return render_template("organizations/show.html", org=org, insider=insider, events=events,
                           invite_form=InviteForm() if org.is_owner(current_user) else None)


@bp.post("/helpers/<int:org_id>/invite")
@login_required
def invite(org_id):
    org = db.get_or_404(Organization, org_id)
    if not org.is_owner(current_user):
        abort(403)
    form = InviteForm()
    if form.validate_on_submit():
        services.invite_member(current_user, org, form.email.data)
        flash(_("邀请已发送至 %(email)s。", email=form.email.data), "success")
    else:
        flash(_("邮箱格式不正确。"), "danger")
    return redirect(url_for("organizations.show", org_id=org.id))
