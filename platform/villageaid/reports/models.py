"""投诉举报 — reports from the public about a need, an organisation (and, later, a pledge or a delivery),
grouped into one case per object while the case is open."""
import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..policy import curates
from ..timeutil import utcnow


class CaseStatus(enum.StrEnum):
    OPEN = "open"                  # reported; no curator has taken it up yet
    INVESTIGATING = "investigating"
    CLOSED = "closed"              # with an outcome, shown on the object's page


class Outcome(enum.StrEnum):
    UPHELD = "upheld"        # 属实: the report was founded and the curator acted on it
    DISMISSED = "dismissed"  # 不属实


class Reason(enum.StrEnum):
    FALSE_INFO = "false_info"        # 信息不实
    FAKE_FIGURES = "fake_figures"    # 虚报数字、弄虚作假（“数字脱贫”）
    MISUSE = "misuse"                # 挪用、截留捐赠资金或物资
    SOLICITATION = "solicitation"    # 以扶贫名义索要财物、违规收费
    PRIVACY = "privacy"              # 泄露贫困户个人信息
    INAPPROPRIATE = "inappropriate"  # 不当内容
    OTHER = "other"


STATUS_LABELS = {CaseStatus.OPEN: _l("待处理"), CaseStatus.INVESTIGATING: _l("调查中"), CaseStatus.CLOSED: _l("已办结")}
STATUS_COLORS = {"open": "warning", "investigating": "info", "closed": "secondary"}
OUTCOME_LABELS = {Outcome.UPHELD: _l("举报属实"), Outcome.DISMISSED: _l("举报不属实")}
REASON_LABELS = {
    Reason.FALSE_INFO: _l("信息不实"),
    Reason.FAKE_FIGURES: _l("虚报数字、弄虚作假"),
    Reason.MISUSE: _l("挪用或截留捐赠资金、物资"),
    Reason.SOLICITATION: _l("以扶贫名义索要财物或违规收费"),
    Reason.PRIVACY: _l("泄露贫困户个人信息"),
    Reason.INAPPROPRIATE: _l("不当内容"),
    Reason.OTHER: _l("其他"),
}


def _in(column, enum_class):
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


class ReportCase(db.Model):
    """举报案件 — every report about one object while its case is open; a later report opens a new case."""

    __tablename__ = "report_case"
    __table_args__ = (
        CheckConstraint(_in("status", CaseStatus), name="status_valid"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", Outcome), name="outcome_valid"),
        # A closed case has an outcome and a public note; an open one has neither.
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND public_note IS NOT NULL)",
                        name="closed_with_outcome"),
        CheckConstraint("report_count >= 0", name="count_nonnegative"),
        # One live case per object: concurrent first reports cannot open two.
        Index("ix_report_case_live_object", "object_type", "object_id", unique=True,
              sqlite_where=text("status <> 'closed'"), postgresql_where=text("status <> 'closed'")),
        Index("ix_report_case_object", "object_type", "object_id", "status"),
        Index("ix_report_case_region_status", "region_code", "status", "last_report_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))  # a key of reports.kinds.KINDS
    object_id: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(12))  # the object's region when reported: who handles it
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.OPEN.value)
    outcome: Mapped[str | None] = mapped_column(String(20))
    public_note: Mapped[str | None] = mapped_column(Text)  # the outcome as the public reads it
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_report_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    handled_by = relationship("User")
    reports = relationship("Report", back_populates="case", order_by="Report.id", cascade="all, delete-orphan")

    @property
    def status_label(self):
        return STATUS_LABELS[CaseStatus(self.status)]

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[Outcome(self.outcome)] if self.outcome else None

    @property
    def is_live(self):
        return self.status != CaseStatus.CLOSED

    def can_handle(self, user):
        """Curators of the object's region (and admins) triage, investigate and close."""
        return curates(user, self.region_code)

    def can_investigate(self, user):
        return self.status == CaseStatus.OPEN and self.can_handle(user)

    def can_close(self, user):
        return self.is_live and self.can_handle(user)

    def __repr__(self):
        return f"<ReportCase {self.id} {self.object_type}:{self.object_id} {self.status}>"


class Report(db.Model):
    """One person's report. The reporter is never shown publicly; signed-in reporters hear the outcome."""

    __tablename__ = "report"
    __table_args__ = (CheckConstraint(_in("reason", Reason), name="reason_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("report_case.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case = relationship("ReportCase", back_populates="reports")
    reporter = relationship("User")

    @property
    def reason_label(self):
        return REASON_LABELS[Reason(self.reason)]
