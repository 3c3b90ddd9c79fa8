"""A village, its 建档立卡 facts and its committee members."""
import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..regions.services import division_name
from ..timeutil import utcnow
from ..verification import VerificationStatus, status_check

# 致贫原因 as the 建档立卡 system names them.
POVERTY_CAUSES = ("因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金", "交通条件落后", "自身发展动力不足")


def place_name(province, prefecture, county, township):
    """The names of a village's divisions as one place name; `prefecture` None where there is none
    (a municipality's districts hang from the province)."""
    return "".join(part for part in (province, prefecture, county, township) if part)


def place_of(province_code, prefecture_code, county_code, township_name):
    """Village.place_name from a village's columns, for a list read as rows rather than Villages."""
    return place_name(division_name(province_code),
                      division_name(prefecture_code) if prefecture_code != province_code else None,
                      division_name(county_code), township_name)


class Village(db.Model):
    __tablename__ = "village"
    __table_args__ = (
        status_check("village"),
        CheckConstraint("poor_households <= households", name="poor_within_households"),
        CheckConstraint("households >= 0 AND poor_households >= 0 AND poor_population >= 0", name="counts_nonnegative"),
        Index("ix_village_county_status", "county_code", "status"),
        Index("ix_village_status_verified", "status", "verified_at"),  # the newest verified, on the home page
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # 12-digit 统计用区划代码
    name: Mapped[str] = mapped_column(String(80))
    township_name: Mapped[str] = mapped_column(String(80))
    province_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    prefecture_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    households: Mapped[int] = mapped_column(Integer)
    poor_households: Mapped[int] = mapped_column(Integer)
    poor_population: Mapped[int] = mapped_column(Integer)
    poverty_causes: Mapped[list] = mapped_column(JSON, default=list)
    industries: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=VerificationStatus.PENDING.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    # Loaded when used: the names a page shows come from `division_name`, without a join on every load.
    province = relationship("Region", foreign_keys=[province_code])
    prefecture = relationship("Region", foreign_keys=[prefecture_code])
    county = relationship("Region", foreign_keys=[county_code])
    members = relationship("VillageMember", back_populates="village", cascade="all, delete-orphan")

    @property
    def region_code(self):
        return self.code

    @property
    def province_name(self):
        return division_name(self.province_code)

    @property
    def prefecture_name(self):
        """None for a municipality's villages, whose districts hang from the province."""
        return division_name(self.prefecture_code) if self.prefecture_code != self.province_code else None

    @property
    def place_names(self):
        """[province, prefecture, county] names, without a municipality's repeated province."""
        return [n for n in (self.province_name, self.prefecture_name, division_name(self.county_code)) if n]

    @property
    def place_name(self):
        """四川省凉山彝族自治州昭觉县 — the village's place without the village itself."""
        return place_of(self.province_code, self.prefecture_code, self.county_code, self.township_name)

    @property
    def is_verified(self):
        return self.status == VerificationStatus.VERIFIED

    def is_member(self, user):
        return getattr(user, "id", None) is not None and any(m.user_id == user.id for m in self.members)


class VillageMember(db.Model):
    """A committee member (村委会成员 or 第一书记) acting for a village."""

    __tablename__ = "village_member"
    __table_args__ = (UniqueConstraint("user_id", "village_id", name="uq_village_member_user_village"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(40), default="村委会成员")
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User", back_populates="village_memberships")
    village = relationship("Village", back_populates="members", lazy="joined")


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"      # uploaded; the job has not started
    RUNNING = "running"    # the job is reading and checking the file
    IMPORTED = "imported"  # every row imported
    REJECTED = "rejected"  # some rows were bad: nothing imported, each bad row listed
    FAILED = "failed"      # the file could not be processed at all (an unexpected error)


class VillageImport(db.Model):
    """A file of registered villages (建档立卡贫困村) uploaded by a curator, imported all or nothing by a job."""

    __tablename__ = "village_import"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'imported', 'rejected', 'failed')", name="status_valid"),
        CheckConstraint("total_rows >= 0 AND checked_rows >= 0 AND imported >= 0", name="counts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded, for the curator's reference
    stored_name: Mapped[str] = mapped_column(String(80))  # under DATA_DIR/uploads/imports until processed
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.QUEUED.value)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    checked_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # [{"row", "column", "message"}] in the uploader's language
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    uploaded_by = relationship("User")

    @property
    def is_finished(self):
        return self.status in (ImportStatus.IMPORTED, ImportStatus.REJECTED, ImportStatus.FAILED)

    def can_view(self, user):
        """The curator who uploaded the file, and admins."""
        return getattr(user, "is_authenticated", False) and (user.id == self.uploaded_by_id or user.is_admin)
