"""Demo reports for `flask demo seed`: an open case with two reports about a published need, and a
closed one, with its public outcome, about a helper. Idempotent: an object that has a case is left alone."""
from sqlalchemy import func, select

from ..extensions import db
from ..needs.models import Need, NeedStatus
from ..organizations.models import Organization
from ..policy import curates
from . import lifecycle, services
from .models import ReportCase


def _has_case(kind, obj_id):
    return db.session.scalar(select(ReportCase.id).where(ReportCase.object_type == kind, ReportCase.object_id == obj_id))


def seed_reports(curators):
    """`curators`: users, the first of whom covering an object's region handles its case. Returns how many cases exist."""
    need = db.session.scalar(select(Need).where(Need.status == NeedStatus.PUBLISHED.value).order_by(Need.id))
    if need is not None and not _has_case("need", need.id):
        services.file_report(None, need, "false_info", "需求中写的受益学生人数比村小学实际在校人数多，请核实。")
        services.file_report(None, need, "fake_figures", "同样的项目去年已经由乡里建过，不应重复募集资金。")
    org = db.session.scalar(select(Organization).where(Organization.status == "verified").order_by(Organization.id))
    if org is not None and not _has_case("organization", org.id):
        report = services.file_report(None, org, "solicitation", "有人自称该企业员工，向村民收取“帮扶对接费”。")
        handler = next((c for c in curators if curates(c, report.case.region_code)), None)
        if handler is not None:
            lifecycle.investigate(handler, report.case, "已联系企业和乡政府核实。")
            lifecycle.close(handler, report.case, "dismissed",
                            "经核查，该企业未派人收取任何费用，收费者与企业无关，已移交当地公安机关处理。"
                            "平台上的帮扶对接一律免费。")
    return db.session.scalar(select(func.count()).select_from(ReportCase))
