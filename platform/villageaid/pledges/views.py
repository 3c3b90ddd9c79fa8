"""Pages for pledges: pledging on a need, a pledge's page for its parties, reporting and deciding on
deliveries, the pledger's list, the village's inbox, the curators' delivery queue, and /track/<code>."""
from collections import namedtuple
from functools import cache

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import String, bindparam, cast, null, select, union_all

from .. import sqlrows
from ..audit.labels import action_label
from ..audit.models import AuditEvent
from ..errors import ServiceError
from ..extensions import db
from ..needs import services as needs
from ..needs.views import need_amounts, progress_row
from ..web import local_time
from . import evidence as evidence_files
from . import lifecycle, receipts, services
from .forms import DeliveryForm, PledgeForm, ReasonForm, RetentionForm, TrackForm
from .models import (DELIVERY_STATUS_COLORS, KIND_LABELS, LIVE_STATES, PLEDGE_STATUS_COLORS, Delivery, ListedPledge,
                     Pledge, PledgeKind, PledgeStatus)

bp = Blueprint("pledges", __name__)


# Badges and links of list rows, as Python functions: f-strings of escaped values (Markup.format goes
# through string.Formatter: several times the calls).
def pledge_status_badge(p):
    color = PLEDGE_STATUS_COLORS.get(p.status, "secondary")
    return Markup(f'<span class="badge text-bg-{escape(color)}" data-pledge-status="{escape(p.status)}">'
                  f'{escape(p.status_label)}</span>')


def delivery_status_badge(d):
    color = DELIVERY_STATUS_COLORS.get(d.status, "secondary")
    return Markup(f'<span class="badge text-bg-{escape(color)}" data-delivery-status="{escape(d.status)}">'
                  f'{escape(d.status_label)}</span>')


def pledger_link_html(p):
    """Who pledged, as the public sees them; an organisation links to its page."""
    if p.organization_id is not None:
        href = url_for("organizations.show", org_id=p.organization_id)
        return Markup(f'<a href="{escape(href)}">{escape(p.public_name)}</a>')
    return escape(p.public_name)


def need_pledge_items(need, pledges):
    """The need page's list of pledges (ListedPledge), as its <li> rows: one function for the whole
    list, since calling a function from a Jinja loop costs several times the call itself, and every
    row formats two or three amounts, a date, a badge and two or three links. Each row: who pledged
    (an organisation linked), how much, the pairing it was made within, its state; its date, what was
    delivered and verified once the village accepted it, and its code — linked to the pledge's page
    for those who may open it, else to its public tracking page."""
    viewer = current_user if current_user.is_authenticated else None
    amount = need_amounts(need)
    within_pairing = escape(_("结对帮扶"))
    rows = []
    for p in pledges:
        pairing = ""
        if p.pairing_id is not None:
            href = url_for("matching.show_pairing", pairing_id=p.pairing_id)
            pairing = (f'<a class="badge text-bg-danger text-decoration-none" href="{escape(href)}" data-within-pairing>'
                       f'{within_pairing}</a> ')
        progress = ""
        if p.status != PledgeStatus.PLEDGED.value and p.is_live:
            progress = Markup(_("已交付 %(d)s，已核实 %(v)s")) % {"d": amount(p.delivered), "v": amount(p.verified)}
            progress = f"{progress} · "
        if viewer is not None and p.can_view(viewer):
            href = url_for("pledges.show", pledge_id=p.id)
        else:
            href = url_for("pledges.track", code=p.code)
        code = escape(p.code)
        rows.append(
            f'<li class="list-group-item" data-pledge="{code}">'
            f'<div class="d-flex flex-wrap justify-content-between gap-2">'
            f'<span><strong>{pledger_link_html(p)}</strong> · {escape(amount(p.quantity))}</span>'
            f'<span>{pairing}{pledge_status_badge(p)}</span></div>'
            f'<div class="small va-muted">{local_time(p.created_at, "yyyy-MM-dd")} · {progress}'
            f'<a href="{escape(href)}">{code}</a></div></li>')
    return Markup("".join(rows))


def need_ledger_rows(need, ledger):
    """The need's sums by state (services.need_ledger), each as a figure, and with a target its share
    and a bar (the `ledger_rows` name of pledges/_macros.html)."""
    amount = need_amounts(need)
    rows = []
    for label, key, css in ((_("已认捐"), "pledged", "bg-warning"), (_("村里已接受"), "accepted", "bg-primary"),
                            (_("已交付"), "delivered", "bg-info"), (_("村里已确认"), "confirmed", "bg-secondary"),
                            (_("审核员已核实"), "verified", "bg-success")):
        value, data = ledger[key], f' data-ledger-row="{key}"'
        if need.target:
            rows.append(progress_row(label, amount(value), need.share(value), css, ".45rem", data=data))
        else:
            rows.append(f'<div class="d-flex justify-content-between small"{data}><span>{escape(label)}</span>'
                        f'<span>{escape(amount(value))}</span></div>')
    return Markup(f'<div data-ledger>{"".join(rows)}</div>')


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals.update(pledge_status_badge=pledge_status_badge, delivery_status_badge=delivery_status_badge,
                                       need_pledge_items=need_pledge_items, need_ledger_rows=need_ledger_rows,
                                       pledger_link_html=pledger_link_html, pledge_status_colors=PLEDGE_STATUS_COLORS,
                                       delivery_status_colors=DELIVERY_STATUS_COLORS, pledge_kind_labels=KIND_LABELS)


def _load(pledge_id):
    """The pledge, or 404 when it does not exist or the viewer is not one of its parties."""
    pledge = services.get_visible(pledge_id, current_user)
    if pledge is None:
        abort(404)
    return pledge


def _load_delivery(delivery_id):
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or not delivery.pledge.can_view(current_user):
        abort(404)
    return delivery


def _refused(exc, back):
    """A service's refusal on a one-button action: 403 for a stranger, a message otherwise."""
    db.session.rollback()
    if exc.status == 403:
        abort(403)
    flash(str(exc), "danger")
    return redirect(back)


# Pledging ----------------------------------------------------------------------------------

def pledge_form(need, for_page=False):
    """The pledge form for `need` and the current user, with its defaults (`for_page`: on the need page)."""
    form = PledgeForm(formdata=None) if for_page else PledgeForm()
    form.setup(need, services.pledging_organizations(current_user))
    if for_page or request.method == "GET":
        form.fill(services.pledge_defaults(need, current_user))
    return form


@bp.route("/needs/<int:need_id>/pledge", methods=["GET", "POST"])
@login_required
def new(need_id):
    need = needs.get_visible(need_id, current_user) or abort(404)
    form = pledge_form(need)
    if form.validate_on_submit():
        try:
            pledge, created = lifecycle.make_pledge(current_user, need, form.values(), idempotency_key=form.token.data)
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise  # the error page says why (e.g. a village does not pledge to itself)
            form.add_errors(exc.fields)
            flash(str(exc), "danger")
        else:
            if created:
                flash(_("认捐成功！追踪码 %(code)s。村里接受后会通知您。", code=pledge.code), "success")
            else:
                flash(_("这份认捐已经提交过了（追踪码 %(code)s），没有重复认捐。", code=pledge.code), "info")
            return redirect(url_for("pledges.show", pledge_id=pledge.id))
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("pledges/new.html", need=need, form=form,
                           can_pledge=services.may_pledge(current_user, need)), 400 if request.method == "POST" else 200


# A pledge and its deliveries -----------------------------------------------------------------

def _timeline(pledge):
    """The pledge's and its deliveries' audit events, oldest first."""
    delivery_ids = [d.id for d in pledge.deliveries]
    query = select(AuditEvent).where(
        ((AuditEvent.object_type == "pledge") & (AuditEvent.object_id == pledge.id))
        | ((AuditEvent.object_type == "delivery") & AuditEvent.object_id.in_(delivery_ids or [0])))
    return db.session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)).all()


@bp.get("/pledges/<int:pledge_id>")
@login_required
def show(pledge_id):
    pledge = _load(pledge_id)
    return render_template("pledges/show.html", pledge=pledge, events=_timeline(pledge), form=ReasonForm(),
                           retention_form=RetentionForm(), track_url=_track_url(pledge))


PLEDGE_ACTIONS = {
    "accept": lambda pledge, reason: lifecycle.accept(current_user, pledge),
    "decline": lambda pledge, reason: lifecycle.decline(current_user, pledge, reason),
    "cancel": lambda pledge, reason: lifecycle.cancel(current_user, pledge, reason),
}
PLEDGE_DONE = {"accept": lambda: _("已接受认捐，已通知认捐方交付。"), "decline": lambda: _("已婉拒，这部分重新开放认捐。"),
               "cancel": lambda: _("认捐已取消。")}


@bp.post("/pledges/<int:pledge_id>/<any(accept, decline, cancel):action>")
@login_required
def act(pledge_id, action):
    pledge = _load(pledge_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    back = _back(url_for("pledges.show", pledge_id=pledge.id))
    try:
        PLEDGE_ACTIONS[action](pledge, form.reason.data)
    except ServiceError as exc:
        return _refused(exc, back)
    flash(PLEDGE_DONE[action](), "success")
    return redirect(back)


@bp.route("/pledges/<int:pledge_id>/deliveries/new", methods=["GET", "POST"])
@login_required
def report(pledge_id):
    pledge = _load(pledge_id)
    if not pledge.is_pledger(current_user):
        abort(403)
    if request.method == "GET" and not pledge.can_report(current_user):
        flash(_("该认捐现在不能登记交付：%(status)s。", status=pledge.status_label), "warning")
        return redirect(url_for("pledges.show", pledge_id=pledge.id))
    form = DeliveryForm().setup(pledge)
    if request.method == "GET":
        from ..timeutil import local_date_today

        form.delivered_on.data = local_date_today()
    if form.validate_on_submit():
        uploads = [f for f in request.files.getlist("evidence") if f and f.filename]
        try:
            lifecycle.report_delivery(current_user, pledge, form.values(), uploads=uploads)
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise
            form.add_errors(exc.fields)
            flash(str(exc), "danger")
        else:
            flash(_("交付已登记，已通知村里确认。"), "success")
            return redirect(url_for("pledges.show", pledge_id=pledge.id))
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    status = 400 if request.method == "POST" else 200
    return render_template("pledges/report.html", pledge=pledge, form=form), status


DELIVERY_ACTIONS = {
    "confirm": lambda delivery, reason: lifecycle.confirm(current_user, delivery),
    "dispute": lambda delivery, reason: lifecycle.dispute(current_user, delivery, reason),
    "verify": lambda delivery, reason: lifecycle.verify(current_user, delivery, reason),
    "reject": lambda delivery, reason: lifecycle.reject(current_user, delivery, reason),
}
DELIVERY_DONE = {"confirm": lambda: _("已确认收到，待审核员核实。"), "dispute": lambda: _("异议已提交，审核员会联系双方核查。"),
                 "verify": lambda: _("交付已核实。"), "reject": lambda: _("已驳回该交付，已通知双方。")}


@bp.post("/deliveries/<int:delivery_id>/<any(confirm, dispute, verify, reject):action>")
@login_required
def decide(delivery_id, action):
    delivery = _load_delivery(delivery_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    back = _back(url_for("pledges.show", pledge_id=delivery.pledge_id))
    try:
        DELIVERY_ACTIONS[action](delivery, form.reason.data)
    except ServiceError as exc:
        return _refused(exc, back)
    flash(DELIVERY_DONE[action](), "success")
    return redirect(back)


@bp.post("/deliveries/<int:delivery_id>/retention")
@login_required
def retention(delivery_id):
    delivery = _load_delivery(delivery_id)
    form = RetentionForm()
    back = url_for("pledges.show", pledge_id=delivery.pledge_id)
    if not form.validate_on_submit():
        flash(_("请填写仍在岗的人数。"), "danger")
        return redirect(back)
    try:
        lifecycle.report_retention(current_user, delivery, int(form.months.data), form.retained.data)
    except ServiceError as exc:
        return _refused(exc, back)
    flash(_("在岗情况已登记。"), "success")
    return redirect(back)


@bp.get("/deliveries/<int:delivery_id>/evidence/<int:evidence_id>")
@login_required
def evidence_file(delivery_id, evidence_id):
    """Evidence is for the two parties and the curators only: a transfer slip shows account numbers."""
    delivery = _load_delivery(delivery_id)
    item = next((e for e in delivery.evidence if e.id == evidence_id), None)
    path = evidence_files.path_of(item) if item is not None else None
    if path is None or not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/deliveries/<int:delivery_id>/receipt.pdf")
@login_required
def receipt(delivery_id):
    """捐赠凭证 for a verified funds delivery, for the pledger (and the region's curators)."""
    delivery = _load_delivery(delivery_id)
    if not delivery.can_download_receipt(current_user):
        abort(404 if delivery.status != "verified" else 403)
    response = current_app.response_class(receipts.render_pdf(delivery), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{receipts.receipt_number(delivery)}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _back(default):
    """Where a one-button action returns: the queue it was taken from, else the pledge's page."""
    from ..web import safe_next

    return safe_next(request.form.get("next")) or default


# Lists: the pledger's, the village's inbox, the curators' queue ------------------------------

@bp.get("/me/pledges")
@login_required
def mine():
    return render_template("pledges/mine.html", pledges=services.my_pledges(current_user))


@bp.get("/me/incoming")
@login_required
def incoming():
    if not current_user.villages:
        abort(403)
    return render_template("pledges/incoming.html", incoming=services.incoming_pledges(current_user),
                           deliveries=services.deliveries_to_confirm(current_user),
                           pledges=services.village_pledges(current_user), form=ReasonForm())


@bp.get("/curate/deliveries")
@login_required
def curate():
    if not current_user.is_curator:
        abort(403)
    return render_template("pledges/curate.html", queue=services.curator_queue(current_user), form=ReasonForm())


# Public tracking -----------------------------------------------------------------------------

def _track_url(pledge):
    return current_app.config["SITE_URL"].rstrip("/") + url_for("pledges.track", code=pledge.code)


@bp.get("/track")
def track_lookup():
    form = TrackForm(request.args)
    if form.code.data:
        code = services.normalize_code(form.code.data)
        if code is not None:
            return redirect(url_for("pledges.track", code=code))
        form.code.errors = [_("追踪码的格式是 WQ-年份-6 位字母数字，如 WQ-2026-7K3F9Q。")]
    return render_template("pledges/track_lookup.html", form=form), 400 if form.code.errors else 200


@bp.get("/track/<code>")
def track(code):
    """The pledge's whole path, without personal data: who (its public name), what, when, where it stands."""
    canonical = services.normalize_code(code)
    if canonical is not None and canonical != code:
        return redirect(url_for("pledges.track", code=canonical), 301)
    pledge = services.by_code(code)
    if pledge is None:
        return render_template("pledges/track_lookup.html", form=TrackForm(data={"code": code}), missing=True), 404
    events = [e for e in _timeline(pledge) if e.public]
    return render_template("pledges/track.html", pledge=pledge, events=events, track_url=_track_url(pledge))


# What other pages show of pledges ------------------------------------------------------------

PANEL_PLEDGES = 100  # the need page lists the latest 100


@cache
def _statements():
    """The need page's SELECTs, built once with bind parameters: building a statement and its cache
    key is most of what a small SELECT costs in SQLAlchemy (127 µs built each time, 50 µs prebuilt).
    The need page reads both within the need's own SELECT (the `needs.page_part` registrations below);
    they run on their own only for an insider's 进展 and where a need was not loaded for its page."""
    need_id = bindparam("need_id")
    return {"pledges": _pledges_statement(need_id),
            "timeline": {public_only: _timeline_statement(need_id, public_only) for public_only in (True, False)}}


def _pledges_statement(need_id):
    """The need's latest pledges, as rows of ListedPledge.COLUMNS: plain columns, not Pledge objects
    (their loading was most of what the list cost), the pairing a pledge was made within (at most
    one: the pledge is pairing_pledge's key), the pledger's and the organisation's names."""
    from ..accounts.models import User
    from ..matching.models import PairingPledge  # matching builds on pledges
    from ..organizations.models import Organization

    return (select(Pledge.id, Pledge.code, Pledge.pledger_id, Pledge.organization_id, Pledge.anonymous,
                   Pledge.quantity, Pledge.delivered, Pledge.confirmed, Pledge.verified, Pledge.status,
                   Pledge.created_at, PairingPledge.pairing_id, User.name.label("pledger_name"),
                   Organization.name.label("organization_name"))
            .outerjoin(PairingPledge, PairingPledge.pledge_id == Pledge.id)
            .join(User, User.id == Pledge.pledger_id)
            .outerjoin(Organization, Organization.id == Pledge.organization_id)
            .where(Pledge.need_id == need_id).order_by(Pledge.id.desc()).limit(PANEL_PLEDGES))


TIMELINE_PLEDGE_EVENTS = 80  # the need page shows its pledges' and deliveries' latest 80 public events
TIMELINE_COLUMNS = ("id", "at", "action", "reason", "public", "code")
TimelineEvent = namedtuple("TimelineEvent", TIMELINE_COLUMNS)


def _timeline_statement(need_id, public_only):
    """One SELECT for the need page's 进展: the need's own events (public ones only, unless the viewer
    is an insider) and the latest public events of its pledges and deliveries, each with the tracking
    code of its pledge. Rows, not AuditEvent objects: the page shows five columns and no actor."""
    columns = (AuditEvent.id, AuditEvent.at, AuditEvent.action, AuditEvent.reason, AuditEvent.public)
    own = select(*columns, cast(null(), String).label("code")).where(
        AuditEvent.object_type == "need", AuditEvent.object_id == need_id)
    if public_only:
        own = own.where(AuditEvent.public.is_(True))
    of_pledges = (select(*columns, Pledge.code).join(Pledge, Pledge.id == AuditEvent.object_id)
                  .where(AuditEvent.object_type == "pledge", Pledge.need_id == need_id, AuditEvent.public.is_(True)))
    of_deliveries = (select(*columns, Pledge.code).join(Delivery, Delivery.id == AuditEvent.object_id)
                     .join(Pledge, Pledge.id == Delivery.pledge_id)
                     .where(AuditEvent.object_type == "delivery", Delivery.need_id == need_id,
                            AuditEvent.public.is_(True)))
    others = union_all(of_pledges, of_deliveries).subquery()
    latest = select(others).order_by(others.c.id.desc()).limit(TIMELINE_PLEDGE_EVENTS).subquery()
    return union_all(own, select(latest))


def _listed_pledges(rows, need):
    return sorted((ListedPledge(row, need) for row in rows), key=lambda p: p.id, reverse=True)


def _timeline_events(rows, _need=None):
    return [TimelineEvent(id, sqlrows.timestamp(at), action, reason, bool(public), code)
            for id, at, action, reason, public, code in rows]


# The need's SELECT reads the pledges and the visitor's 进展 (its public events) as JSON rows.
needs.page_part("pledges", lambda need_id: sqlrows.rows_of(_pledges_statement(need_id), ListedPledge.COLUMNS),
                _listed_pledges)
needs.page_part("public_timeline",
                lambda need_id: sqlrows.rows_of(_timeline_statement(need_id, True), TIMELINE_COLUMNS), _timeline_events)


def panel_pledges(need):
    """The need's latest pledges (ListedPledge), newest first: what its page's SELECT read, or read now."""
    listed = needs.read_part(need, "pledges")
    if listed is None:
        listed = _listed_pledges(db.session.execute(_statements()["pledges"], {"need_id": need.id}), need)
    return listed


class _ListedLedger(dict):
    """services.need_ledger()'s sums, added up from the need's pledges when the page has all of them
    (fewer than PANEL_PLEDGES): the same figures without two aggregate SELECTs. The count of verified
    deliveries, which the page does not show, is counted if anything asks for it."""

    def __init__(self, need, pledges):
        live = [p for p in pledges if PledgeStatus(p.status) in LIVE_STATES]
        super().__init__(pledges=len(live), pledged=sum(p.quantity for p in live),
                         accepted=sum(p.quantity for p in live if p.status != PledgeStatus.PLEDGED.value),
                         delivered=sum(p.delivered for p in live), confirmed=sum(p.confirmed for p in live),
                         verified=sum(p.verified for p in live))
        self._need = need

    def __missing__(self, key):
        if key != "verified_deliveries":
            raise KeyError(key)
        self[key] = services.need_ledger(self._need)[key]
        return self[key]


def pledge_panel(need):
    """The need page's pledge section: the form, the latest pledges, the sums by state (once per request)."""
    panels = g.setdefault("pledge_panels", {})
    if need.id not in panels:
        can_pledge = services.may_pledge(current_user, need)
        pledges = panel_pledges(need)
        panels[need.id] = {
            "ledger": _ListedLedger(need, pledges) if len(pledges) < PANEL_PLEDGES else services.need_ledger(need),
            "pledges": pledges,
            "total": len(pledges) if len(pledges) < PANEL_PLEDGES else services.count_need_pledges(need),
            "can_pledge": can_pledge,
            "form": pledge_form(need, for_page=True) if can_pledge and current_user.is_authenticated else None,
        }
    return panels[need.id]


def need_timeline(need, insider):
    """The need's own events (an insider sees its non-public ones too) and the latest public events of
    its pledges and deliveries, each with its pledge's tracking code (None for the need's), oldest first."""
    events = None if insider else needs.read_part(need, "public_timeline")
    if events is None:
        events = _timeline_events(db.session.execute(_statements()["timeline"][not insider], {"need_id": need.id}))
    return sorted(events, key=lambda event: (event.at, event.id))


def need_timeline_items(need, insider):
    """The need page's 进展 as its <li> rows, from need_timeline: each event's Beijing time, its pledge's
    tracking code linked (none for the need's own), what happened, and its reason where the reader may
    see it — an insider every reason, a visitor the need's public ones. One function for the list, as
    need_pledge_items is, since a need with many pledges has up to 80 such rows."""
    events = need_timeline(need, insider)
    if not events:
        return Markup(f'<li class="list-group-item va-muted">{escape(_("暂无"))}</li>')
    links, rows = {}, []
    for e in events:
        link = ""
        if e.code:
            link = links.get(e.code)
            if link is None:
                code = escape(e.code)
                link = links[e.code] = f'<a href="{escape(url_for("pledges.track", code=e.code))}">{code}</a> · '
        reason = ""
        if e.reason and (insider or (e.public and not e.code)):
            reason = f" — {escape(e.reason)}"
        rows.append(f'<li class="list-group-item small">{escape(local_time(e.at))} · {link}'
                    f'{escape(action_label(e.action))}{reason}</li>')
    return Markup("".join(rows))


def village_pledge_summary(village):
    return {"ledger": services.ledger_by_unit(Pledge.village_id == village.id),
            "helpers": services.village_helpers(village)}


def organization_pledge_summary(org):
    return {"ledger": services.ledger_by_unit(Pledge.organization_id == org.id),
            "pledges": services.organization_pledges(org)}


@bp.app_context_processor
def _helpers():
    return {"pledge_panel": pledge_panel, "need_timeline_items": need_timeline_items,
            "village_pledge_summary": village_pledge_summary,
            "organization_pledge_summary": organization_pledge_summary,
            "PledgeKind": PledgeKind, "PledgeStatus": PledgeStatus}
