"""An article's lifecycle: draft → published ⇄ withdrawn, one table and one `transition()`."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied
from ..extensions import db
from ..timeutil import utcnow
from .models import STATUS_LABELS, Article, ArticleStatus

S = ArticleStatus

ALLOWED = {
    S.DRAFT: {S.PUBLISHED},
    S.PUBLISHED: {S.WITHDRAWN},
    S.WITHDRAWN: {S.PUBLISHED},
}


class TransitionError(Conflict):
    def __init__(self, current, target):
        current, target = ArticleStatus(current), ArticleStatus(target)
        super().__init__(_l("该文章当前为“%(status)s”，不能执行此操作。", status=STATUS_LABELS[current]))
        self.current, self.target = current, target


def check(current, target):
    if ArticleStatus(target) not in ALLOWED[ArticleStatus(current)]:
        raise TransitionError(current, target)


def transition(article, target, actor, *, action, reason=None, values=None):
    """Move `article` to `target` with a conditional UPDATE and write the audit event; the caller commits."""
    current, target = ArticleStatus(article.status), ArticleStatus(target)
    check(current, target)
    result = db.session.execute(
        update(Article).where(Article.id == article.id, Article.status == current.value)
        .values(status=target.value, status_changed_at=utcnow(), **(values or {}))
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        db.session.refresh(article)
        raise TransitionError(article.status, target)
    db.session.refresh(article)
    record(actor, article, action, from_state=current, to_state=target, reason=reason, public=True)
    return article


def _require_editor(actor, article):
    if not article.can_edit(actor):
        raise PermissionDenied(_l("只有发布地区的审核员可以修改这篇文章。"))


def publish(actor, article):
    """发布 — the article appears on /policy (first publication dates it)."""
    _require_editor(actor, article)
    check(article.status, S.PUBLISHED)
    transition(article, S.PUBLISHED, actor, action="publish_article",
               values={"published_at": article.published_at or utcnow()})
    queue.commit()
    return article


def withdraw(actor, article, reason=None):
    """撤下 — off the public list; its page answers 404 to the public until it is published again."""
    _require_editor(actor, article)
    check(article.status, S.WITHDRAWN)
    transition(article, S.WITHDRAWN, actor, action="withdraw_article", reason=(reason or "").strip() or None)
    queue.commit()
    return article
