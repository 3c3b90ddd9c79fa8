"""光荣榜 — the 10·17 honor roll: editions, their categories, computed candidates, objections during
公示, and the frozen snapshots (revisions) a publication leaves behind.

Working data (`HonorRollCandidate` and the deliveries behind each one) is recomputed and curated
freely while an edition is a draft or in notice. Publishing copies it into a revision
(`HonorRollRevision`, `HonorRollEntry`, `HonorRollEntryDelivery`) and seals it; database triggers
(below) refuse any UPDATE or DELETE of a sealed revision and its rows, whoever issues it — the ORM,
a migration or someone at a SQL prompt. A correction is a new revision with a public change note.
"""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (DDL, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, event)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..needs.models import CATEGORY_LABELS, Category
from ..policy import curates
from ..timeutil import utcnow


class EditionStatus(enum.StrEnum):
    DRAFT = "draft"          # candidates are computed and curated
    NOTICE = "notice"        # 公示: the draft roll is public and anyone may object
    PUBLISHED = "published"  # frozen in a sealed revision; corrections add revisions


class HonoreeKind(enum.StrEnum):
    ENTERPRISE = "enterprise"  # 民营企业 (verified)
    NGO = "ngo"                # 社会组织 (verified)
    INDIVIDUAL = "individual"  # 爱心个人 who agreed to be named


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"        # the objection was right: the roll was changed
    DISMISSED = "dismissed"  # checked and found unfounded


class ComputationStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


EDITION_STATUS_LABELS = {EditionStatus.DRAFT: _l("草稿"), EditionStatus.NOTICE: _l("公示中"),
                         EditionStatus.PUBLISHED: _l("已发布")}
EDITION_STATUS_COLORS = {"draft": "secondary", "notice": "warning", "published": "success"}
HONOREE_KIND_LABELS = {HonoreeKind.ENTERPRISE: _l("民营企业"), HonoreeKind.NGO: _l("社会组织"),
                       HonoreeKind.INDIVIDUAL: _l("爱心个人")}
OBJECTION_STATUS_LABELS = {ObjectionStatus.OPEN: _l("待答复"), ObjectionStatus.UPHELD: _l("异议成立，已更正"),
                           ObjectionStatus.DISMISSED: _l("经核查，异议不成立")}

# The categories every edition starts with (admins add more).
DEFAULT_CATEGORIES = [
    (_l("先进民营企业"), HonoreeKind.ENTERPRISE, 20),
    (_l("优秀社会组织"), HonoreeKind.NGO, 10),
    (_l("爱心个人"), HonoreeKind.INDIVIDUAL, 10),
]
# Default weights, in points: per 万元 (1,000,000 fen) of funds, per job, per village, per poor person.
DEFAULT_WEIGHTS = {"weight_funds": 10, "weight_jobs": 5, "weight_villages": 20, "weight_beneficiaries": 1}
NOTICE_DAYS = 7


def _in(column, enum_class):
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


class HonorRollEdition(db.Model):
    """One year's roll, e.g. "2026年全国扶贫日 万企帮万村光荣榜", counting help verified in its period."""

    __tablename__ = "honor_roll_edition"
    __table_args__ = (
        CheckConstraint(_in("status", EditionStatus), name="status_valid"),
        CheckConstraint("period_start <= period_end", name="period_in_order"),
        CheckConstraint("notice_days BETWEEN 1 AND 60", name="notice_days_range"),
        CheckConstraint("weight_funds >= 0 AND weight_jobs >= 0 AND weight_villages >= 0 AND weight_beneficiaries >= 0",
                        name="weights_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)  # dates in China, both inclusive
    period_end: Mapped[date] = mapped_column(Date)
    notice_days: Mapped[int] = mapped_column(Integer, default=NOTICE_DAYS)
    publish_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # 10-17 00:00 in China, stored in UTC
    weight_funds: Mapped[int] = mapped_column(Integer, default=DEFAULT_WEIGHTS["weight_funds"])
    weight_jobs: Mapped[int] = mapped_column(Integer, default=DEFAULT_WEIGHTS["weight_jobs"])
    weight_villages: Mapped[int] = mapped_column(Integer, default=DEFAULT_WEIGHTS["weight_villages"])
    weight_beneficiaries: Mapped[int] = mapped_column(Integer, default=DEFAULT_WEIGHTS["weight_beneficiaries"])
    status: Mapped[str] = mapped_column(String(20), default=EditionStatus.DRAFT.value)
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the last finished computation
    notice_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notice_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the first publication
    hold_reason: Mapped[str | None] = mapped_column(Text)  # why the scheduled publication waits
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    categories = relationship("HonorRollCategory", back_populates="edition", order_by="HonorRollCategory.position",
                              cascade="all, delete-orphan")
    revisions = relationship("HonorRollRevision", back_populates="edition", order_by="HonorRollRevision.number")

    @property
    def status_label(self):
        return EDITION_STATUS_LABELS[EditionStatus(self.status)]

    @property
    def is_public(self):
        return self.status != EditionStatus.DRAFT

    @property
    def weights(self):
        return {name: getattr(self, name) for name in DEFAULT_WEIGHTS}

    def __repr__(self):
        return f"<HonorRollEdition {self.year} {self.status}>"


class HonorRollCategory(db.Model):
    """A category of the roll: who may be in it, which help counts, and how many are honored."""

    __tablename__ = "honor_roll_category"
    __table_args__ = (
        CheckConstraint(_in("honoree_kind", HonoreeKind), name="honoree_kind_valid"),
        CheckConstraint("need_category IS NULL OR " + _in("need_category", Category), name="need_category_valid"),
        CheckConstraint("quota BETWEEN 1 AND 500", name="quota_range"),
        UniqueConstraint("edition_id", "name", name="uq_honor_roll_category_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_edition.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    honoree_kind: Mapped[str] = mapped_column(String(20))
    need_category: Mapped[str | None] = mapped_column(String(20))  # only help of this kind counts; None: all
    quota: Mapped[int] = mapped_column(Integer, default=10)
    position: Mapped[int] = mapped_column(Integer, default=0)

    edition = relationship("HonorRollEdition", back_populates="categories")

    @property
    def kind_label(self):
        return HONOREE_KIND_LABELS[HonoreeKind(self.honoree_kind)]

    @property
    def need_category_label(self):
        return CATEGORY_LABELS[Category(self.need_category)] if self.need_category else None


class HonorRollComputation(db.Model):
    """One run of the candidates job, with its progress (steps: one per category, then writing)."""

    __tablename__ = "honor_roll_computation"
    __table_args__ = (CheckConstraint(_in("status", ComputationStatus), name="status_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_edition.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default=ComputationStatus.QUEUED.value)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    deliveries_counted: Mapped[int] = mapped_column(Integer, default=0)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    edition = relationship("HonorRollEdition")

    @property
    def is_finished(self):
        return self.status in (ComputationStatus.DONE, ComputationStatus.FAILED)


class HonorRollCandidate(db.Model):
    """A candidate of one category: the figures the job computed and what curators decided about it.

    `position` is its place by the scoring rule among every candidate of the category (1 = best);
    who is honored follows from it, the exclusions and the category's quota. The figures are the
    sums of the deliveries in `deliveries`, which the job writes with them.
    """

    __tablename__ = "honor_roll_candidate"
    __table_args__ = (
        CheckConstraint("(organization_id IS NULL) <> (user_id IS NULL)", name="one_honoree"),
        CheckConstraint("funds_fen >= 0 AND jobs_filled >= 0 AND jobs_retained BETWEEN 0 AND jobs_filled AND "
                        "villages_helped >= 0 AND beneficiaries >= 0 AND score >= 0", name="figures_nonnegative"),
        CheckConstraint("NOT excluded OR exclusion_reason IS NOT NULL", name="exclusion_has_reason"),
        UniqueConstraint("category_id", "organization_id", name="uq_honor_roll_candidate_org"),
        UniqueConstraint("category_id", "user_id", name="uq_honor_roll_candidate_user"),
        Index("ix_honor_roll_candidate_category_position", "category_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_edition.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_category.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str | None] = mapped_column(String(12))  # the organisation's, for regional curators

    funds_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_filled: Mapped[int] = mapped_column(Integer, default=0)
    jobs_retained: Mapped[int] = mapped_column(Integer, default=0)  # of them, still employed after 3 months
    villages_helped: Mapped[int] = mapped_column(Integer, default=0)
    beneficiaries: Mapped[int] = mapped_column(Integer, default=0)  # registered poor people of the needs helped
    deliveries_count: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[int] = mapped_column(BigInteger, default=0)  # hundredths of a point
    first_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    position: Mapped[int] = mapped_column(Integer)
    qualifies: Mapped[bool] = mapped_column(Boolean, default=True)  # False: kept for its curation only

    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    excluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    excluded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    citation: Mapped[str | None] = mapped_column(Text)  # 事迹
    citation_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    citation_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    edition = relationship("HonorRollEdition")
    category = relationship("HonorRollCategory", lazy="joined", innerjoin=True)
    organization = relationship("Organization")
    user = relationship("User", foreign_keys=[user_id])
    deliveries = relationship("HonorRollCandidateDelivery", back_populates="candidate",
                              order_by="HonorRollCandidateDelivery.delivery_id", cascade="all, delete-orphan",
                              passive_deletes=True)

    def can_curate(self, user):
        """National curators and admins curate every candidate; a regional curator those of the region."""
        return can_manage(user) or (self.region_code is not None and curates(user, self.region_code))


class HonorRollCandidateDelivery(db.Model):
    """A verified delivery behind a candidate's figures, as the job counted it."""

    __tablename__ = "honor_roll_candidate_delivery"
    __table_args__ = (UniqueConstraint("candidate_id", "delivery_id", name="uq_honor_roll_candidate_delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_candidate.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(BigInteger)
    retained_3m: Mapped[int | None] = mapped_column(Integer)

    candidate = relationship("HonorRollCandidate", back_populates="deliveries")
    delivery = relationship("Delivery")


class HonorRollObjection(db.Model):
    """异议 — an objection filed during 公示, about one candidate or the roll as a whole.

    The objector's name and contact are for the curators only; the text, the answer and the
    outcome are public.
    """

    __tablename__ = "honor_roll_objection"
    __table_args__ = (
        CheckConstraint(_in("status", ObjectionStatus), name="status_valid"),
        CheckConstraint("status = 'open' OR (answer IS NOT NULL AND answered_at IS NOT NULL)", name="answered"),
        Index("ix_honor_roll_objection_edition_status", "edition_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_edition.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("honor_roll_candidate.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(120))  # the candidate's name when filed (it outlives recomputes)
    body: Mapped[str] = mapped_column(Text)
    objector_name: Mapped[str] = mapped_column(String(80))
    objector_contact: Mapped[str] = mapped_column(String(120))
    objector_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default=ObjectionStatus.OPEN.value)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    edition = relationship("HonorRollEdition")
    candidate = relationship("HonorRollCandidate")

    @property
    def status_label(self):
        return OBJECTION_STATUS_LABELS[ObjectionStatus(self.status)]

    @property
    def is_open(self):
        return self.status == ObjectionStatus.OPEN

    def can_answer(self, user):
        if not self.is_open:
            return False
        return self.candidate.can_curate(user) if self.candidate is not None else can_manage(user)


# The frozen record --------------------------------------------------------------------------------

class HonorRollRevision(db.Model):
    """One publication of an edition: revision 1 on 10·17, and one more per correction.

    Rows are written with `sealed` false, then sealed in the same transaction; from then on the
    triggers refuse every change. `digest` is the SHA-256 of the entries' canonical JSON, shown on
    the page so that a copy can be checked against it.
    """

    __tablename__ = "honor_roll_revision"
    __table_args__ = (
        UniqueConstraint("edition_id", "number", name="uq_honor_roll_revision_number"),
        CheckConstraint("number = 1 OR change_note IS NOT NULL", name="correction_has_note"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_edition.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    weights: Mapped[str] = mapped_column(String(200))  # JSON of the weights used
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the scheduled job
    change_note: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64))
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)

    edition = relationship("HonorRollEdition", back_populates="revisions")
    published_by = relationship("User")
    entries = relationship("HonorRollEntry", back_populates="revision",
                           order_by="(HonorRollEntry.category_position, HonorRollEntry.rank)")


class HonorRollEntry(db.Model):
    """An honoree on a published revision, with its figures, citation and certificate code."""

    __tablename__ = "honor_roll_entry"
    __table_args__ = (
        CheckConstraint("(organization_id IS NULL) <> (user_id IS NULL)", name="one_honoree"),
        UniqueConstraint("revision_id", "category_position", "rank", name="uq_honor_roll_entry_rank"),
        Index("ix_honor_roll_entry_revision", "revision_id", "category_position", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_revision.id"))
    code: Mapped[str] = mapped_column(String(24), unique=True)  # the certificate's verification code
    category_name: Mapped[str] = mapped_column(String(40))
    category_position: Mapped[int] = mapped_column(Integer)
    honoree_kind: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(120))
    funds_fen: Mapped[int] = mapped_column(BigInteger)
    jobs_filled: Mapped[int] = mapped_column(Integer)
    jobs_retained: Mapped[int] = mapped_column(Integer)
    villages_helped: Mapped[int] = mapped_column(Integer)
    beneficiaries: Mapped[int] = mapped_column(Integer)
    deliveries_count: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(BigInteger)
    citation: Mapped[str] = mapped_column(Text)

    revision = relationship("HonorRollRevision", back_populates="entries", lazy="joined", innerjoin=True)
    organization = relationship("Organization")
    deliveries = relationship("HonorRollEntryDelivery", back_populates="entry",
                              order_by="HonorRollEntryDelivery.delivery_id")

    @property
    def kind_label(self):
        return HONOREE_KIND_LABELS[HonoreeKind(self.honoree_kind)]


class HonorRollEntryDelivery(db.Model):
    """A verified delivery behind a published entry, copied so the record needs nothing that can change."""

    __tablename__ = "honor_roll_entry_delivery"
    __table_args__ = (UniqueConstraint("entry_id", "delivery_id", name="uq_honor_roll_entry_delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("honor_roll_entry.id"), index=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    pledge_code: Mapped[str] = mapped_column(String(16))
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"))
    need_title: Mapped[str] = mapped_column(String(120))
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    village_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(BigInteger)
    retained_3m: Mapped[int | None] = mapped_column(Integer)
    poor_people: Mapped[int] = mapped_column(Integer)  # the need's registered poor beneficiaries
    delivered_on: Mapped[date] = mapped_column(Date)
    verified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    entry = relationship("HonorRollEntry", back_populates="deliveries")


def can_manage(user):
    """Edition-wide curation (quotas, notice, objections about the whole roll): national curators and admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or "" in user.curator_scopes


# Immutability, in the database ----------------------------------------------------------------------
#
# A sealed revision and every entry and delivery row under it refuse UPDATE and DELETE; rows cannot
# be added under a sealed revision. The only change a revision ever takes is sealed false → true.
# The same statements are in migration 0008_honor_roll (a migration must not import the models).

IMMUTABLE_MESSAGE = "a published honor roll revision is immutable"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER honor_roll_revision_no_update BEFORE UPDATE ON honor_roll_revision
        WHEN OLD.sealed BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_revision_no_delete BEFORE DELETE ON honor_roll_revision
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_entry_no_insert BEFORE INSERT ON honor_roll_entry
        WHEN (SELECT sealed FROM honor_roll_revision WHERE id = NEW.revision_id)
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_entry_no_update BEFORE UPDATE ON honor_roll_entry
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_entry_no_delete BEFORE DELETE ON honor_roll_entry
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_entry_delivery_no_insert BEFORE INSERT ON honor_roll_entry_delivery
        WHEN (SELECT r.sealed FROM honor_roll_entry e JOIN honor_roll_revision r ON r.id = e.revision_id
              WHERE e.id = NEW.entry_id)
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_entry_delivery_no_update BEFORE UPDATE ON honor_roll_entry_delivery
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
    f"""CREATE TRIGGER honor_roll_entry_delivery_no_delete BEFORE DELETE ON honor_roll_entry_delivery
        BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END""",
]

POSTGRESQL_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION honor_roll_immutable() RETURNS trigger AS $$
    BEGIN
      IF TG_TABLE_NAME = 'honor_roll_revision' THEN
        IF TG_OP = 'UPDATE' AND NOT OLD.sealed THEN RETURN NEW; END IF;
      ELSIF TG_OP = 'INSERT' AND TG_TABLE_NAME = 'honor_roll_entry' THEN
        -- nested, not AND: PL/pgSQL may evaluate both sides, and each table has its own columns
        IF NOT (SELECT sealed FROM honor_roll_revision WHERE id = NEW.revision_id) THEN RETURN NEW; END IF;
      ELSIF TG_OP = 'INSERT' AND TG_TABLE_NAME = 'honor_roll_entry_delivery' THEN
        IF NOT (SELECT r.sealed FROM honor_roll_entry e JOIN honor_roll_revision r ON r.id = e.revision_id
                WHERE e.id = NEW.entry_id) THEN RETURN NEW; END IF;
      END IF;
      RAISE EXCEPTION '{IMMUTABLE_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER honor_roll_revision_immutable BEFORE UPDATE OR DELETE ON honor_roll_revision
       FOR EACH ROW EXECUTE FUNCTION honor_roll_immutable()""",
    """CREATE TRIGGER honor_roll_entry_immutable BEFORE INSERT OR UPDATE OR DELETE ON honor_roll_entry
       FOR EACH ROW EXECUTE FUNCTION honor_roll_immutable()""",
    """CREATE TRIGGER honor_roll_entry_delivery_immutable BEFORE INSERT OR UPDATE OR DELETE ON honor_roll_entry_delivery
       FOR EACH ROW EXECUTE FUNCTION honor_roll_immutable()""",
]


def _install_triggers(target, connection, **_kw):
    statements = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(connection.dialect.name, [])
    for statement in statements:
        connection.execute(DDL(statement))


# Created with the last of the three tables (the test fixtures' create_all; migrations run the same SQL).
event.listen(HonorRollEntryDelivery.__table__, "after_create", _install_triggers)
