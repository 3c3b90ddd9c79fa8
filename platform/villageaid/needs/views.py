"""Pages for needs: browse, read, post and edit, decide, photos, and the curators' review queue."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import get_domain
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from ..errors import ServiceError
from ..extensions import db
from ..formutil import options
from ..money import format_fen
from ..policy import curates
from ..regions.views import choices as region_choices
from ..reports.services import public_outcomes
from ..villages.models import Village
from ..search.services import PROBLEMS as search_problems
from . import browse, cards, documents, lifecycle, photos, screening, services
from .forms import CATEGORY_CHOICES, UNIT_CHOICES, DecisionForm, NeedForm, RuleForm
from .models import STATUS_COLORS, STATUS_LABELS, Need, NeedStatus, ScreeningRule
from .text import plain_excerpt, render_markdown

bp = Blueprint("needs", __name__)


@bp.app_template_filter("markdown")
def _markdown(source):
    return render_markdown(source)


@bp.app_template_filter("excerpt")
def _excerpt(source, length=80):
    return plain_excerpt(source, length)


CATEGORY_COLORS = {"industry": "primary", "employment": "info", "charity": "warning", "skills": "secondary",
                   "consumption": "success", "volunteering": "dark"}


def need_amount(need, value):
    """A quantity in `need`'s unit, as the pages show it: ¥1,250.00, 3 个岗位, 20 件, 8 小时. `need` is a
    need or anything with its unit, as an attribute or a key (ledger rows are dictionaries)."""
    return need_amounts(need)(value)


def need_amounts(need):
    """need_amount() for many figures of one need: its unit and the translations looked up once."""
    unit = need["unit"] if isinstance(need, dict) else need.unit
    if unit == "cny_fen":
        return format_fen
    translations = get_domain().get_translations()  # found once per request (i18n.install_fast_gettext)
    if unit == "jobs":
        def text(value):
            return translations.ungettext("%(num)s 个岗位", "%(num)s 个岗位", value)
    elif unit == "goods":
        def text(value):
            return translations.ungettext("%(num)s 件", "%(num)s 件", value)
    else:
        def text(value):
            return translations.ungettext("%(num)s 小时", "%(num)s 小时", value)
    return lambda value: text(value) % {"num": f"{value:,}"}


def need_progress(need, compact=False):
    """The need's progress: pledged, delivered and verified, each as a figure, a share of the target
    and a bar (the `progress` name of needs/_macros.html; a function, as need_amount is)."""
    amount = need_amounts(need)
    rows = "".join(
        progress_row(label, amount(value), need.share(value), css, ".35rem" if compact else ".6rem",
                     " lh-sm" if compact else "")
        for label, value, css in ((_("已认捐"), need.pledged, "bg-warning"), (_("已交付"), need.delivered, "bg-info"),
                                  (_("已核实"), need.verified, "bg-success")))
    return Markup(f'<div class="va-progress{" va-progress-compact" if compact else ""}">{rows}</div>')


def progress_row(label, figure, share, css, height, line_class="", data=""):
    """One labelled figure with its share of a target, and the bar of that share (HTML): the need's
    progress here, its ledger by state in pledges/views.py."""
    label = escape(label)
    return (f'<div class="d-flex justify-content-between small{line_class}"{data}><span>{label}</span>'
            f'<span>{escape(figure)} · {share}%</span></div>'
            f'<div class="progress mb-1" style="height: {height}" role="progressbar" aria-label="{label}" '
            f'aria-valuenow="{share}" aria-valuemin="0" aria-valuemax="100">'
            f'<div class="progress-bar {css}" style="width: {share}%"></div></div>')


def need_status_badge(need):
    """The status as a coloured badge (a function: lists call it for every row)."""
    return status_badge(need.status)


def status_badge(status, css=""):
    """A need status (its value) as a coloured badge, `css` added to its classes: for lists without Needs."""
    color = STATUS_COLORS.get(status, "secondary")
    return Markup(f'<span class="badge text-bg-{escape(color)}{css}" data-status="{escape(status)}">'
                  f'{escape(STATUS_LABELS[NeedStatus(status)])}</span>')


@bp.record_once
def _template_globals(state):
    # Globals, not a context processor: the macros in needs/_macros.html are imported without context.
    from .cards import need_card

    state.app.jinja_env.globals.update(need_status_labels=STATUS_LABELS, need_status_colors=STATUS_COLORS,
                                       category_colors=CATEGORY_COLORS, cached_need_card=need_card,
                                       need_amount=need_amount, need_status_badge=need_status_badge,
                                       need_progress=need_progress)


def _load(need_id):
    """The need, or 404 when it does not exist or the viewer may not see it."""
    need = services.get_visible(need_id, current_user)
    if need is None:
        abort(404)
    return need


# Browsing ----------------------------------------------------------------------------------

def search_redirect(endpoint):
    """The API's `q`: answered by GET /search with the same filters, needs only ("open" = published)."""
    args = {k: v for k, v in request.args.items() if k in ("q", "province", "prefecture", "county", "category",
                                                             "unit", "status", "sort", "page", "per_page") and v}
    status = args.pop("status", "open")
    if status != "all":
        args["status"] = "published" if status == "open" else status
    return redirect(url_for(endpoint, type="need", **args))


@bp.get("/needs")
def index():
    problem = None
    if request.args.get("q", "").strip():
        # Words are answered by the search index, with this page's filters and cards.
        filters, page, problem = documents.text_search(request.args)
        link_args, sorts = page.link_args, [("relevance", _("最相关"))]
        needs_cards = [cards.need_card(need, snippet=page.snippets.get(need.id)) for need in page.items]
    else:
        filters = browse.parse(request.args)
        page = browse.search(filters, heads=True)  # rows for the cards' cache, not loaded needs
        link_args, sorts = filters.query_args, []
        needs_cards = cards.render(page.items)
    province = filters.province.code if filters.province else ""
    # A municipality's districts sit in the prefecture box (they have no prefecture level).
    municipal_district = filters.county is not None and filters.prefecture is None
    prefecture = filters.prefecture.code if filters.prefecture else (filters.county.code if municipal_district else "")
    county = filters.county.code if filters.county and not municipal_district else ""
    return render_template(
        "needs/index.html", page=page, cards=needs_cards, filters=filters, link_args=link_args,
        q=request.args.get("q", "").strip(), problem=search_problems[problem]() if problem else None,
        provinces=_pairs(region_choices(None, blank=_("全部省份"))),
        prefectures=_pairs(region_choices(province, blank=_("全部地市"))) if province else [("", _("全部地市"))],
        counties=(_pairs(region_choices(prefecture, blank=_("全部区县"))) if prefecture and not municipal_district
                  else [("", _("全部区县"))]),
        selected={"province": province, "prefecture": prefecture, "county": county},
        categories=CATEGORY_CHOICES, units=UNIT_CHOICES,
        statuses=[("open", _("征集中")), ("all", _("全部（已发布过的）"))]
        + [(s, STATUS_LABELS[NeedStatus(s)]) for s in browse.STATUS_CHOICES[2:]],
        sorts=sorts + [(k, label()) for k, label in browse.SORT_LABELS.items()],
    )


def _pairs(choices):
    """(value, label) pairs of select options: what the filter form's macro loops over."""
    return [(choice.value, choice.label) for choice in choices]


@bp.get("/needs/<int:need_id>")
def show(need_id):
    need, has_outcomes = services.get_for_page(need_id, current_user) or abort(404)
    # The decision forms are for signed-in editors and curators: a visitor's page makes no CSRF token
    # (and so sets no session cookie).
    form = DecisionForm() if current_user.is_authenticated else None
    return render_template("needs/show.html", need=need, insider=need.is_editor(current_user), form=form,
                           known_outcomes=public_outcomes(need) if has_outcomes else [],
                           share_url=current_app.config["SITE_URL"].rstrip("/") + url_for("needs.show", need_id=need.id))


@bp.get("/needs/<int:need_id>/photos/<int:photo_id>")
@bp.get("/needs/<int:need_id>/photos/<int:photo_id>/<any(thumb):size>")
def photo(need_id, photo_id, size=None):
    need = _load(need_id)
    item = next((p for p in need.photos if p.id == photo_id), None)
    if item is None:
        abort(404)
    path = photos.path_of(item, thumbnail=size == "thumb")
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=86400 if need.is_public else 0)
    if not need.is_public:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# Posting and editing -----------------------------------------------------------------------

def _postable_villages():
    """Villages the user may post for: their own, plus ?village=<id> for a curator of its region."""
    villages = [v for v in current_user.villages if v.is_verified]
    asked = request.args.get("village", type=int)
    if asked and asked not in [v.id for v in villages]:
        village = db.session.get(Village, asked)
        if village is not None and services.can_post_for(current_user, village):
            villages.insert(0, village)
    return villages


def _uploads():
    return [f for f in request.files.getlist("photos") if f and f.filename]


@bp.route("/needs/new", methods=["GET", "POST"])
@login_required
def new():
    villages = _postable_villages()
    if not villages:
        return render_template("needs/cannot_post.html"), 403
    form = NeedForm()
    form.village_id.choices = options([(v.id, f"{v.name}（{v.place_name}）") for v in villages])
    if request.method == "GET":
        form.village_id.data = villages[0].id
    if form.validate_on_submit():
        chosen = form.village_id.data if form.village_id.data is not None else villages[0].id
        village = next((v for v in villages if v.id == chosen), None) or abort(403)
        try:
            need = services.create_need(current_user, village, form.values(), uploads=_uploads())
        except ServiceError as exc:
            db.session.rollback()
            form.add_errors(exc.fields)
            flash(str(exc), "danger")
        else:
            return _after_save(need, form)
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("needs/form.html", form=form, need=None, villages=villages)


@bp.route("/needs/<int:need_id>/edit", methods=["GET", "POST"])
@login_required
def edit(need_id):
    need = _load(need_id)
    if not need.can_edit(current_user):
        abort(403)
    form = NeedForm.for_need(need) if request.method == "GET" else NeedForm()
    form.village_id.choices = options([(need.village_id, need.village.name)])
    form.remove_photos.choices = [(p.id, str(p.id)) for p in need.photos]
    if form.validate_on_submit():
        try:
            services.update_need(current_user, need, form.values(), uploads=_uploads(),
                                 remove_photo_ids=form.remove_photos.data or [])
        except ServiceError as exc:
            db.session.rollback()
            form.add_errors(exc.fields)
            flash(str(exc), "danger")
        else:
            return _after_save(need, form)
    elif request.method == "POST":
        flash(_("请更正标出的项目。"), "danger")
    return render_template("needs/form.html", form=form, need=need, villages=[need.village])


def _after_save(need, form):
    """Saved as a draft; "提交审核" also submits, and a refused submission shows why on the form."""
    if form.action.data != "submit":
        flash(_("草稿已保存。"), "success")
        return redirect(url_for("needs.show", need_id=need.id))
    try:
        lifecycle.submit(current_user, need)
    except ServiceError as exc:
        db.session.rollback()
        form = NeedForm.for_need(need, formdata=None)
        form.village_id.choices = options([(need.village_id, need.village.name)])
        form.remove_photos.choices = [(p.id, str(p.id)) for p in need.photos]
        form.add_errors(exc.fields)
        flash(_("草稿已保存，但还不能提交：%(reason)s", reason=str(exc)), "warning")
        return render_template("needs/form.html", form=form, need=need, villages=[need.village]), 400
    flash(_("已提交审核。所在地区的审核员审核后会通知您。"), "success")
    return redirect(url_for("needs.show", need_id=need.id))


# Decisions ---------------------------------------------------------------------------------

ACTIONS = {
    "submit": lambda need, reason: lifecycle.submit(current_user, need),
    "approve": lambda need, reason: lifecycle.approve(current_user, need),
    "reject": lambda need, reason: lifecycle.reject(current_user, need, reason),
    "send-back": lambda need, reason: lifecycle.send_back(current_user, need, reason),
    "withdraw": lambda need, reason: lifecycle.withdraw(current_user, need, reason),
    "close": lambda need, reason: lifecycle.close(current_user, need, reason),
}
DONE = {
    "submit": lambda: _("已提交审核。"), "approve": lambda: _("已通过，需求已公开发布。"),
    "reject": lambda: _("已驳回。"), "send-back": lambda: _("已退回修改。"),
    "withdraw": lambda: _("需求已撤回。"), "close": lambda: _("已结项。"),
}


@bp.post("/needs/<int:need_id>/<any(submit, approve, reject, 'send-back', withdraw, close):action>")
@login_required
def decide(need_id, action):
    need = _load(need_id)
    if not (need.is_editor(current_user) or need.is_reviewer(current_user)):
        abort(403)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ACTIONS[action](need, form.reason.data)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc), "danger")
    else:
        flash(DONE[action](), "success")
    back = request.form.get("next")
    if back == "review" and current_user.is_curator:
        return redirect(url_for("needs.review"))
    return redirect(url_for("needs.show", need_id=need.id))


# Curators: the review queue and the screening rules ----------------------------------------

@bp.get("/needs/mine")
@login_required
def mine():
    """The needs of the viewer's villages in every state, drafts and those sent back first."""
    needs = services.my_drafts(current_user)
    order = {NeedStatus.DRAFT: 0, NeedStatus.SUBMITTED: 1}
    needs = sorted(needs, key=lambda n: (order.get(NeedStatus(n.status), 2), -n.id))
    return render_template("needs/mine.html", needs=needs)


@bp.get("/curate/needs")
@login_required
def review():
    if not current_user.is_curator:
        abort(403)
    return render_template("needs/review.html", needs=services.review_queue(current_user), form=DecisionForm())


@bp.route("/curate/screening", methods=["GET", "POST"])
@bp.route("/curate/screening/<int:rule_id>", methods=["GET", "POST"])
@login_required
def rules(rule_id=None):
    if not current_user.is_curator:
        abort(403)
    rule = db.get_or_404(ScreeningRule, rule_id) if rule_id else None
    form = RuleForm(obj=rule) if rule and request.method == "GET" else RuleForm()
    if form.validate_on_submit():
        try:
            screening.save_rule(current_user, rule, form.values())
        except ServiceError as exc:
            db.session.rollback()
            for name, message in exc.fields.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
            flash(str(exc), "danger")
        else:
            flash(_("筛查规则已保存。"), "success")
            return redirect(url_for("needs.rules"))
    return render_template("needs/rules.html", rules=screening.all_rules(), form=form, rule=rule,
                           categories=CATEGORY_CHOICES)


def can_post_here(village):
    """Template helper: may the current user post a need for `village`?"""
    return current_user.is_authenticated and services.can_post_for(current_user, village)


@bp.app_context_processor
def _helpers():
    return {"can_post_need_for": can_post_here, "curates": lambda code: curates(current_user, code)}
