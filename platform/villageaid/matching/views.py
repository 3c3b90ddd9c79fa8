"""Pages for matchmaking: recommendations, preferences, invitations, pairings and their yearly reports,
and the admins' East-West pairing table."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from ..audit.services import events_for
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..formutil import options, report_service_error
from ..needs import services as needs
from ..organizations.models import Organization
from ..regions import services as regions
from ..regions.models import Level, Region
from ..regions.views import choices as region_choices
from ..timeutil import local_date_today
from ..villages.models import Village
from . import lifecycle, recommend, services
from .forms import (DeclinePairingForm, DeleteRuleForm, EndPairingForm, InviteForm, PairingForm, PreferencesForm,
                    ReplyForm, ReportForm, RuleForm)
from .models import PAIRING_COLORS, NeedInvitation, PairingRule

bp = Blueprint("matching", __name__)

PER_PAGE = 20
MAX_PAGE = 25  # 500 recommendations deep is as far as anyone reads


@bp.record_once
def _template_globals(state):
    # Globals, so that the sections included in the needs, villages and organisations pages need no view changes.
    state.app.jinja_env.globals.update(need_matching=need_matching, reason_badges=reason_badges,
                                       recommendation_items=recommendation_items,
                                       village_pairings=services.public_pairings_of_village,
                                       organization_pairings=services.public_pairings_of_organization,
                                       pairing_colors=PAIRING_COLORS, pairing_actions=pairing_actions)


REASON_STYLES = {"invited": "text-bg-warning", "paired": "text-bg-danger", "pairing": "text-bg-danger",
                 "preference": "text-bg-info", "fairness": "text-bg-success"}  # the rest: light with a border


def reason_badges(items):
    """Recommendation reasons (recommend.Reason) as a list of badges."""
    badges = "".join(
        f'<li class="list-inline-item"><span class="badge {REASON_STYLES.get(r.code, "text-bg-light border")} fw-normal"'
        f' data-reason="{escape(r.code)}">{escape(r.text)}</span></li>' for r in items)
    return Markup(f'<ul class="list-inline mb-0 va-reasons" data-reasons>{badges}</ul>')


def recommendation_items(result):
    """The recommendations page's cards (<li>), one function for the page: a Jinja loop calling the
    badge, amount and link helpers for each of 20 cards cost more than building the rows here. Each
    card: the need's category and village, its rank and title, why it is recommended; what it still
    lacks of its target, its deadline, and a link to pledge on its page."""
    from ..needs.views import CATEGORY_COLORS, need_amounts

    lacks, view_and_pledge = escape(_("尚缺")), escape(_("查看并认捐"))
    deadline_text = _("截止 %(date)s")  # translated once, filled in for each card
    labels = {}  # category → its badge's text, translated once a page
    first = (result.page - 1) * result.per_page + 1
    cards = []
    for rank, r in enumerate(result.items, start=first):
        need = r.need
        amount = need_amounts(need)
        link = escape(url_for("needs.show", need_id=need.id))
        village = need.village
        deadline = escape(deadline_text % {"date": need.deadline.isoformat()})
        label = labels.get(need.category) or labels.setdefault(need.category, escape(need.category_label))
        cards.append(
            f'<li class="card shadow-sm mb-3" data-need-id="{need.id}"><div class="card-body"><div class="row g-3">'
            f'<div class="col-md-8"><div class="small mb-1">'
            f'<span class="badge text-bg-{CATEGORY_COLORS.get(need.category, "light")}">{label}</span> '
            f'<span class="va-muted">{escape(village.name)} · {escape(village.place_name)}</span></div>'
            f'<h2 class="h6 mb-2"><span class="va-muted me-1">{rank}.</span><a href="{link}" data-need-link>'
            f'{escape(need.title)}</a></h2>{reason_badges(r.reasons)}</div>'
            f'<div class="col-md-4"><div class="small"><span class="va-muted">{lacks}</span> '
            f'<strong>{escape(amount(need.remaining))}</strong> '
            f'<span class="va-muted">/ {escape(amount(need.target or 0))}</span></div>'
            f'<div class="small va-muted mb-2">{deadline}</div>'
            f'<a class="btn btn-primary btn-sm" href="{link}">{view_and_pledge}</a></div></div></div></li>')
    return Markup("".join(cards))


def need_matching(need):
    """What the need page's "推荐的帮扶方" section shows the village and its curators, or None for others."""
    if not (current_user.is_authenticated and need.is_editor(current_user)):
        return None
    can_invite = lifecycle.can_invite(current_user, need)
    return {
        "can_invite": can_invite,
        "invitations": services.invitations_of_need(need),
        "suggestions": recommend.organizations_for(need, limit=8) if can_invite else [],
        "form": InviteForm(), "reply_form": ReplyForm(),
    }


def pairing_actions(user, village=None, org=None):
    """What a signed-in visitor of a village or organisation page may do about pairing with it."""
    if not getattr(user, "is_authenticated", False):
        return []
    if village is not None and village.is_verified:
        return [(o, services.live_pairing(o, village)) for o in services.acting_organizations(user)]
    if org is not None and org.is_verified:
        return [(v, services.live_pairing(org, v)) for v in services.villages_of(user)]
    return []


# Recommendations -----------------------------------------------------------------------------

def _chosen_org(orgs):
    wanted = request.args.get("org", type=int)
    if wanted is None:
        return orgs[0]
    return next((o for o in orgs if o.id == wanted), None) or abort(404)


@bp.get("/me/recommendations")
@login_required
def recommendations():
    orgs = services.acting_organizations(current_user)
    if not orgs:
        return render_template("matching/no_organization.html", pending=[o for o in current_user.organizations])
    org = _chosen_org(orgs)
    page = max(1, min(request.args.get("page", 1, type=int), MAX_PAGE))
    result = recommend.needs_for(org, page=page, per_page=PER_PAGE, listed=True)
    # The ranking has read the organisation's preference and pending invitations: the page reuses them.
    pending = result.profile.invitations
    invitations = services.pending_invitations(org) if page == 1 and pending else []
    return render_template("matching/recommendations.html", orgs=orgs, org=org, result=result, invitations=invitations,
                           preference=result.profile.preference, reply_form=ReplyForm() if invitations else None,
                           max_page=MAX_PAGE)


def _member_org(org_id):
    org = db.get_or_404(Organization, org_id)
    if not org.is_member(current_user):
        abort(403)
    return org


def _whole(name):
    """四川省（全省）, 北京市（全市）, 西藏自治区（全区） — a province as a whole, in its own words."""
    if name.endswith("市"):
        return _("%(province)s（全市）", province=name)
    if name.endswith("区"):
        return _("%(province)s（全区）", province=name)
    return _("%(province)s（全省）", province=name)


def _region_options():
    """Provinces with their prefectures, for the preferences' region list."""
    provinces = regions.children(None)
    prefectures = db.session.scalars(db.select(Region).where(Region.level == Level.PREFECTURE).order_by(Region.code)).all()
    by_province = {}
    for p in prefectures:
        by_province.setdefault(p.parent_code, []).append(p)
    groups = {}
    for province in provinces:
        rows = [(province.code, _whole(province.name))]
        rows += [(p.code, p.name) for p in by_province.get(province.code, [])]
        groups[province.name] = options(rows)
    return groups


@bp.route("/helpers/<int:org_id>/preferences", methods=["GET", "POST"])
@login_required
def preferences(org_id):
    org = _member_org(org_id)
    form = PreferencesForm()
    form.region_codes.choices = _region_options()
    if request.method == "GET":
        form.fill(services.preference_of(org))
    if form.validate_on_submit():
        try:
            services.save_preferences(current_user, org, categories=form.categories.data or [],
                                      region_codes=form.region_codes.data or [], budget_min_fen=form.parsed_min,
                                      budget_max_fen=form.parsed_max,
                                      job_types=services.clean_job_types(form.job_types.data),
                                      follow_pairing=form.follow_pairing.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("帮扶偏好已保存，推荐已按新偏好排序。"), "success")
            return redirect(url_for("matching.recommendations", org=org.id))
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("matching/preferences.html", org=org, form=form)


# Invitations ---------------------------------------------------------------------------------

@bp.post("/needs/<int:need_id>/invitations")
@login_required
def invite(need_id):
    need = needs.get_visible(need_id, current_user) or abort(404)
    if not need.is_editor(current_user):
        abort(403)
    form = InviteForm()
    if not form.validate_on_submit():
        abort(400)
    org = db.session.get(Organization, form.organization_id.data) or abort(404)
    try:
        lifecycle.invite(current_user, need, org, form.message.data)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(_("已邀请%(org)s。对方会在消息和推荐中看到邀请。", org=org.name), "success")
    return redirect(url_for("needs.show", need_id=need.id, _anchor="matching"))


INVITATION_ACTIONS = {
    "accept": (lambda user, inv, text: lifecycle.accept_invitation(user, inv, text), lambda: _("已接受邀请。请在需求页认捐。")),
    "decline": (lambda user, inv, text: lifecycle.decline_invitation(user, inv, text), lambda: _("已婉拒邀请。")),
    "withdraw": (lambda user, inv, text: lifecycle.withdraw_invitation(user, inv, text), lambda: _("已撤回邀请。")),
}


@bp.post("/invitations/<int:invitation_id>/<any(accept, decline, withdraw):action>")
@login_required
def answer_invitation(invitation_id, action):
    invitation = db.get_or_404(NeedInvitation, invitation_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        abort(400)
    run, done = INVITATION_ACTIONS[action]
    try:
        run(current_user, invitation, form.reply.data)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(done(), "success")
    if action == "accept":
        return redirect(url_for("needs.show", need_id=invitation.need_id))
    if action == "withdraw":
        return redirect(url_for("needs.show", need_id=invitation.need_id, _anchor="matching"))
    return redirect(url_for("matching.recommendations", org=invitation.organization_id))


# Pairings ------------------------------------------------------------------------------------

@bp.get("/me/pairings")
@login_required
def my_pairings():
    return render_template("matching/my_pairings.html", pairings=services.pairings_of_user(current_user))


@bp.route("/pairings/new", methods=["GET", "POST"])
@login_required
def propose():
    org = db.session.get(Organization, request.args.get("org", type=int) or 0)
    village = db.session.get(Village, request.args.get("village", type=int) or 0)
    if org is None or village is None:
        abort(404)
    side = lifecycle.side_for(current_user, org, village, request.values.get("side") or None)
    if side is None:
        abort(403)
    form = PairingForm()
    if request.method == "GET":
        form.start_date.data = local_date_today()
        form.side.data = side.value
    if form.validate_on_submit():
        try:
            pairing = lifecycle.propose_pairing(current_user, org, village, plan=form.plan.data,
                                                start_date=form.start_date.data, side=side)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("结对申请已发出，等待对方确认。"), "success")
            return redirect(url_for("matching.show_pairing", pairing_id=pairing.id))
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("matching/propose.html", form=form, org=org, village=village, side=side,
                           existing=services.live_pairing(org, village))


def _load_pairing(pairing_id):
    return services.get_visible_pairing(pairing_id, current_user) or abort(404)


@bp.get("/pairings/<int:pairing_id>")
def show_pairing(pairing_id):
    pairing = _load_pairing(pairing_id)
    insider = pairing.is_party(current_user)
    return render_template("matching/pairing.html", pairing=pairing, insider=insider,
                           events=events_for(pairing, public_only=not insider), today=local_date_today(),
                           end_form=EndPairingForm(), answer_form=DeclinePairingForm(),
                           contributions=services.contributions(pairing))


PAIRING_ACTIONS = {
    "accept": (lambda user, p, form: lifecycle.accept_pairing(user, p), lambda: _("结对已确认。")),
    "decline": (lambda user, p, form: lifecycle.decline_pairing(user, p, form.reason.data), lambda: _("已婉拒结对申请。")),
    "withdraw": (lambda user, p, form: lifecycle.withdraw_pairing(user, p), lambda: _("已撤回结对申请。")),
    "end": (lambda user, p, form: lifecycle.end_pairing(user, p, form.reason.data), lambda: _("结对已结束。")),
}


@bp.post("/pairings/<int:pairing_id>/<any(accept, decline, withdraw, end):action>")
@login_required
def decide_pairing(pairing_id, action):
    pairing = _load_pairing(pairing_id)
    form = EndPairingForm() if action == "end" else DeclinePairingForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(str(form.reason.errors[0]) if form.reason.errors else _("请更正标出的项目。"), "danger")
        return redirect(url_for("matching.show_pairing", pairing_id=pairing.id))
    run, done = PAIRING_ACTIONS[action]
    try:
        run(current_user, pairing, form)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(done(), "success")
    return redirect(url_for("matching.show_pairing", pairing_id=pairing.id))


@bp.route("/pairings/<int:pairing_id>/reports/<int:year>", methods=["GET", "POST"])
def report(pairing_id, year):
    pairing = _load_pairing(pairing_id)
    if year not in pairing.years(local_date_today()):
        abort(404)
    existing = services.report_of(pairing, year)
    editable = current_user.is_authenticated and pairing.can_report(current_user)
    if request.method == "POST" and not editable:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        abort(403)
    if existing is None and not editable:
        abort(404)
    form = ReportForm() if editable else None
    if editable and request.method == "GET" and existing:
        form.summary.data = existing.summary
    if editable and form.validate_on_submit():
        try:
            lifecycle.write_report(current_user, pairing, year, form.summary.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("%(year)s 年度帮扶报告已保存。", year=year), "success")
            return redirect(url_for("matching.report", pairing_id=pairing.id, year=year))
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("matching/report.html", pairing=pairing, year=year, report=existing, form=form,
                           contributions=services.contributions(pairing, year))


# The East-West pairing table (admins) ----------------------------------------------------------

def _admin_only():
    if not current_user.is_admin:
        abort(403)


def _fill_rule_choices(form):
    form.helper_province.choices = region_choices(None, blank=_("请选择省份"))
    form.helped_province.choices = region_choices(None, blank=_("请选择省份"))
    for province, prefecture in ((form.helper_province, form.helper_prefecture),
                                 (form.helped_province, form.helped_prefecture)):
        prefecture.choices = region_choices(province.data, blank=_("（全省）")) if province.data \
            else options([("", _("（全省）"))])


@bp.route("/curate/pairing-rules", methods=["GET", "POST"])
@login_required
def rules():
    _admin_only()
    form = RuleForm()
    _fill_rule_choices(form)
    if form.validate_on_submit():
        try:
            rule = services.add_rule(current_user, helper_province=form.helper_province.data,
                                     helper_prefecture=form.helper_prefecture.data or None,
                                     helped_province=form.helped_province.data,
                                     helped_prefecture=form.helped_prefecture.data or None, source=form.source.data)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("已添加：%(helper)s帮扶%(helped)s。", helper=rule.helper_name, helped=rule.helped_name), "success")
            return redirect(url_for("matching.rules"))
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("matching/rules.html", form=form, rules=services.pairing_rules(), delete_form=DeleteRuleForm())


@bp.post("/curate/pairing-rules/<int:rule_id>/delete")
@login_required
def delete_rule(rule_id):
    _admin_only()
    rule = db.get_or_404(PairingRule, rule_id)
    form = DeleteRuleForm()
    if not form.validate_on_submit():
        abort(400)
    name = f"{rule.helper_name} → {rule.helped_name}"
    services.delete_rule(current_user, rule, form.reason.data)
    flash(_("已删除：%(rule)s", rule=name), "success")
    return redirect(url_for("matching.rules"))
