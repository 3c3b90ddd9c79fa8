"""政策宣传 pages: /policy lists curators' articles and the policy documents; curators write and publish."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import events_for
from ..errors import ServiceError
from ..extensions import db
from ..formutil import report_service_error
from . import lifecycle, policies, services
from .forms import ActionForm, ArticleForm
from .models import STATUS_COLORS, Article
from .text import plain_excerpt, render_article

bp = Blueprint("articles", __name__)


@bp.app_template_filter("article")
def _article(source):
    return render_article(source)


@bp.get("/policy")
def index():
    locale = get_locale()
    return render_template("articles/index.html", articles=services.published(),
                           documents=[(d, d.text(locale)) for d in policies.documents()], excerpt=plain_excerpt)


@bp.get("/policy/<slug>")
def show(slug):
    document = policies.BY_SLUG.get(slug)
    if document is not None:
        return render_template("articles/policy.html", document=document, text=document.text(get_locale()))
    article = services.by_slug(slug)
    if article is None or not article.can_view(current_user):
        abort(404)
    return render_template("articles/show.html", article=article, form=ActionForm(),
                           events=events_for(article) if article.can_edit(current_user) else [])


# Curators ------------------------------------------------------------------------------------

def _curators_only():
    if not current_user.is_curator:
        abort(403)


def _editable(article_id):
    article = db.get_or_404(Article, article_id)
    if not article.can_edit(current_user):
        abort(403)
    return article


@bp.get("/curate/articles")
@login_required
def manage():
    _curators_only()
    return render_template("articles/manage.html", articles=services.editable_by(current_user),
                           status_colors=STATUS_COLORS)


def _values(form):
    return {"title": form.title.data, "summary": form.summary.data, "body": form.body.data, "slug": form.slug.data}


@bp.route("/curate/articles/new", methods=["GET", "POST"])
@login_required
def new():
    _curators_only()
    form = ArticleForm()
    if form.validate_on_submit():
        try:
            article = services.create_article(current_user, _values(form))
            if request.form.get("publish"):
                lifecycle.publish(current_user, article)
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("文章已发布。") if article.is_public else _("草稿已保存。"), "success")
            return redirect(url_for("articles.show", slug=article.slug))
    return render_template("articles/form.html", form=form, article=None)


@bp.route("/curate/articles/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit(article_id):
    article = _editable(article_id)
    form = ArticleForm(obj=article)
    if form.validate_on_submit():
        try:
            services.update_article(current_user, article, _values(form))
        except ServiceError as exc:
            report_service_error(form, exc)
        else:
            flash(_("修改已保存。"), "success")
            return redirect(url_for("articles.show", slug=article.slug))
    return render_template("articles/form.html", form=form, article=article)


@bp.post("/curate/articles/<int:article_id>/<any(publish, withdraw):action>")
@login_required
def decide(article_id, action):
    article = _editable(article_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "publish":
            lifecycle.publish(current_user, article)
            flash(_("文章已发布。"), "success")
        else:
            lifecycle.withdraw(current_user, article, request.form.get("reason"))
            flash(_("文章已撤下。"), "success")
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("articles.show", slug=article.slug))
