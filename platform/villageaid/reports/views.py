"""Pages for 投诉举报: anyone files a report; curators of the object's region work through the cases."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import events_for
from ..errors import ServiceError
from ..extensions import db, limiter
from ..formutil import report_service_error
from . import lifecycle, services
from .forms import CloseForm, InvestigateForm, ReportForm
from .kinds import KINDS, kind_of
from .models import STATUS_COLORS, ReportCase

bp = Blueprint("reports", __name__)


@bp.record_once
def _template_globals(state):
    # Globals, so the sections included in the need and organisation pages need no view changes.
    state.app.jinja_env.globals.update(report_outcomes=services.public_outcomes, report_link=report_link)


@bp.record_once
def _reportable_kinds(_state):
    from .kinds import register_core_kinds

    register_core_kinds()


def report_link(obj):
    """The URL of the form reporting `obj`, or None when it cannot be reported (not public)."""
    kind = kind_of(obj)
    if kind is None or not kind.visible(obj):
        return None
    return url_for("reports.new", kind=kind.key, obj_id=obj.id)


def _report_limit():
    return current_app.config.get("REPORT_LIMIT", "10 per hour")


@bp.route("/report/<kind>/<int:obj_id>", methods=["GET", "POST"])
@limiter.limit(_report_limit, methods=["POST"])
def new(kind, obj_id):
    reportable = KINDS.get(kind) or abort(404)
    obj = reportable.get(obj_id) or abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.file_report(current_user, obj, form.reason.data, form.text.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("感谢您的举报。所在地区的审核员会核查处理，处理结果将在本页公开（不公开举报人）。"), "success")
            return redirect(reportable.url(obj))
    return render_template("reports/new.html", form=form, kind=reportable, obj=obj)


# The curators' queue ---------------------------------------------------------------------------

def _curators_only():
    if not current_user.is_curator:
        abort(403)


def _load_case(case_id):
    case = db.get_or_404(ReportCase, case_id)
    if not case.can_handle(current_user):
        abort(404)
    return case


@bp.get("/curate/reports")
@login_required
def queue():
    _curators_only()
    which = request.args.get("status", "live")
    if which not in services.QUEUE_FILTERS:
        which = "live"
    cases = services.cases_for(current_user, which)
    return render_template("reports/queue.html", cases=[(c, *services.subject_of(c)) for c in cases], which=which,
                           status_colors=STATUS_COLORS)


@bp.get("/curate/reports/<int:case_id>")
@login_required
def case(case_id):
    case = _load_case(case_id)
    kind, obj = services.subject_of(case)
    return render_template("reports/case.html", case=case, kind=kind, obj=obj, events=events_for(case),
                           investigate_form=InvestigateForm(), close_form=CloseForm(), status_colors=STATUS_COLORS)


ACTIONS = {"investigate", "close"}


@bp.post("/curate/reports/<int:case_id>/<action>")
@login_required
def decide(case_id, action):
    if action not in ACTIONS:
        abort(404)
    case = _load_case(case_id)
    form = InvestigateForm() if action == "investigate" else CloseForm()
    if not form.validate_on_submit():
        if action == "close":
            kind, obj = services.subject_of(case)
            return render_template("reports/case.html", case=case, kind=kind, obj=obj, events=events_for(case),
                                   investigate_form=InvestigateForm(formdata=None), close_form=form,
                                   status_colors=STATUS_COLORS), 400
        abort(400)
    try:
        if action == "investigate":
            lifecycle.investigate(current_user, case, form.note.data)
            flash(_("已受理，进入调查。"), "success")
        else:
            lifecycle.close(current_user, case, form.outcome.data, form.public_note.data)
            flash(_("已办结，处理结果已在该对象的页面公开。"), "success")
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("reports.case", case_id=case.id))
