"""Pages for 抽查: curators draw a sample, record each visit and close the check; the public sees the
checks of a region with their results, and what a discrepancy reopened (on the ledger and tracking pages)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..extensions import db
from ..formutil import report_service_error
from ..regions import services as regions
from . import lifecycle, services
from .forms import CloseForm, DrawForm, ResultForm
from .models import CHECK_STATUS_COLORS, ITEM_STATUS_COLORS, MAX_SAMPLE, SpotCheck, SpotCheckItem

bp = Blueprint("spotchecks", __name__)


@bp.record_once
def _template_globals(state):
    # Globals, so the ledger and tracking pages show findings without knowing this feature's views.
    state.app.jinja_env.globals.update(spot_check_findings=services.findings_for_pledge,
                                       spot_check_delivery_findings=services.findings_for_delivery,
                                       spot_check_item_colors=ITEM_STATUS_COLORS,
                                       spot_check_colors=CHECK_STATUS_COLORS)


def _curators_only():
    if not current_user.is_curator:
        abort(403)


def _load(check_id):
    """The check, 404 when there is none, 403 for anyone but the curators of its region."""
    spot_check = db.get_or_404(SpotCheck, check_id)
    if not spot_check.can_manage(current_user):
        abort(403)
    return spot_check


def _load_item(spot_check, item_id):
    item = db.session.get(SpotCheckItem, item_id)
    if item is None or item.spot_check_id != spot_check.id:
        abort(404)
    return item


# The curators' pages ---------------------------------------------------------------------------

@bp.get("/curate/spot-checks")
@login_required
def index():
    _curators_only()
    checks = services.checks_for(current_user)
    return render_template("spotchecks/index.html", checks=checks,
                           tallies=services.tallies([c.id for c in checks]))


def _draw_form():
    """The draw form, its selects filled for what was chosen (or the curator's own region at first)."""
    form = DrawForm()
    if request.method == "GET" and not form.province.data:
        scope = next(iter(services.regions_for(current_user)), None)
        chain = regions.ancestors(scope.code) if scope is not None else []
        for field, region in zip((form.province, form.prefecture, form.county), chain):
            field.data = region.code
    province, prefecture = form.province.data or None, form.prefecture.data or None
    return form.setup(services.region_choices(None),
                      services.region_choices(province) if province else [],
                      services.region_choices(prefecture) if prefecture else [])


@bp.route("/curate/spot-checks/new", methods=["GET", "POST"])
@login_required
def new():
    _curators_only()
    form = _draw_form()
    if form.validate_on_submit():
        try:
            seed = services.parse_seed(form.seed.data)
        except ValueError:
            form.seed.errors = [_("随机种子应是不超过 18 位的非负整数。")]
        else:
            try:
                spot_check = lifecycle.draw(current_user, form.region_code, form.period_start.data,
                                            form.period_end.data, form.sample_size.data, seed)
            except ServiceError as exc:
                if exc.status == 403:
                    raise  # the error page says why: another region's curator
                report_service_error(form, exc)
            else:
                flash(_("已抽取 %(n)s 笔交付，随机种子 %(seed)s。请逐一走访并登记结果。",
                        n=len(spot_check.items), seed=spot_check.seed), "success")
                return redirect(url_for("spotchecks.show", check_id=spot_check.id))
    status = 400 if request.method == "POST" else 200
    return render_template("spotchecks/new.html", form=form, max_sample=MAX_SAMPLE), status


def _render_check(spot_check, forms=None, status=200):
    page = render_template("spotchecks/show.html", check=spot_check, forms=forms or {},
                           blank_form=ResultForm(formdata=None), close_form=CloseForm(),
                           tally=services.tallies([spot_check.id])[spot_check.id], events=services.trail(spot_check))
    return page, status


@bp.get("/curate/spot-checks/<int:check_id>")
@login_required
def show(check_id):
    return _render_check(_load(check_id))


@bp.post("/curate/spot-checks/<int:check_id>/items/<int:item_id>")
@login_required
def record(check_id, item_id):
    spot_check = _load(check_id)
    item = _load_item(spot_check, item_id)
    form = ResultForm()
    if not form.validate_on_submit():
        return _render_check(spot_check, {item.id: form}, 400)
    uploads = [f for f in request.files.getlist("evidence") if f and f.filename]
    try:
        lifecycle.record_result(current_user, item, form.result.data, form.notes.data, form.visited_on.data,
                                uploads=uploads)
    except ServiceError as exc:
        if exc.status == 403:
            raise
        report_service_error(form, exc)
        return _render_check(spot_check, {item.id: form}, exc.status)
    if item.status == "discrepancy":
        message = (_("已登记：发现出入。该交付已重新打开，暂不计入统计，请在交付核实中重新核实或驳回。") if item.reopened
                   else _("已登记：发现出入。"))
        flash(message, "warning")
    else:
        flash(_("已登记：核实无误。"), "success")
    return redirect(url_for("spotchecks.show", check_id=spot_check.id, _anchor=f"item-{item.id}"))


@bp.post("/curate/spot-checks/<int:check_id>/close")
@login_required
def close(check_id):
    spot_check = _load(check_id)
    if not CloseForm().validate_on_submit():
        abort(400)
    try:
        lifecycle.close(current_user, spot_check)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 403:
            raise
        flash(str(exc), "danger")
    else:
        flash(_("抽查已结束，结果已公开。"), "success")
    return redirect(url_for("spotchecks.show", check_id=check_id))


@bp.get("/curate/spot-checks/<int:check_id>/items/<int:item_id>/evidence/<int:evidence_id>")
@login_required
def evidence_file(check_id, item_id, evidence_id):
    """Visit photos are for the region's curators only: they may show people and their homes."""
    spot_check = _load(check_id)
    item = _load_item(spot_check, item_id)
    photo = next((e for e in item.evidence if e.id == evidence_id), None)
    path = lifecycle.evidence_path(photo) if photo is not None else None
    if path is None or not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Public -------------------------------------------------------------------------------------------

@bp.get("/spot-checks")
def public_index():
    """Every spot check, or those within ?region=<code>, with their results."""
    code = request.args.get("region") or None
    region = services.get_region(code) if code else None
    if code and region is None:
        abort(404)
    checks = services.public_checks(region)
    return render_template("spotchecks/public_index.html", region=region, checks=checks,
                           tallies=services.tallies([c.id for c in checks]),
                           chain=regions.ancestors(region.code) if region else [])


@bp.get("/spot-checks/<int:check_id>")
def public_show(check_id):
    spot_check = db.get_or_404(SpotCheck, check_id)
    return render_template("spotchecks/public_show.html", check=spot_check, items=services.public_items(spot_check),
                           tally=services.tallies([spot_check.id])[spot_check.id])
