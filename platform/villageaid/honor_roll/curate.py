"""/curate/honor-roll: the curators' workbench — editions, settings, computing, curating, 公示,
objections, publishing and corrections. Each view loads, checks, calls the lifecycle and redirects."""
from datetime import datetime

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import ServiceError
from ..extensions import db
from ..formutil import report_service_error
from ..timeutil import SHANGHAI, to_local
from . import compute, lifecycle, scoring
from .forms import (ActionForm, AnswerForm, CategoryForm, CitationForm, CorrectionForm, CreateEditionForm, QuotaForm,
                    ReasonForm, SettingsForm)
from .models import (EDITION_STATUS_COLORS, HonorRollCandidate, HonorRollCategory, HonorRollComputation,
                     HonorRollEdition, HonorRollObjection, can_manage)

bp = Blueprint("honor_roll_curate", __name__, url_prefix="/curate/honor-roll")

RESERVE_SHOWN = 10  # candidates shown after the honored ones, unless the curator asks for all


@bp.before_request
@login_required
def _curators_only():
    if not current_user.is_curator:
        abort(403)


def _edition(year):
    edition = db.session.scalar(select(HonorRollEdition).where(HonorRollEdition.year == year))
    if edition is None:
        abort(404)
    return edition


def _back(edition, anchor=None):
    return redirect(url_for("honor_roll_curate.workbench", year=edition.year, _anchor=anchor))


@bp.route("", methods=["GET", "POST"])
def editions():
    form = CreateEditionForm()
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        if form.validate_on_submit():
            try:
                edition = lifecycle.create_edition(current_user, form.year.data, form.title.data)
            except ServiceError as exc:
                report_service_error(form, exc)
            else:
                flash(_("已创建 %(title)s。", title=edition.title), "success")
                return _back(edition)
    elif form.year.data is None:
        from ..campaign.services import campaign_year

        form.year.data = campaign_year().year
    all_editions = db.session.scalars(select(HonorRollEdition).order_by(HonorRollEdition.year.desc())).all()
    return render_template("honor_roll/curate_list.html", editions=all_editions, form=form,
                           colors=EDITION_STATUS_COLORS), 400 if form.errors else 200


def _settings_form(edition, formdata=None):
    local = to_local(edition.publish_at)
    form = SettingsForm(formdata=formdata, obj=edition if formdata is None else None,
                        publish_date=local.date(), publish_time=local.time())
    return form


def _workbench(edition, forms=None, status=200):
    forms = forms or {}
    show_all = request.args.get("all", type=int)
    sections = []
    for category in edition.categories:
        honored = lifecycle.honored(category)
        honored_ids = {c.id for _r, c in honored}
        rank_of = {c.id: r for r, c in honored}
        candidates = lifecycle.candidates_of(category)
        if show_all != category.id:
            last = max((c.position for _r, c in honored), default=0)
            reserve = [c for c in candidates if c.id not in honored_ids and c.position > last][:RESERVE_SHOWN]
            shown = [c for c in candidates if c.id in honored_ids or c.excluded or c in reserve]
        else:
            shown = candidates
        sections.append({"category": category, "candidates": shown, "honored": honored_ids, "rank_of": rank_of,
                         "total": len(candidates), "quota_form": forms.get(("quota", category.id)) or
                         QuotaForm(formdata=None, quota=category.quota)})
    context = {
        "edition": edition, "sections": sections, "colors": EDITION_STATUS_COLORS,
        "computation": lifecycle.latest_computation(edition), "running": lifecycle.running_computation(edition),
        "notice_problems": lifecycle.notice_problems(edition) if edition.status == "draft" else [],
        "publish_problems": lifecycle.publish_problems(edition) if edition.status == "notice" else [],
        "objections": lifecycle.objections(edition), "revisions": [r for r in edition.revisions if r.sealed],
        "can_manage": can_manage(current_user), "is_admin": current_user.is_admin,
        "action_form": ActionForm(), "settings_form": forms.get("settings") or _settings_form(edition),
        "category_form": forms.get("category") or CategoryForm(formdata=None),
        "reason_form": ReasonForm(formdata=None), "citation_form": CitationForm(formdata=None),
        "answer_form": AnswerForm(formdata=None), "correction_form": forms.get("correction") or CorrectionForm(formdata=None),
        "withdraw_form": forms.get("withdraw") or ReasonForm(formdata=None), "errors_for": forms.get("errors_for", {}),
        "kept": compute.kept, "points": scoring.points,
    }
    return render_template("honor_roll/workbench.html", **context), status


@bp.get("/<int:year>")
def workbench(year):
    return _workbench(_edition(year))


def _act(edition, action, anchor=None, success=None):
    """Run a lifecycle call from a button; a refusal is flashed and the workbench shown again."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        if success:
            flash(success, "success")
    return _back(edition, anchor)


@bp.post("/<int:year>/settings")
def settings(year):
    edition = _edition(year)
    if not current_user.is_admin:
        abort(403)
    form = _settings_form(edition, request.form)
    if form.validate_on_submit():
        publish_at = datetime.combine(form.publish_date.data, form.publish_time.data, SHANGHAI)
        try:
            lifecycle.update_settings(current_user, edition, title=form.title.data, period_start=form.period_start.data,
                                      period_end=form.period_end.data, notice_days=form.notice_days.data,
                                      publish_at=publish_at,
                                      weights={name: getattr(form, name).data for name in edition.weights})
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("设置已保存。"), "success")
            return _back(edition, "settings")
    return _workbench(edition, {"settings": form}, status=400)


@bp.post("/<int:year>/categories")
def add_category(year):
    edition = _edition(year)
    if not current_user.is_admin:
        abort(403)
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            lifecycle.add_category(current_user, edition, name=form.name.data, honoree_kind=form.honoree_kind.data,
                                   need_category=form.need_category.data or None, quota=form.quota.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("已添加类别，请重新计算候选名单。"), "success")
            return _back(edition, "categories")
    return _workbench(edition, {"category": form}, status=400)


@bp.post("/categories/<int:category_id>/quota")
def quota(category_id):
    category = db.session.get(HonorRollCategory, category_id) or abort(404)
    if not can_manage(current_user):
        abort(403)
    form = QuotaForm()
    if form.validate_on_submit():
        try:
            lifecycle.set_quota(current_user, category, form.quota.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            return _back(category.edition, f"category-{category.id}")
    return _workbench(category.edition, {("quota", category.id): form}, status=400)


@bp.post("/<int:year>/compute")
def start_computation(year):
    edition = _edition(year)
    if not can_manage(current_user):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        computation = lifecycle.start_computation(current_user, edition)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _back(edition)
    return redirect(url_for("honor_roll_curate.computation", computation_id=computation.id))


def _computation(computation_id):
    computation = db.session.get(HonorRollComputation, computation_id)
    if computation is None:
        abort(404)
    if not can_manage(current_user):
        abort(403)
    return computation


@bp.get("/computations/<int:computation_id>")
def computation(computation_id):
    found = _computation(computation_id)
    return render_template("honor_roll/computation.html", computation=found, edition=found.edition)


@bp.get("/computations/<int:computation_id>/progress")
def computation_progress(computation_id):
    found = _computation(computation_id)
    return jsonify(status=found.status, finished=found.is_finished, total=found.steps_total, checked=found.steps_done)


def _candidate(candidate_id):
    candidate = db.session.get(HonorRollCandidate, candidate_id)
    if candidate is None:
        abort(404)
    if not candidate.can_curate(current_user):
        abort(403)
    return candidate


def _candidate_form(candidate, form_class, call, success):
    form = form_class()
    edition = candidate.edition
    if form.validate_on_submit():
        try:
            call(form)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(success, "success")
            return _back(edition, f"candidate-{candidate.id}")
    else:
        flash(_("请更正标出的项目。"), "danger")
    errors = {name: list(field.errors) for name, field in form._fields.items() if field.errors}
    return _workbench(edition, {"errors_for": {candidate.id: {"form": form, "errors": errors}}}, status=400)


@bp.post("/candidates/<int:candidate_id>/exclude")
def exclude(candidate_id):
    candidate = _candidate(candidate_id)
    return _candidate_form(candidate, ReasonForm, lambda f: lifecycle.exclude(current_user, candidate, f.reason.data),
                           _("已将 %(name)s 排除出名单，理由已记录。", name=candidate.name))


@bp.post("/candidates/<int:candidate_id>/restore")
def restore(candidate_id):
    candidate = _candidate(candidate_id)
    return _act(candidate.edition, lambda: lifecycle.restore(current_user, candidate), f"candidate-{candidate.id}",
                _("已恢复 %(name)s。", name=candidate.name))


@bp.post("/candidates/<int:candidate_id>/citation")
def citation(candidate_id):
    candidate = _candidate(candidate_id)
    return _candidate_form(candidate, CitationForm,
                           lambda f: lifecycle.set_citation(current_user, candidate, f.citation.data),
                           _("已保存 %(name)s 的事迹。", name=candidate.name))


@bp.post("/<int:year>/notice")
def start_notice(year):
    edition = _edition(year)
    if not can_manage(current_user):
        abort(403)
    return _act(edition, lambda: lifecycle.start_notice(current_user, edition), None,
                _("名单已进入公示，公众可在公示期内提出异议。"))


@bp.post("/<int:year>/withdraw-notice")
def withdraw_notice(year):
    edition = _edition(year)
    if not can_manage(current_user):
        abort(403)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            lifecycle.withdraw_notice(current_user, edition, form.reason.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("已撤回公示，名单回到草稿。"), "success")
            return _back(edition)
    return _workbench(edition, {"withdraw": form}, status=400)


@bp.post("/objections/<int:objection_id>/answer")
def answer(objection_id):
    objection = db.session.get(HonorRollObjection, objection_id)
    if objection is None:
        abort(404)
    allowed = objection.candidate.can_curate(current_user) if objection.candidate else can_manage(current_user)
    if not allowed:
        abort(403)
    form = AnswerForm()
    edition = objection.edition
    if form.validate_on_submit():
        try:
            lifecycle.answer_objection(current_user, objection, outcome=form.outcome.data, answer=form.answer.data)
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(_("答复已公开。"), "success")
        return _back(edition, f"objection-{objection.id}")
    flash(_("请选择处理结果并填写公开答复。"), "danger")
    return _back(edition, f"objection-{objection.id}")


@bp.post("/<int:year>/publish")
def publish(year):
    edition = _edition(year)
    if not current_user.is_admin:
        abort(403)
    return _act(edition, lambda: lifecycle.publish(current_user, edition), None, _("光荣榜已发布。"))


@bp.post("/<int:year>/correct")
def correct(year):
    edition = _edition(year)
    if not current_user.is_admin:
        abort(403)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            revision = lifecycle.publish_correction(current_user, edition, form.note.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("已发布第 %(n)s 版，更正说明已公开。", n=revision.number), "success")
            return _back(edition, "revisions")
    return _workbench(edition, {"correction": form}, status=400)
