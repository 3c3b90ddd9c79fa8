"""/curate/ledger/export: ask for a 台账 workbook, follow the job, download the file."""
from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField

from ..errors import PermissionDenied
from ..formutil import report_service_error
from . import export as service
from . import public
from .models import ExportStatus

bp = Blueprint("ledger", __name__)


class ExportForm(FlaskForm):
    region = SelectField(choices=[])


def _form():
    from flask_babel import lazy_gettext as _l

    form = ExportForm()
    form.region.label.text = _l("地区")
    codes, names = service.regions_for(current_user)
    form.region.choices = [("" if code is None else code, names.get(code) if code else _l("全国")) for code in codes]
    return form


def _load(export_id):
    try:
        export = service.get_for(current_user, export_id)
    except PermissionDenied:
        abort(403)
    if export is None:
        abort(404)
    return export


@bp.route("/curate/ledger/export", methods=["GET", "POST"])
@login_required
def export_page():
    if not current_user.is_curator:
        abort(403)
    form = _form()
    if form.validate_on_submit():
        try:
            export = service.start(current_user, form.region.data or None)
        except PermissionDenied as exc:
            report_service_error(form, exc)
        else:
            return redirect(url_for("ledger.export_status", export_id=export.id))
    return render_template("ledger/export.html", form=form, exports=service.recent(current_user),
                           filename=service.filename)


@bp.get("/curate/ledger/export/<int:export_id>")
@login_required
def export_status(export_id):
    export = _load(export_id)
    return render_template("ledger/export_status.html", export=export, filename=service.filename(export))


@bp.get("/curate/ledger/export/<int:export_id>/progress")
@login_required
def export_progress(export_id):
    export = _load(export_id)
    return jsonify(status=export.status, finished=export.is_finished, total=export.total_rows,
                   checked=export.written_rows)


@bp.get("/curate/ledger/export/<int:export_id>/download")
@login_required
def export_download(export_id):
    export = _load(export_id)
    if export.status != ExportStatus.DONE.value:
        abort(404)
    path = service.export_dir() / export.stored_name
    if not path.exists():
        abort(410)
    return send_file(path, mimetype=service.MIMETYPE, as_attachment=True, download_name=service.filename(export))


@bp.get("/ledger")
@bp.get("/ledger/<code>")
def region(code=None):
    """The public ledger of the country or of one province, prefecture or county."""
    data = public.page(code)
    if data is None:
        abort(404)
    return render_template("ledger/region.html", **data)
