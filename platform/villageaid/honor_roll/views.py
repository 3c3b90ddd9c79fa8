"""Public honor-roll pages: /honor-roll (the current roll), /honor-roll/<year>, an entry with the
deliveries behind its figures, its certificate, the roll's XLSX, objections during 公示."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import ServiceError
from ..extensions import limiter
from ..formutil import options, report_service_error
from ..web import external_url
from . import documents, lifecycle, public
from .forms import ObjectionForm
from .models import EditionStatus

bp = Blueprint("honor_roll", __name__)


@bp.record_once
def _template_globals(state):
    # A global, so the organisation page's honors section needs no change to its view.
    state.app.jinja_env.globals.update(honors_of=public.honors_of)


def _objection_form(the_roll):
    form = ObjectionForm()
    form.candidate_id.choices = options([("", _("整份名单"))] + [
        (str(row.candidate_id), f"{section.name} · {row.rank}. {row.name}") for section, row in the_roll.rows])
    return form


def _edition_page(edition, number=None, form=None, status=200, newer_notice=None):
    the_roll = public.roll(edition, number)
    if the_roll is None:
        abort(404)
    notice = edition.status == EditionStatus.NOTICE
    if notice and form is None:
        form = _objection_form(the_roll)
    return render_template("honor_roll/edition.html", roll=the_roll, edition=edition, form=form,
                           open_for_objections=notice and lifecycle.in_notice(edition),
                           objections=lifecycle.objections(edition) if notice or edition.status == "published" else [],
                           revisions=[r for r in edition.revisions if r.sealed],
                           newer_notice=newer_notice,
                           share_url=external_url("honor_roll.edition", year=edition.year)), status


@bp.get("/honor-roll")
def current():
    edition, newer_notice = public.current()
    if edition is None:
        return render_template("honor_roll/none.html")
    return _edition_page(edition, newer_notice=newer_notice)  # a banner points at a newer roll in 公示


@bp.get("/honor-roll/<int:year>")
def edition(year):
    found = public.find(year)
    if found is None:
        abort(404)
    number = request.args.get("revision", type=int)
    return _edition_page(found, number)


@bp.post("/honor-roll/<int:year>/objections")
@limiter.limit("10 per hour", methods=["POST"])
def object_(year):
    found = public.find(year)
    if found is None:
        abort(404)
    form = _objection_form(public.roll(found))
    if form.validate_on_submit():
        try:
            lifecycle.file_objection(current_user if current_user.is_authenticated else None, found,
                                     candidate_id=form.candidate_id.data or None, name=form.name.data,
                                     contact=form.contact.data, body=form.body.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("异议已提交。审核员将在公示期结束前核查并公开答复。"), "success")
            return redirect(url_for("honor_roll.edition", year=year, _anchor="objections"))
    return _edition_page(found, form=form, status=400)


@bp.get("/honor-roll/<int:year>/candidates/<int:candidate_id>")
def candidate(year, candidate_id):
    """During 公示: one honoree of the draft and the deliveries behind its figures."""
    found = public.find(year)
    shown = public.notice_candidate(found, candidate_id) if found else None
    if shown is None:
        abort(404)
    rank, the_candidate = shown
    deliveries = public.candidate_deliveries(the_candidate)
    return render_template("honor_roll/entry.html", edition=found, revision=None, entry=the_candidate, rank=rank,
                           category_name=the_candidate.category.name, deliveries=deliveries,
                           groups=public.figure_groups(deliveries), villages=public.villages_of(deliveries),
                           needs=public.needs_of(deliveries), superseded_by=None)


@bp.get("/honor-roll/entries/<code>")
def entry(code):
    """A published entry: what a certificate's verification code resolves to."""
    found = public.entry_by_code(code)
    if found is None:
        abort(404)
    revision = found.revision
    latest = public.revision_of(revision.edition)
    deliveries = public.entry_deliveries(found)
    return render_template("honor_roll/entry.html", edition=revision.edition, revision=revision, entry=found,
                           rank=found.rank, category_name=found.category_name, deliveries=deliveries,
                           groups=public.figure_groups(deliveries), villages=public.villages_of(deliveries),
                           needs=public.needs_of(deliveries),
                           superseded_by=latest if latest.number != revision.number else None)


@bp.get("/honor-roll/verify")
def verify():
    """Type a certificate's verification code, reach its entry."""
    code = (request.args.get("code") or "").strip()
    if code:
        found = public.entry_by_code(code)
        if found is not None:
            return redirect(url_for("honor_roll.entry", code=found.code))
        flash(_("没有找到证书编号 %(code)s，请核对后重试。", code=code[:40]), "warning")
    return render_template("honor_roll/verify.html", code=code)


@bp.get("/honor-roll/entries/<code>/certificate.pdf")
def certificate(code):
    found = public.entry_by_code(code)
    if found is None:
        abort(404)
    pdf = documents.certificate_pdf(found)
    filename = f"荣誉证书-{found.revision.edition.year}-{found.code}.pdf"
    return Response(pdf, mimetype="application/pdf", headers=_attachment(filename, inline=True))


@bp.get("/honor-roll/<int:year>/roll.xlsx")
def export(year):
    found = public.find(year)
    if found is None:
        abort(404)
    the_roll = public.roll(found, request.args.get("revision", type=int))
    if the_roll is None:
        abort(404)
    return Response(documents.roll_xlsx(the_roll), mimetype=documents.MIMETYPE_XLSX,
                    headers=_attachment(documents.xlsx_filename(the_roll)))


def _attachment(filename, inline=False):
    from urllib.parse import quote

    kind = "inline" if inline else "attachment"
    return {"Content-Disposition": f"{kind}; filename=\"honor-roll\"; filename*=UTF-8''{quote(filename)}"}
