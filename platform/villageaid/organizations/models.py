"""Organisations (enterprises and NGOs) and their members."""
import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..regions.services import division_name
from ..timeutil import utcnow
from ..verification import VerificationStatus, status_check


class OrgKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    NGO = "ngo"


class OrgSize(enum.StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


# 国民经济行业分类 (GB/T 4754-2017) sections.
INDUSTRY_SECTIONS = "ABCDEFGHIJKLMNOPQRST"


def _enum(e, name):
    return Enum(e, name=name, native_enum=False, validate_strings=True, values_callable=lambda x: [m.value for m in x])


class Organization(db.Model):
    __tablename__ = "organization"
    __table_args__ = (status_check("organization"), Index("ix_organization_region_status", "province_code", "status"),
                      Index("ix_organization_status_verified", "status", "verified_at"))  # newest verified (home)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    name: Mapped[str] = mapped_column(String(120))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(1))
    province_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    prefecture_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    size: Mapped[OrgSize] = mapped_column(_enum(OrgSize, "org_size"))
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_phone: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=VerificationStatus.PENDING.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    # Loaded when used: the names a page shows come from `division_name`, without a join on every load.
    province = relationship("Region", foreign_keys=[province_code])
    prefecture = relationship("Region", foreign_keys=[prefecture_code])
    memberships = relationship("Membership", back_populates="organization", cascade="all, delete-orphan")

    @property
    def place_name(self):
        """浙江省杭州市 — its province, and its prefecture when it gave one."""
        return "".join(self.place_names)

    @property
    def place_names(self):
        return [n for n in (division_name(self.province_code), division_name(self.prefecture_code)) if n]

    @property
    def region_code(self):
        """The most precise region the organisation is registered in (for curator scopes)."""
        return self.prefecture_code or self.province_code

    @property
    def is_verified(self):
        return self.status == VerificationStatus.VERIFIED

    def is_member(self, user):
        return user is not None and getattr(user, "id", None) is not None and any(
            m.user_id == user.id for m in self.memberships
        )

    def is_owner(self, user):
        return any(m.user_id == getattr(user, "id", None) and m.is_owner for m in self.memberships)


class Membership(db.Model):
    """A user's place in an organisation; the registrant is its owner."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organization_id", name="uq_membership_user_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User", back_populates="memberships")
    organization = relationship("Organization", back_populates="memberships", lazy="joined")
