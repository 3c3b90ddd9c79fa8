"""A pledge (认捐) against a need, its deliveries (交付), their evidence files, and reminders sent."""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import sqlrows
from ..extensions import db
from ..needs.models import Category, Unit
from ..policy import curates
from ..timeutil import local_date_today, to_local, utcnow


class PledgeStatus(enum.StrEnum):
    PLEDGED = "pledged"        # made; the village has yet to accept it
    ACCEPTED = "accepted"      # the village accepted; nothing delivered yet
    DELIVERING = "delivering"  # some delivered, not all
    DELIVERED = "delivered"    # everything pledged reported as delivered
    CONFIRMED = "confirmed"    # the village confirmed receiving all of it
    VERIFIED = "verified"      # a curator verified all of it
    DECLINED = "declined"      # by the village, with a reason
    CANCELLED = "cancelled"    # by the pledger, before any delivery
    LAPSED = "lapsed"          # overdue past the grace period, after reminders


class DeliveryStatus(enum.StrEnum):
    REPORTED = "reported"    # the pledger reported it
    CONFIRMED = "confirmed"  # the village confirmed receipt
    DISPUTED = "disputed"    # the village disputes it: a curator decides
    VERIFIED = "verified"    # a curator verified it: only now does it count
    REJECTED = "rejected"    # a curator rejected it: it counts for nothing
    REOPENED = "reopened"    # a spot check (抽查) found a discrepancy: it stops counting until a curator decides again


class PledgeKind(enum.StrEnum):
    """What is pledged, which follows from the need: it decides the form and what a delivery is."""

    FUNDS = "funds"          # 资金 (fen)
    PROJECT = "project"      # 产业项目: investment in fen plus a plan, delivered as milestones
    JOBS = "jobs"            # 就业岗位, delivered as hires
    GOODS = "goods"          # 物资
    VOLUNTEER = "volunteer"  # 志愿服务 hours


def kind_for(need):
    if need.unit == Unit.JOBS:
        return PledgeKind.JOBS
    if need.unit == Unit.GOODS:
        return PledgeKind.GOODS
    if need.unit == Unit.VOLUNTEER_HOURS:
        return PledgeKind.VOLUNTEER
    return PledgeKind.PROJECT if need.category == Category.INDUSTRY else PledgeKind.FUNDS


# Pledges that hold a share of their need; the others have given it back.
LIVE_STATES = frozenset({PledgeStatus.PLEDGED, PledgeStatus.ACCEPTED, PledgeStatus.DELIVERING, PledgeStatus.DELIVERED,
                         PledgeStatus.CONFIRMED, PledgeStatus.VERIFIED})
ENDED_STATES = frozenset({PledgeStatus.DECLINED, PledgeStatus.CANCELLED, PledgeStatus.LAPSED})
# Deliveries that still claim their quantity (a rejected one claims nothing).
CLAIMING_DELIVERIES = frozenset({DeliveryStatus.REPORTED, DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED,
                                 DeliveryStatus.VERIFIED, DeliveryStatus.REOPENED})

PLEDGE_STATUS_LABELS = {
    PledgeStatus.PLEDGED: _l("待村里接受"), PledgeStatus.ACCEPTED: _l("已接受，待交付"),
    PledgeStatus.DELIVERING: _l("交付中"), PledgeStatus.DELIVERED: _l("已交付，待确认"),
    PledgeStatus.CONFIRMED: _l("村里已确认，待核实"), PledgeStatus.VERIFIED: _l("已核实"),
    PledgeStatus.DECLINED: _l("村里已婉拒"), PledgeStatus.CANCELLED: _l("已取消"), PledgeStatus.LAPSED: _l("已逾期失效"),
}
PLEDGE_STATUS_COLORS = {
    "pledged": "warning", "accepted": "primary", "delivering": "info", "delivered": "info", "confirmed": "primary",
    "verified": "success", "declined": "secondary", "cancelled": "secondary", "lapsed": "danger",
}
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.REPORTED: _l("待村里确认"), DeliveryStatus.CONFIRMED: _l("村里已确认，待核实"),
    DeliveryStatus.DISPUTED: _l("村里有异议，待审核员处理"), DeliveryStatus.VERIFIED: _l("已核实"),
    DeliveryStatus.REJECTED: _l("未通过核实"), DeliveryStatus.REOPENED: _l("抽查发现出入，待重新核实"),
}
DELIVERY_STATUS_COLORS = {"reported": "warning", "confirmed": "primary", "disputed": "danger", "verified": "success",
                          "rejected": "secondary", "reopened": "danger"}
KIND_LABELS = {PledgeKind.FUNDS: _l("资金"), PledgeKind.PROJECT: _l("产业项目"), PledgeKind.JOBS: _l("就业岗位"),
               PledgeKind.GOODS: _l("物资"), PledgeKind.VOLUNTEER: _l("志愿服务")}

ANONYMOUS_NAME = _l("爱心人士")
MAX_EVIDENCE = 6
RETENTION_MONTHS = (3, 6)


def _in(column, enum_class):
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


def add_months(day, months):
    """The same day `months` later (the month's last day when it is shorter)."""
    import calendar

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Pledge(db.Model):
    """认捐 — a donor's or an organisation's promise against one need, in the need's unit.

    `delivered`, `confirmed` and `verified` are the sums of its deliveries in those states (a
    verified delivery counts as confirmed too; a disputed or reopened one as delivered only); CHECKs
    keep them in order and within `quantity`.
    """

    __tablename__ = "pledge"
    __table_args__ = (
        CheckConstraint(_in("status", PledgeStatus), name="status_valid"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("0 <= verified AND verified <= confirmed AND confirmed <= delivered AND delivered <= quantity",
                        name="totals_in_order"),
        # Only individuals hide their name: an organisation's help is public by nature.
        CheckConstraint("NOT (anonymous AND organization_id IS NOT NULL)", name="anonymous_individual"),
        UniqueConstraint("pledger_id", "idempotency_key", name="uq_pledge_pledger_key"),
        Index("ix_pledge_need_status", "need_id", "status"),
        Index("ix_pledge_village_status", "village_id", "status"),
        Index("ix_pledge_organization_status", "organization_id", "status"),
        Index("ix_pledge_pledger", "pledger_id", "id"),
        Index("ix_pledge_status_promised", "status", "promised_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # public tracking code, WQ-2026-7K3F9Q
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))  # the need's, for the village's inbox
    pledger_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))  # acting for it
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)

    quantity: Mapped[int] = mapped_column(BigInteger)  # in the need's unit (fen for money)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    confirmed: Mapped[int] = mapped_column(BigInteger, default=0)
    verified: Mapped[int] = mapped_column(BigInteger, default=0)
    promised_on: Mapped[date] = mapped_column(Date)  # a date in China by which it will be delivered
    note: Mapped[str] = mapped_column(Text, default="")
    # kind == jobs: the job offered
    job_title: Mapped[str | None] = mapped_column(String(80))
    wage_fen: Mapped[int | None] = mapped_column(BigInteger)  # monthly
    work_location: Mapped[str | None] = mapped_column(String(120))
    # kind == project: the plan the investment follows
    plan: Mapped[str | None] = mapped_column(Text)

    status: Mapped[str] = mapped_column(String(20), default=PledgeStatus.PLEDGED.value)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was declined or cancelled
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    need = relationship("Need", lazy="joined", innerjoin=True)
    village = relationship("Village")
    pledger = relationship("User", lazy="joined", innerjoin=True)
    organization = relationship("Organization", lazy="joined")
    deliveries = relationship("Delivery", back_populates="pledge", order_by="Delivery.id")

    # Labels and derived figures ----------------------------------------------------------

    @property
    def kind(self):
        return kind_for(self.need)

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]

    @property
    def status_label(self):
        return PLEDGE_STATUS_LABELS[PledgeStatus(self.status)]

    @property
    def is_live(self):
        return PledgeStatus(self.status) in LIVE_STATES

    @property
    def public_name(self):
        """What the public sees: the organisation, the person, or 爱心人士 when they asked for it."""
        if self.organization is not None:
            return self.organization.name
        return str(ANONYMOUS_NAME) if self.anonymous else self.pledger.name

    @property
    def open_to_report(self):
        """How much may still be reported as delivered."""
        return self.quantity - self.delivered

    @property
    def is_overdue(self):
        return self.status in (PledgeStatus.ACCEPTED, PledgeStatus.DELIVERING) and self.promised_on < local_date_today()

    # Who is who ------------------------------------------------------------------------------

    def is_pledger(self, user):
        """The person who pledged, or any member of the organisation it was made for."""
        if getattr(user, "id", None) is None:
            return False
        return user.id == self.pledger_id or (self.organization_id is not None and any(
            m.organization_id == self.organization_id for m in user.memberships))

    def is_village(self, user):
        return self.need.is_village_member(user)

    def is_curator(self, user):
        return curates(user, self.need.region_code)

    def can_view(self, user):
        """Its details (notes, contacts, evidence): the two parties and the region's curators."""
        return self.is_pledger(user) or self.is_village(user) or self.is_curator(user)

    # What they may do (templates call these; the lifecycle raises when they fail) ----------

    def can_accept(self, user):
        return self.status == PledgeStatus.PLEDGED and self.is_village(user)

    can_decline = can_accept

    def can_cancel(self, user):
        return self.status in (PledgeStatus.PLEDGED, PledgeStatus.ACCEPTED) and self.is_pledger(user)

    def can_report(self, user):
        return (self.status in (PledgeStatus.ACCEPTED, PledgeStatus.DELIVERING) and self.open_to_report > 0
                and self.is_pledger(user))

    def next_step(self):
        """Whose move it is, in words, for lists."""
        return NEXT_STEP.get(PledgeStatus(self.status))

    def __repr__(self):
        return f"<Pledge {self.code} {self.status} {self.quantity}>"


class Named:
    """Who a listed pledge names: an id and a name, what lists show of a user or an organisation."""

    __slots__ = ("id", "name")

    def __init__(self, id, name):  # noqa: A002 — the column's name
        self.id, self.name = id, name


class ListedPledge:
    """A pledge as a list shows it, built from one row of the columns it shows, not a Pledge object:
    loading ORM objects (the pledge, its pledger and its organisation) was most of what the need
    page's list of pledges cost. The rules are Pledge's own, the same functions: its label and
    liveness, the name the public sees, and who may open it (asked of the list's `need`)."""

    COLUMNS = ("id", "code", "pledger_id", "organization_id", "anonymous", "quantity", "delivered",
               "confirmed", "verified", "status", "created_at", "pairing_id", "pledger_name", "organization_name")
    __slots__ = COLUMNS[:-2] + ("need", "pledger", "organization")

    def __init__(self, row, need):
        (self.id, self.code, self.pledger_id, self.organization_id, anonymous, self.quantity, self.delivered,
         self.confirmed, self.verified, self.status, created_at, self.pairing_id, pledger_name,
         organization_name) = row
        self.anonymous = bool(anonymous)  # 1/0 from SQLite's JSON
        self.created_at = sqlrows.timestamp(created_at)
        self.need = need
        self.pledger = Named(self.pledger_id, pledger_name)
        self.organization = None if self.organization_id is None else Named(self.organization_id, organization_name)

    status_label = Pledge.status_label
    is_live = Pledge.is_live
    public_name = Pledge.public_name
    is_pledger = Pledge.is_pledger
    is_village = Pledge.is_village
    is_curator = Pledge.is_curator
    can_view = Pledge.can_view

    def __repr__(self):
        return f"<ListedPledge {self.code} {self.status} {self.quantity}>"


NEXT_STEP = {
    PledgeStatus.PLEDGED: _l("等待村里接受"), PledgeStatus.ACCEPTED: _l("请按承诺日期交付并登记"),
    PledgeStatus.DELIVERING: _l("继续交付并登记"), PledgeStatus.DELIVERED: _l("等待村里确认收到"),
    PledgeStatus.CONFIRMED: _l("等待审核员核实"),
}


class Delivery(db.Model):
    """交付 — what the pledger reports delivering against a pledge, confirmed by the village and
    verified by a curator. For jobs the quantity is people hired from the village (with their
    retention at 3 and 6 months); for projects it is the investment of one milestone.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint(_in("status", DeliveryStatus), name="status_valid"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("completion_percent IS NULL OR (completion_percent BETWEEN 0 AND 100)", name="completion_range"),
        CheckConstraint("retained_3m IS NULL OR (retained_3m BETWEEN 0 AND quantity)", name="retained_3m_range"),
        CheckConstraint("retained_6m IS NULL OR (retained_6m BETWEEN 0 AND quantity)", name="retained_6m_range"),
        # A delivery counts for one name at most: an organisation's, or a person's (who did not pledge anonymously).
        CheckConstraint("honoree_organization_id IS NULL OR honoree_user_id IS NULL", name="one_honoree"),
        Index("ix_delivery_status_need", "status", "need_id"),
        Index("ix_delivery_status_decided", "status", "decided_at", "id"),  # the latest verified (home page)
        # The honor roll's aggregate (honor_roll/compute.py): every column it reads, in the order it groups by,
        # so it is one index-only scan in honoree order without a join or a sort.
        Index("ix_delivery_honor_roll", "status", "honoree_organization_id", "honoree_user_id", "village_id", "need_id",
              "need_unit", "need_poor_people", "decided_at", "need_category", "quantity", "retained_3m"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id"), index=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)  # the pledge's, for queues and ledgers
    quantity: Mapped[int] = mapped_column(BigInteger)
    delivered_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    milestone: Mapped[str | None] = mapped_column(String(120))  # projects
    completion_percent: Mapped[int | None] = mapped_column(Integer)  # projects: the whole project's progress
    retained_3m: Mapped[int | None] = mapped_column(Integer)  # jobs: still employed after 3 months
    retained_6m: Mapped[int | None] = mapped_column(Integer)

    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.REPORTED.value)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the curator who verified or rejected
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Copies of facts of its pledge and need that never change once the pledge is made (`credited_facts`),
    # written with the delivery: the honor roll aggregates a million deliveries without joining them to
    # pledges and needs. tests/honor_roll/test_copied_facts.py walks every lifecycle path against them.
    honoree_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))  # the pledge's
    honoree_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the pledger, if named (see there)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    need_unit: Mapped[str] = mapped_column(String(20))
    need_category: Mapped[str] = mapped_column(String(20))
    need_poor_people: Mapped[int] = mapped_column(Integer)

    pledge = relationship("Pledge", back_populates="deliveries", lazy="joined", innerjoin=True)
    reported_by = relationship("User", foreign_keys=[reported_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    evidence = relationship("Evidence", back_populates="delivery", order_by="Evidence.id",
                            cascade="all, delete-orphan")

    @property
    def need(self):
        return self.pledge.need

    @property
    def status_label(self):
        return DELIVERY_STATUS_LABELS[DeliveryStatus(self.status)]

    @property
    def flagged_evidence(self):
        return [e for e in self.evidence if e.duplicate_of_id is not None]

    @property
    def verified_local_date(self):
        return to_local(self.decided_at).date() if self.status == DeliveryStatus.VERIFIED and self.decided_at else None

    def retention_due(self, months):
        """The day from which retention after `months` can be reported."""
        return add_months(self.delivered_on, months)

    def can_confirm(self, user):
        return self.status == DeliveryStatus.REPORTED and self.pledge.is_village(user)

    can_dispute = can_confirm

    def can_verify(self, user):
        return self.status in (DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED, DeliveryStatus.REOPENED) \
            and self.pledge.is_curator(user)

    def can_reject(self, user):
        return self.status in (DeliveryStatus.REPORTED, DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED,
                               DeliveryStatus.REOPENED) and self.pledge.is_curator(user)

    def can_report_retention(self, user, months=None):
        """Jobs only: the employer reports, once each, how many hires are still employed."""
        if self.pledge.kind != PledgeKind.JOBS or self.status == DeliveryStatus.REJECTED:
            return False
        if not self.pledge.is_pledger(user):
            return False
        months_open = [m for m in RETENTION_MONTHS if getattr(self, f"retained_{m}m") is None
                       and self.retention_due(m) <= local_date_today()]
        return bool(months_open) if months is None else months in months_open

    def can_download_receipt(self, user):
        """捐赠凭证: verified funds deliveries, for the pledger (and the region's curators)."""
        return (self.status == DeliveryStatus.VERIFIED and self.pledge.kind == PledgeKind.FUNDS
                and (self.pledge.is_pledger(user) or self.pledge.is_curator(user)))

    def __repr__(self):
        return f"<Delivery {self.id} {self.status} {self.quantity}>"


def credited_facts(pledge):
    """What a delivery of `pledge` copies from it and its need (`Delivery.honoree_organization_id` …).

    The honoree is who the help is publicly credited to: the organisation the pledge was made for, else
    the person who pledged — unless they pledged anonymously, when it counts for no name at all.
    Needs are edited only as drafts and pledges never change hands, so the copies stay true; the
    migration that added them (0010) fills them with the same rule in SQL.
    """
    need = pledge.need
    named_person = pledge.organization_id is None and not pledge.anonymous
    return {"honoree_organization_id": pledge.organization_id,
            "honoree_user_id": pledge.pledger_id if named_person else None, "village_id": pledge.village_id,
            "need_unit": need.unit, "need_category": need.category, "need_poor_people": need.poor_people}


class Evidence(db.Model):
    """An evidence file of a delivery (transfer slip, receipt, photo), re-encoded without metadata.

    `sha256` is the hash of the uploaded bytes: the same file used for another delivery is
    flagged to the curator through `duplicate_of_id`.
    """

    __tablename__ = "delivery_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_evidence.id", ondelete="SET NULL"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    delivery = relationship("Delivery", back_populates="evidence")
    duplicate_of = relationship("Evidence", remote_side=[id])


class Reminder(db.Model):
    """A reminder already sent. Its unique key ("due:12", "retention-3:12:40") makes the reminder job
    idempotent across runs and processes: a second insert of the same key fails."""

    __tablename__ = "pledge_reminder"
    __table_args__ = (Index("ix_pledge_reminder_pledge_kind", "pledge_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
