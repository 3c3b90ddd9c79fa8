"""政策宣传 — articles curators publish (policy explained, campaign news)."""
import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..policy import curates
from ..timeutil import utcnow


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # taken off the public list; may be published again


STATUS_LABELS = {ArticleStatus.DRAFT: _l("草稿"), ArticleStatus.PUBLISHED: _l("已发布"),
                 ArticleStatus.WITHDRAWN: _l("已撤下")}
STATUS_COLORS = {"draft": "secondary", "published": "success", "withdrawn": "warning"}


class Article(db.Model):
    """An article in Markdown, rendered sanitised; its region is its author's curator scope (None: national)."""

    __tablename__ = "article"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="status_valid"),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_once"),
        Index("ix_article_status_published", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    status: Mapped[str] = mapped_column(String(20), default=ArticleStatus.DRAFT.value)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first publication
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    author = relationship("User")
    region = relationship("Region")

    @property
    def status_label(self):
        return STATUS_LABELS[ArticleStatus(self.status)]

    @property
    def is_public(self):
        return self.status == ArticleStatus.PUBLISHED

    def can_edit(self, user):
        """Curators whose scope holds the article's region; national articles: national curators and admins."""
        if self.region_code is None:
            return getattr(user, "is_authenticated", False) and (user.is_admin or "" in user.curator_scopes)
        return curates(user, self.region_code)

    def can_view(self, user):
        return self.is_public or self.can_edit(user)

    def can_publish(self, user):
        return self.status != ArticleStatus.PUBLISHED and self.can_edit(user)

    def can_withdraw(self, user):
        return self.status == ArticleStatus.PUBLISHED and self.can_edit(user)
