"""对接 — the East-West pairing table, organisations' stated preferences, invitations and 结对 pairings."""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..needs.models import Need
from ..policy import curates
from ..regions.services import division_name
from ..timeutil import utcnow


def _in(column, enum_class):
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


# Covering indexes for the ranking in recommend.py: every column it reads from need, so that SQLite and
# PostgreSQL rank open needs from an index alone (docs/performance.md, Recommendations). The ranking reads
# one region, fit level and band of deadlines at a time, so both lead with what those seek on: the
# province (for the regions' groups), the category (fit), then the deadline.
_RANKED = (Need.prefecture_code, Need.unit, Need.pledged_permille, Need.village_helped, Need.pledged, Need.target,
           Need.village_id, Need.id)
Index("ix_need_recommend", Need.status, Need.category, Need.deadline, Need.province_code, *_RANKED)
Index("ix_need_recommend_region", Need.status, Need.province_code, Need.category, Need.deadline, *_RANKED)


class PairingRule(db.Model):
    """东西部扶贫协作结对关系 — one row of the table: an eastern province or city helps a western
    province or prefecture. Loaded from data/east_west_pairing_2016.csv; admins edit it as policy changes.

    A rule without `helper_prefecture_code` is the helper province as a whole; one without
    `helped_prefecture_code` covers the whole helped province.
    """

    __tablename__ = "pairing_rule"
    __table_args__ = (
        UniqueConstraint("helper_province_code", "helper_prefecture_code", "helped_province_code",
                         "helped_prefecture_code", name="uq_pairing_rule_sides"),
        Index("ix_pairing_rule_helped", "helped_province_code", "helped_prefecture_code"),
        Index("ix_pairing_rule_helper", "helper_province_code", "helper_prefecture_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    helper_province_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    helper_prefecture_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    helped_province_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    helped_prefecture_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    source: Mapped[str | None] = mapped_column(String(200))  # the policy document the row comes from
    # Who changed it is in the audit trail; no user key here, so the table is reference data that
    # survives the test database's truncation of users.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # Loaded when used: the names come from `division_name`, without joining four regions to every rule.
    helper_province = relationship("Region", foreign_keys=[helper_province_code])
    helper_prefecture = relationship("Region", foreign_keys=[helper_prefecture_code])
    helped_province = relationship("Region", foreign_keys=[helped_province_code])
    helped_prefecture = relationship("Region", foreign_keys=[helped_prefecture_code])

    @property
    def helper_names(self):
        """(province, prefecture or None) of the helping side."""
        return division_name(self.helper_province_code), division_name(self.helper_prefecture_code)

    @property
    def helped_names(self):
        return division_name(self.helped_province_code), division_name(self.helped_prefecture_code)

    @property
    def helper_name(self):
        province, prefecture = self.helper_names
        return prefecture or province

    @property
    def helped_name(self):
        province, prefecture = self.helped_names
        return prefecture or province

    def __repr__(self):
        return f"<PairingRule {self.helper_name}→{self.helped_name}>"


class OrganizationPreference(db.Model):
    """What an organisation says it wants to help with; recommendations lean towards it.

    Categories, regions and job types are rows of `organization_preference_item`, so that ranking
    organisations for a need can test them in SQL (see recommend.py).
    """

    __tablename__ = "organization_preference"
    __table_args__ = (
        CheckConstraint("budget_min_fen IS NULL OR budget_min_fen >= 0", name="budget_min_nonnegative"),
        CheckConstraint("budget_min_fen IS NULL OR budget_max_fen IS NULL OR budget_min_fen <= budget_max_fen",
                        name="budget_range"),
    )

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    # For one funds need: what is still open should fall within the range.
    budget_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    follow_pairing: Mapped[bool] = mapped_column(Boolean, default=True)  # rank by the East-West table
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    organization = relationship("Organization")
    items = relationship("PreferenceItem", cascade="all, delete-orphan", lazy="selectin",
                         order_by="PreferenceItem.kind, PreferenceItem.value")

    def values(self, kind):
        return [i.value for i in self.items if i.kind == kind]

    @property
    def categories(self):
        return self.values(PreferenceKind.CATEGORY)

    @property
    def region_codes(self):
        return self.values(PreferenceKind.REGION)

    @property
    def job_types(self):
        return self.values(PreferenceKind.JOB)

    @property
    def has_budget(self):
        return self.budget_min_fen is not None or self.budget_max_fen is not None


class PreferenceKind(enum.StrEnum):
    CATEGORY = "category"  # a need Category value
    REGION = "region"      # a 12-digit province or prefecture code
    JOB = "job"            # a word found in the title of jobs the organisation can offer


class PreferenceItem(db.Model):
    """One stated preference of an organisation: a category, a region or a job type."""

    __tablename__ = "organization_preference_item"
    __table_args__ = (CheckConstraint(_in("kind", PreferenceKind), name="kind_valid"),)

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization_preference.organization_id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


INVITATION_LABELS = {
    InvitationStatus.PENDING: _l("待回复"), InvitationStatus.ACCEPTED: _l("已接受"),
    InvitationStatus.DECLINED: _l("已婉拒"), InvitationStatus.WITHDRAWN: _l("已撤回"),
}


class NeedInvitation(db.Model):
    """受邀 — a village (or a curator for it) asks one organisation to take up one need."""

    __tablename__ = "need_invitation"
    __table_args__ = (
        CheckConstraint(_in("status", InvitationStatus), name="status_valid"),
        # One invitation per need and organisation: a declined one is not sent again.
        UniqueConstraint("need_id", "organization_id", name="uq_need_invitation_need_org"),
        Index("ix_need_invitation_org_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=InvitationStatus.PENDING.value)
    reply: Mapped[str | None] = mapped_column(Text)  # the organisation's answer or the reason for withdrawing
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    need = relationship("Need", lazy="joined", innerjoin=True)
    organization = relationship("Organization", lazy="joined", innerjoin=True)
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    @property
    def status_label(self):
        return INVITATION_LABELS[InvitationStatus(self.status)]

    @property
    def region_code(self):
        return self.need.region_code

    def can_answer(self, user):
        """The organisation's members answer an invitation."""
        return self.status == InvitationStatus.PENDING and self.organization.is_member(user)

    def can_withdraw(self, user):
        return self.status == InvitationStatus.PENDING and self.need.is_editor(user)


class PairingStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"


PAIRING_LABELS = {
    PairingStatus.PROPOSED: _l("待对方确认"), PairingStatus.ACTIVE: _l("结对中"), PairingStatus.DECLINED: _l("对方已婉拒"),
    PairingStatus.WITHDRAWN: _l("已撤回"), PairingStatus.ENDED: _l("已结束"),
}
PAIRING_COLORS = {"proposed": "warning", "active": "success", "declined": "secondary", "withdrawn": "secondary",
                  "ended": "dark"}
# A pairing the public sees: once both sides agreed it stays on the record.
PUBLIC_PAIRING_STATES = frozenset({PairingStatus.ACTIVE, PairingStatus.ENDED})
LIVE_PAIRING_STATES = frozenset({PairingStatus.PROPOSED, PairingStatus.ACTIVE})


class Side(enum.StrEnum):
    ORGANIZATION = "organization"
    VILLAGE = "village"


class Pairing(db.Model):
    """结对帮扶 — a standing pairing between an organisation and a village (村企结对), with its plan."""

    __tablename__ = "pairing"
    __table_args__ = (
        CheckConstraint(_in("status", PairingStatus), name="status_valid"),
        CheckConstraint(_in("proposed_by", Side), name="proposed_by_valid"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        # At most one live pairing (proposed or active) between an organisation and a village.
        Index("uq_pairing_live", "organization_id", "village_id", unique=True,
              sqlite_where=text("status IN ('proposed', 'active')"),
              postgresql_where=text("status IN ('proposed', 'active')")),
        Index("ix_pairing_village_status", "village_id", "status"),
        Index("ix_pairing_organization_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"))
    proposed_by: Mapped[str] = mapped_column(String(20))
    proposed_by_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    plan: Mapped[str] = mapped_column(Text)  # 帮扶计划: what the organisation means to do, Markdown
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=PairingStatus.PROPOSED.value)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization = relationship("Organization", lazy="joined", innerjoin=True)
    village = relationship("Village", lazy="joined", innerjoin=True)
    proposed_by_user = relationship("User", foreign_keys=[proposed_by_user_id])
    reports = relationship("PairingReport", back_populates="pairing", order_by="PairingReport.year.desc()",
                           cascade="all, delete-orphan")

    @property
    def status_label(self):
        return PAIRING_LABELS[PairingStatus(self.status)]

    @property
    def region_code(self):
        return self.village.code

    @property
    def is_public(self):
        return self.status in PUBLIC_PAIRING_STATES

    def side_of(self, user):
        """Which side `user` acts for, or None (someone in both is taken for the proposer's side)."""
        sides = [s for s, members in ((Side.ORGANIZATION, self.organization), (Side.VILLAGE, self.village))
                 if members.is_member(user)]
        if len(sides) == 2:
            return Side(self.proposed_by)
        return sides[0] if sides else None

    def is_party(self, user):
        return self.organization.is_member(user) or self.village.is_member(user)

    def can_view(self, user):
        return self.is_public or self.is_party(user) or curates(user, self.region_code)

    def can_answer(self, user):
        """The side that did not propose accepts or declines."""
        other = Side.VILLAGE if self.proposed_by == Side.ORGANIZATION else Side.ORGANIZATION
        members = self.village if other == Side.VILLAGE else self.organization
        return self.status == PairingStatus.PROPOSED and members.is_member(user)

    def can_withdraw(self, user):
        members = self.organization if self.proposed_by == Side.ORGANIZATION else self.village
        return self.status == PairingStatus.PROPOSED and members.is_member(user)

    def can_end(self, user):
        """Either side, or a curator of the village's region, ends an active pairing."""
        return self.status == PairingStatus.ACTIVE and (self.is_party(user) or curates(user, self.region_code))

    def can_report(self, user):
        """Both sides write the yearly report of a pairing that has been active."""
        return self.status in PUBLIC_PAIRING_STATES and self.is_party(user)

    def years(self, today):
        """The calendar years the pairing has covered so far, newest first."""
        last = (self.end_date or today).year
        return list(range(last, self.start_date.year - 1, -1)) if self.start_date.year <= last else []

    def __repr__(self):
        return f"<Pairing {self.id} {self.status} org={self.organization_id} village={self.village_id}>"


class PairingReport(db.Model):
    """年度帮扶报告 — what a pairing did in one calendar year, written by either side."""

    __tablename__ = "pairing_report"
    __table_args__ = (
        UniqueConstraint("pairing_id", "year", name="uq_pairing_report_year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairing.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)  # what was done, Markdown
    written_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    pairing = relationship("Pairing", back_populates="reports")
    written_by = relationship("User")


class PairingPledge(db.Model):
    """结对帮扶认捐 — marks a pledge made by an organisation to a village it was paired with at the time."""

    __tablename__ = "pairing_pledge"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id", ondelete="CASCADE"), primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairing.id", ondelete="CASCADE"), index=True)

    pairing = relationship("Pairing")
    pledge = relationship("Pledge")
