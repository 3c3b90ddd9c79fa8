"""Registering a village, its public page and committee invitations."""
from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, url_for
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
from . import importer
from .forms import CAUSE_LABELS, ImportForm, VillageForm
from .models import Village, VillageImport

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
    from ..needs.services import village_needs

    return render_template("villages/show.html", village=village, insider=insider, events=events,
                           cause_labels=CAUSE_LABELS, needs=village_needs(village, current_user),
                           partners=services.pairing_partners(village),
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


# 批量导入 — curators import registered villages from a file, as a job with progress -------------

def _curator_only():
    if not current_user.is_curator:
        abort(403)


def _load_import(import_id):
    run = db.get_or_404(VillageImport, import_id)
    if not run.can_view(current_user):
        abort(404)
    return run


@bp.route("/curate/villages/import", methods=["GET", "POST"])
@login_required
def import_upload():
    _curator_only()
    form = ImportForm()
    if form.validate_on_submit():
        try:
            run = importer.start(current_user, form.file.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            return redirect(url_for("villages.import_status", import_id=run.id))
    return render_template("villages/import.html", form=form, imports=importer.recent_imports(current_user),
                           instructions=importer.instructions(), labels=importer.column_labels())


@bp.get("/curate/villages/import/template.<any(xlsx, csv):fmt>")
@login_required
def import_template(fmt):
    _curator_only()
    if fmt == "xlsx":
        body, mimetype = importer.template_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = importer.template_csv(), "text/csv; charset=utf-8"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=villages-template.{fmt}"})


@bp.get("/curate/villages/import/<int:import_id>")
@login_required
def import_status(import_id):
    run = _load_import(import_id)
    return render_template("villages/import_status.html", run=run, labels=importer.column_labels())


@bp.get("/curate/villages/import/<int:import_id>/progress")
@login_required
def import_progress(import_id):
    run = _load_import(import_id)
    return jsonify(status=run.status, finished=run.is_finished, total=run.total_rows, checked=run.checked_rows,
                   imported=run.imported, errors=len(run.errors or []))


@bp.get("/curate/villages/import/<int:import_id>/errors.csv")
@login_required
def import_errors(import_id):
    import csv
    import io

    run = _load_import(import_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("行号"), _("列"), _("原因")])
    for error in run.errors or []:
        message = error["message"]
        if message[:1] in ("=", "+", "-", "@"):  # Excel would read it as a formula
            message = "'" + message
        writer.writerow([error["row"], error["column"] or "", message])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=village-import-{run.id}-errors.csv"})
