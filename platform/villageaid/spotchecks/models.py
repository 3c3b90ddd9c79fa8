"""A spot check (抽查批次), its sampled deliveries with their visit results, and the evidence of a visit."""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..policy import curates
from ..timeutil import utcnow


class CheckStatus(enum.StrEnum):
    OPEN = "open"      # drawn; the visits are under way
    CLOSED = "closed"  # every sampled delivery has its result


class ItemStatus(enum.StrEnum):
    PENDING = "pending"          # not visited yet
    CONFIRMED = "confirmed"      # 核实无误: the visit found the delivery as recorded
    DISCREPANCY = "discrepancy"  # 发现出入: the delivery is reopened (it stops counting)


CHECK_STATUS_LABELS = {CheckStatus.OPEN: _l("走访中"), CheckStatus.CLOSED: _l("已完成")}
CHECK_STATUS_COLORS = {"open": "info", "closed": "secondary"}
ITEM_STATUS_LABELS = {ItemStatus.PENDING: _l("待走访"), ItemStatus.CONFIRMED: _l("核实无误"),
                      ItemStatus.DISCREPANCY: _l("发现出入")}
ITEM_STATUS_COLORS = {"pending": "warning", "confirmed": "success", "discrepancy": "danger"}

MAX_SAMPLE = 200   # one check is a round of visits: a few dozen deliveries, not thousands
MAX_SEED = 10 ** 18 - 1
MAX_NOTES = 2000
MAX_EVIDENCE = 6


def _in(column, enum_class):
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


class SpotCheck(db.Model):
    """抽查批次 — a reproducible random sample of the verified deliveries of one region and period.

    The sample follows from what is recorded on the row: the candidates are the deliveries verified
    when it was drawn, in the region, delivered within the period, ordered by id (their count and a
    SHA-256 of the ordered ids are kept); the sample is `random.Random(seed).sample(candidates,
    min(sample_size, candidate_count))`. The same seed, region and period over the same deliveries
    give the same sample.
    """

    __tablename__ = "spot_check"
    __table_args__ = (
        CheckConstraint(_in("status", CheckStatus), name="status_valid"),
        CheckConstraint("period_start <= period_end", name="period_in_order"),
        CheckConstraint(f"sample_size BETWEEN 1 AND {MAX_SAMPLE}", name="sample_size_range"),
        CheckConstraint(f"seed BETWEEN 0 AND {MAX_SEED}", name="seed_range"),
        CheckConstraint("candidate_count > 0", name="has_candidates"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when_closed"),
        Index("ix_spot_check_region_status", "region_code", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))  # a province, prefecture or county
    period_start: Mapped[date] = mapped_column(Date)  # dates in China, inclusive: the deliveries' delivered_on
    period_end: Mapped[date] = mapped_column(Date)
    sample_size: Mapped[int] = mapped_column(Integer)  # asked for; fewer when there are fewer candidates
    seed: Mapped[int] = mapped_column(BigInteger)
    candidate_count: Mapped[int] = mapped_column(Integer)
    candidates_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the ordered candidate ids
    status: Mapped[str] = mapped_column(String(20), default=CheckStatus.OPEN.value)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    region = relationship("Region", lazy="joined", innerjoin=True)
    created_by = relationship("User", foreign_keys=[created_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    items = relationship("SpotCheckItem", back_populates="check", order_by="SpotCheckItem.position",
                         cascade="all, delete-orphan")

    @property
    def status_label(self):
        return CHECK_STATUS_LABELS[CheckStatus(self.status)]

    @property
    def is_open(self):
        return self.status == CheckStatus.OPEN

    @property
    def pending_count(self):
        return sum(1 for item in self.items if item.status == ItemStatus.PENDING)

    def can_manage(self, user):
        """Curators of the check's region (and admins) see its sample and record the visits."""
        return curates(user, self.region_code)

    def can_close(self, user):
        return self.is_open and self.pending_count == 0 and self.can_manage(user)

    def __repr__(self):
        return f"<SpotCheck {self.id} {self.region_code} {self.status}>"


class SpotCheckItem(db.Model):
    """One sampled delivery and what the visit found. A discrepancy's notes are public (no personal data)."""

    __tablename__ = "spot_check_item"
    __table_args__ = (
        CheckConstraint(_in("status", ItemStatus), name="status_valid"),
        CheckConstraint("(status = 'pending') = (recorded_at IS NULL)", name="recorded_when_decided"),
        CheckConstraint("(status = 'pending') = (visited_on IS NULL)", name="visited_when_decided"),
        CheckConstraint("status <> 'discrepancy' OR (notes IS NOT NULL AND notes <> '')", name="discrepancy_noted"),
        CheckConstraint("position > 0", name="position_positive"),
        UniqueConstraint("spot_check_id", "delivery_id", name="uq_spot_check_item_delivery"),
        UniqueConstraint("spot_check_id", "position", name="uq_spot_check_item_position"),
        Index("ix_spot_check_item_delivery_status", "delivery_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order the sample drew them
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.PENDING.value)
    visited_on: Mapped[date | None] = mapped_column(Date)  # a date in China
    notes: Mapped[str | None] = mapped_column(Text)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)  # this discrepancy reopened the delivery
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    check = relationship("SpotCheck", back_populates="items")
    delivery = relationship("Delivery", lazy="joined", innerjoin=True)
    recorded_by = relationship("User")
    evidence = relationship("SpotCheckEvidence", back_populates="item", order_by="SpotCheckEvidence.id",
                            cascade="all, delete-orphan")

    @property
    def status_label(self):
        return ITEM_STATUS_LABELS[ItemStatus(self.status)]

    @property
    def is_pending(self):
        return self.status == ItemStatus.PENDING

    def can_record(self, user):
        return self.is_pending and self.check.can_manage(user)

    def __repr__(self):
        return f"<SpotCheckItem {self.id} delivery={self.delivery_id} {self.status}>"


class SpotCheckEvidence(db.Model):
    """A photo taken on a visit, re-encoded without metadata as delivery evidence is; curators only."""

    __tablename__ = "spot_check_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("spot_check_item.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item = relationship("SpotCheckItem", back_populates="evidence")
