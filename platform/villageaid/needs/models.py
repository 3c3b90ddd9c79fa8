"""A need (需求), its photos and the screening rules and flags it is checked against."""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, false, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..policy import curates
from ..timeutil import local_date_today, utcnow


class NeedStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    FULLY_PLEDGED = "fully_pledged"
    IN_DELIVERY = "in_delivery"
    COMPLETED = "completed"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Category(enum.StrEnum):
    INDUSTRY = "industry"          # 产业扶贫
    EMPLOYMENT = "employment"      # 就业扶贫
    CHARITY = "charity"            # 公益扶贫
    SKILLS = "skills"              # 技能（智力）扶贫
    CONSUMPTION = "consumption"    # 消费扶贫
    VOLUNTEERING = "volunteering"  # 志愿服务


class Unit(enum.StrEnum):
    CNY_FEN = "cny_fen"
    JOBS = "jobs"
    GOODS = "goods"
    VOLUNTEER_HOURS = "volunteer_hours"


STATUS_LABELS = {
    NeedStatus.DRAFT: _l("草稿"), NeedStatus.SUBMITTED: _l("待审核"), NeedStatus.PUBLISHED: _l("征集中"),
    NeedStatus.FULLY_PLEDGED: _l("已认满"), NeedStatus.IN_DELIVERY: _l("交付中"), NeedStatus.COMPLETED: _l("已完成"),
    NeedStatus.CLOSED: _l("已结项"), NeedStatus.REJECTED: _l("未通过"), NeedStatus.WITHDRAWN: _l("已撤回"),
    NeedStatus.EXPIRED: _l("已过期"),
}
STATUS_COLORS = {
    "draft": "secondary", "submitted": "warning", "published": "success", "fully_pledged": "primary",
    "in_delivery": "info", "completed": "dark", "closed": "dark", "rejected": "danger", "withdrawn": "secondary",
    "expired": "secondary",
}
CATEGORY_LABELS = {
    Category.INDUSTRY: _l("产业"), Category.EMPLOYMENT: _l("就业"), Category.CHARITY: _l("公益"),
    Category.SKILLS: _l("技能"), Category.CONSUMPTION: _l("消费"), Category.VOLUNTEERING: _l("志愿"),
}
UNIT_LABELS = {
    Unit.CNY_FEN: _l("资金（元）"), Unit.JOBS: _l("就业岗位（个）"), Unit.GOODS: _l("物资（件）"),
    Unit.VOLUNTEER_HOURS: _l("志愿服务（小时）"),
}
UNIT_SUFFIX = {Unit.JOBS: _l("个岗位"), Unit.GOODS: _l("件"), Unit.VOLUNTEER_HOURS: _l("小时")}

# States a visitor can see; the rest are the village's and its curators' business.
PUBLIC_STATES = frozenset({NeedStatus.PUBLISHED, NeedStatus.FULLY_PLEDGED, NeedStatus.IN_DELIVERY,
                           NeedStatus.COMPLETED, NeedStatus.CLOSED, NeedStatus.EXPIRED})
# States in which a need still occupies its village's attention (used by the duplicate rule).
OPEN_STATES = frozenset({NeedStatus.SUBMITTED, NeedStatus.PUBLISHED, NeedStatus.FULLY_PLEDGED, NeedStatus.IN_DELIVERY})

MAX_PHOTOS = 6


def _in(column, enum_class):
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


class Need(db.Model):
    """需求 — one thing a village asks for, in one unit, by a deadline.

    The region codes and the pledged/delivered/verified totals are copied onto the row so that
    the public list filters and sorts on one table with indexes (DESIGN §9, NOTES: 300k rows).
    """

    __tablename__ = "need"
    __table_args__ = (
        CheckConstraint(_in("status", NeedStatus), name="status_valid"),
        CheckConstraint(_in("category", Category), name="category_valid"),
        CheckConstraint(_in("unit", Unit), name="unit_valid"),
        CheckConstraint("target IS NULL OR target > 0", name="target_positive"),
        CheckConstraint("pledged >= 0 AND delivered >= 0 AND verified >= 0", name="totals_nonnegative"),
        # The sum of live pledges never exceeds the target: the pledges feature relies on this row check.
        CheckConstraint("pledged <= COALESCE(target, 0)", name="pledged_within_target"),
        CheckConstraint("verified <= delivered", name="verified_within_delivered"),
        CheckConstraint("pledged_permille = (pledged * 1000) / COALESCE(target, 1)", name="permille_in_step"),
        CheckConstraint("households >= 0 AND poor_people >= 0 AND people >= households AND poor_people <= people",
                        name="beneficiaries_consistent"),
        CheckConstraint("wage_min_fen IS NULL OR wage_max_fen IS NULL OR wage_min_fen <= wage_max_fen",
                        name="wage_range"),
        # Only drafts (and drafts withdrawn) may be incomplete.
        CheckConstraint("status IN ('draft', 'withdrawn') OR (target IS NOT NULL AND deadline IS NOT NULL)",
                        name="complete_unless_draft"),
        Index("ix_need_village_status", "village_id", "status"),
        # One index per public sort, led by status (the list always filters on it) ...
        Index("ix_need_status_published", "status", "published_at", "id"),
        Index("ix_need_status_deadline", "status", "deadline", "id"),
        Index("ix_need_status_share", "status", "pledged_permille", "id"),
        Index("ix_need_status_people", "status", "people", "id"),
        # ... and the same per province, the filter most lists carry; narrower regions sort few rows.
        Index("ix_need_province_published", "province_code", "status", "published_at", "id"),
        Index("ix_need_province_deadline", "province_code", "status", "deadline", "id"),
        Index("ix_need_province_share", "province_code", "status", "pledged_permille", "id"),
        Index("ix_need_province_people", "province_code", "status", "people", "id"),
        Index("ix_need_prefecture_status", "prefecture_code", "status", "published_at"),
        Index("ix_need_county_status", "county_code", "status", "published_at"),
        Index("ix_need_category_status", "category", "status", "published_at", "id"),
        # status=all (every need ever published): the sorts over the published rows alone.
        Index("ix_need_public_published", "published_at", "id"),
        *(Index(f"ix_need_public_{name}", column, "id", sqlite_where=text("published_at IS NOT NULL"),
                postgresql_where=text("published_at IS NOT NULL"))
          for name, column in (("deadline", "deadline"), ("share", "pledged_permille"), ("people", "people"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    province_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    prefecture_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)  # 代发布: posted by a curator for the village

    category: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source; rendered sanitised

    # Integers in `unit`: fen, positions, pieces or hours.
    target: Mapped[int | None] = mapped_column(BigInteger)
    pledged: Mapped[int] = mapped_column(BigInteger, default=0)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    verified: Mapped[int] = mapped_column(BigInteger, default=0)
    # Share pledged in ‰, for the "least pledged" sort. Not a generated column (Alembic's SQLite batch
    # mode cannot copy those); a CHECK keeps it in step instead, so use `pledged_values()` to change pledged.
    pledged_permille: Mapped[int] = mapped_column(BigInteger, default=0)
    # Whether anyone has a live pledge to any need of the village (该村已有帮扶方): the recommendations'
    # fairness tier, copied here so that they rank from this row alone. Kept exact by the pledge
    # lifecycle (`pledges.services.sync_village_helped`) and by `needs.services.create_need`.
    village_helped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # unit == jobs
    job_title: Mapped[str | None] = mapped_column(String(80))
    wage_min_fen: Mapped[int | None] = mapped_column(BigInteger)  # monthly
    wage_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    work_location: Mapped[str | None] = mapped_column(String(120))
    job_start_date: Mapped[date | None] = mapped_column(Date)
    # unit == goods
    goods_item: Mapped[str | None] = mapped_column(String(80))

    deadline: Mapped[date | None] = mapped_column(Date)  # a date in China; the need expires after it
    households: Mapped[int] = mapped_column(Integer, default=0)
    people: Mapped[int] = mapped_column(Integer, default=0)
    poor_people: Mapped[int] = mapped_column(Integer, default=0)  # of whom 建档立卡 poor

    status: Mapped[str] = mapped_column(String(20), default=NeedStatus.DRAFT.value)
    review_note: Mapped[str | None] = mapped_column(Text)  # the curator's latest reason or comment
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    village = relationship("Village", lazy="joined", innerjoin=True)
    posted_by = relationship("User", foreign_keys=[posted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    photos = relationship("NeedPhoto", back_populates="need", order_by="NeedPhoto.position, NeedPhoto.id",
                          cascade="all, delete-orphan")
    flags = relationship("ScreeningFlag", back_populates="need", order_by="ScreeningFlag.id",
                         cascade="all, delete-orphan")

    # Labels and derived figures ----------------------------------------------------------

    @property
    def status_label(self):
        return STATUS_LABELS[NeedStatus(self.status)]

    @property
    def category_label(self):
        return CATEGORY_LABELS[Category(self.category)]

    @property
    def unit_label(self):
        return UNIT_LABELS[Unit(self.unit)]

    @property
    def region_code(self):
        """The village's 12-digit code: curator scopes are checked against it."""
        return self.village.code

    @property
    def is_public(self):
        """Once published, a need stays on the public record whatever happens to it afterwards."""
        return self.published_at is not None

    @property
    def remaining(self):
        return max((self.target or 0) - self.pledged, 0)

    def share(self, amount):
        """`amount` as a percentage of the target, 0–100, for progress bars."""
        if not self.target:
            return 0
        percent = min(100.0, round(amount * 100 / self.target, 1))
        return int(percent) if percent.is_integer() else percent

    @property
    def is_overdue(self):
        return self.deadline is not None and self.deadline < local_date_today()

    @property
    def days_left(self):
        return None if self.deadline is None else (self.deadline - local_date_today()).days

    # Who may do what (templates call these; lifecycle raises when they fail) -------------

    def is_village_member(self, user):
        return self.village.is_member(user)

    def is_editor(self, user):
        """The village's committee, or a curator of its region acting for it (代发布)."""
        return self.is_village_member(user) or curates(user, self.region_code)

    def is_reviewer(self, user):
        return curates(user, self.region_code)

    def can_view(self, user):
        return self.is_public or self.is_editor(user)

    def can_edit(self, user):
        return self.status == NeedStatus.DRAFT and self.is_editor(user)

    def can_submit(self, user):
        return self.can_edit(user)

    def can_review(self, user):
        return self.status == NeedStatus.SUBMITTED and self.is_reviewer(user)

    def can_withdraw(self, user):
        withdrawable = self.status in (NeedStatus.DRAFT, NeedStatus.SUBMITTED) or (
            self.status == NeedStatus.PUBLISHED and self.pledged == 0)
        return withdrawable and self.is_editor(user)

    def can_close(self, user):
        return self.status == NeedStatus.COMPLETED and self.is_reviewer(user)

    def __repr__(self):
        return f"<Need {self.id} {self.status} {self.title!r}>"


def pledged_values(total):
    """SET values for an UPDATE of `need.pledged` to the SQL expression `total` (e.g. Need.pledged + 5).

    The pledges feature adds with a conditional UPDATE (NOTES.md: read-check-update over-pledges):
        update(Need).where(Need.id == id, Need.pledged + q <= Need.target).values(**pledged_values(Need.pledged + q))
    """
    return {"pledged": total, "pledged_permille": (total * 1000) // Need.target}


class NeedPhoto(db.Model):
    """A photo of a need, re-encoded without metadata; its thumbnail is made by a job."""

    __tablename__ = "need_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(80))
    thumbnail: Mapped[str | None] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    need = relationship("Need", back_populates="photos")


class RuleKind(enum.StrEnum):
    KEYWORDS = "keywords"    # any of the words in the title, description or item
    CAP = "cap"              # target per beneficiary above a cap
    DUPLICATE = "duplicate"  # an open need of the same village with a near-identical title


RULE_KIND_LABELS = {RuleKind.KEYWORDS: _l("关键词"), RuleKind.CAP: _l("人均上限"), RuleKind.DUPLICATE: _l("重复需求")}


class ScreeningRule(db.Model):
    """A screening rule (the 2019 "奇葩需求" lesson): data that curators edit, never code.

    A rule flags a submission for the curator with its reason; it never rejects anything itself.
    """

    __tablename__ = "screening_rule"
    __table_args__ = (
        CheckConstraint(_in("kind", RuleKind), name="kind_valid"),
        CheckConstraint("category IS NULL OR " + _in("category", Category), name="category_valid"),
        CheckConstraint("unit IS NULL OR " + _in("unit", Unit), name="unit_valid"),
        CheckConstraint("kind <> 'cap' OR (cap IS NOT NULL AND cap > 0 AND unit IS NOT NULL)", name="cap_complete"),
        CheckConstraint("threshold IS NULL OR (threshold BETWEEN 1 AND 100)", name="threshold_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(40), unique=True)  # the built-in rules' stable name
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(20))  # None: every category
    unit: Mapped[str | None] = mapped_column(String(20))
    words: Mapped[str | None] = mapped_column(Text)  # keywords, one a line (or separated by ，、,)
    cap: Mapped[int | None] = mapped_column(BigInteger)  # per beneficiary, in `unit`
    threshold: Mapped[int | None] = mapped_column(Integer)  # % title similarity for duplicates
    reason: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def kind_label(self):
        return RULE_KIND_LABELS[RuleKind(self.kind)]

    @property
    def word_list(self):
        import re

        return [w.strip() for w in re.split(r"[\n,，、;；]+", self.words or "") if w.strip()]


class ScreeningFlag(db.Model):
    """A rule's finding on one submission, shown to the curator with its reason."""

    __tablename__ = "need_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("screening_rule.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    need = relationship("Need", back_populates="flags")
    rule = relationship("ScreeningRule")


class NeedTally(db.Model):
    """How many needs have one status (and were published once, or not) in one place, category and unit.

    Kept by triggers on `need` (needs/tally.py), never written by the application. '' in a place,
    category or unit column means "any": every need is counted in 16 rows, so each total the need list
    shows is read from one row per status.
    """

    __tablename__ = "need_tally"

    # The key, led by the filters a list always has (place, category, unit), then the statuses it sums.
    province_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    prefecture_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    published: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    needs: Mapped[int] = mapped_column(Integer)
