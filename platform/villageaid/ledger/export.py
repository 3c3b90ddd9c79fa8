"""台账 — the ledger of needs, pledges and deliveries of a region, as an XLSX workbook with Chinese headers.

A curator asks for it on /curate/ledger/export (or an operator runs `flask --app villageaid ledger
export --out FILE.xlsx [--region CODE]`); a job writes it sheet by sheet in keyset batches, recording
how many rows it has written so the status page shows progress, and keeps the file in
DATA_DIR/exports until it is downloaded by the curator who asked (or an admin).

Money is in yuan with two decimals (from integer fen); times are Beijing time. Contact details and
evidence files are never in the workbook: it lists what the public pages list, plus the names of
individuals who pledged anonymously (marked so), which curators need to follow up. Text is written as
text: a title or note beginning with "=" is never a formula (`xlsx.text_row`).
"""
import uuid
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import func, select

from .. import queue
from ..audit.services import record
from ..errors import PermissionDenied
from ..extensions import db
from ..needs.models import CATEGORY_LABELS, STATUS_LABELS, Category, Need, NeedStatus, Unit
from ..organizations.models import Organization
from ..pledges.models import DELIVERY_STATUS_LABELS, PLEDGE_STATUS_LABELS, Delivery, DeliveryStatus, Pledge, PledgeStatus
from ..policy import curates, scope_prefix
from ..regions.models import Region
from ..timeutil import to_local, utcnow
from ..accounts.models import User
from ..villages.models import Village
from ..xlsx import text_row
from .models import ExportStatus, LedgerExport

BATCH = 2000
MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NEED_HEADERS = ["需求编号", "标题", "贫困村", "区划代码", "类别", "帮扶形式", "单位", "目标", "已认捐", "已交付", "已核实",
                "状态", "截止日期", "发布时间（北京时间）"]
PLEDGE_HEADERS = ["追踪码", "需求编号", "需求", "贫困村", "认捐方", "认捐方类型", "数量", "单位", "已交付", "村里已确认",
                  "已核实", "状态", "承诺交付日期", "认捐时间（北京时间）"]
DELIVERY_HEADERS = ["交付编号", "追踪码", "需求编号", "数量", "单位", "交付日期", "状态", "村里确认时间（北京时间）",
                    "核实时间（北京时间）", "说明"]
UNIT_NAMES = {Unit.CNY_FEN.value: "元", Unit.JOBS.value: "个岗位", Unit.GOODS.value: "件", Unit.VOLUNTEER_HOURS.value: "小时"}


def _quantity(unit, value):
    return Decimal(value) / 100 if unit == Unit.CNY_FEN.value else value


def _time(value):
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else None


def _in_region(prefix):
    return [Need.county_code.startswith(prefix)] if prefix else []


def counts(region_code=None):
    where = _in_region(scope_prefix(region_code))
    needs = db.session.scalar(select(func.count()).select_from(Need).where(*where, Need.status != NeedStatus.DRAFT.value))
    pledges = db.session.scalar(select(func.count()).select_from(Pledge).join(Need, Need.id == Pledge.need_id).where(*where))
    deliveries = db.session.scalar(select(func.count()).select_from(Delivery).join(Need, Need.id == Delivery.need_id)
                                   .where(*where))
    return needs, pledges, deliveries


def _batches(query, id_column):
    """Rows of `query` in id order, BATCH at a time (a commit between batches is safe)."""
    last = 0
    while True:
        rows = db.session.execute(query.where(id_column > last).order_by(id_column).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def write(path, region_code=None, progress=None):
    """Write the workbook to `path`; returns the number of data rows. `progress(written)` after each batch."""
    where = _in_region(scope_prefix(region_code))
    workbook = Workbook(write_only=True)
    written = 0
    with force_locale("zh_CN"):
        needs = workbook.create_sheet("需求")
        needs.append(NEED_HEADERS)
        query = (select(Need.id, Need.title, Village.name, Village.code, Need.category, Need.unit, Need.target,
                        Need.pledged, Need.delivered, Need.verified, Need.status, Need.deadline, Need.published_at)
                 .join(Village, Village.id == Need.village_id).where(*where, Need.status != NeedStatus.DRAFT.value))
        for rows in _batches(query, Need.id):  # drafts are the village's own until submitted
            for (need_id, title, village, code, category, unit, target, pledged, delivered, verified, status,
                 deadline, published_at) in rows:
                needs.append(text_row(needs, [need_id, title, village, code, str(CATEGORY_LABELS[Category(category)]),
                              str(_unit_label(unit)), UNIT_NAMES[unit], _quantity(unit, target or 0),
                              _quantity(unit, pledged), _quantity(unit, delivered), _quantity(unit, verified),
                              str(STATUS_LABELS[NeedStatus(status)]), deadline, _time(published_at)]))
            written += len(rows)
            if progress:
                progress(written)

        pledges = workbook.create_sheet("认捐")
        pledges.append(PLEDGE_HEADERS)
        query = (select(Pledge.id, Pledge.code, Need.id, Need.title, Village.name, Organization.name, User.name,
                        Pledge.anonymous, Pledge.quantity, Need.unit, Pledge.delivered, Pledge.confirmed,
                        Pledge.verified, Pledge.status, Pledge.promised_on, Pledge.created_at)
                 .join(Need, Need.id == Pledge.need_id).join(Village, Village.id == Pledge.village_id)
                 .join(User, User.id == Pledge.pledger_id).outerjoin(Organization, Organization.id == Pledge.organization_id)
                 .where(*where))
        for rows in _batches(query, Pledge.id):
            for (_id, code, need_id, title, village, org_name, person, anonymous, quantity, unit, delivered, confirmed,
                 verified, status, promised_on, created_at) in rows:
                who = org_name or (f"{person}（匿名认捐）" if anonymous else person)
                kind = "企业或社会组织" if org_name else "个人"
                pledges.append(text_row(pledges, [code, need_id, title, village, who, kind, _quantity(unit, quantity), UNIT_NAMES[unit],
                                _quantity(unit, delivered), _quantity(unit, confirmed), _quantity(unit, verified),
                                str(PLEDGE_STATUS_LABELS[PledgeStatus(status)]), promised_on, _time(created_at)]))
            written += len(rows)
            if progress:
                progress(written)

        deliveries = workbook.create_sheet("交付")
        deliveries.append(DELIVERY_HEADERS)
        query = (select(Delivery.id, Pledge.code, Need.id, Delivery.quantity, Need.unit, Delivery.delivered_on,
                        Delivery.status, Delivery.confirmed_at, Delivery.decided_at, Delivery.note)
                 .join(Pledge, Pledge.id == Delivery.pledge_id).join(Need, Need.id == Delivery.need_id).where(*where))
        for rows in _batches(query, Delivery.id):
            for delivery_id, code, need_id, quantity, unit, delivered_on, status, confirmed_at, decided_at, note in rows:
                verified_at = decided_at if status == DeliveryStatus.VERIFIED.value else None
                deliveries.append(text_row(deliveries, [delivery_id, code, need_id, _quantity(unit, quantity), UNIT_NAMES[unit], delivered_on,
                                   str(DELIVERY_STATUS_LABELS[DeliveryStatus(status)]), _time(confirmed_at),
                                   _time(verified_at), note]))
            written += len(rows)
            if progress:
                progress(written)
    workbook.save(path)
    return written


def _unit_label(unit):
    from ..needs.models import UNIT_LABELS

    return UNIT_LABELS[Unit(unit)]


# -- requested through the site, built by a job ----------------------------------------------------

def export_dir():
    return Path(current_app.config["DATA_DIR"]) / "exports"


def regions_for(user):
    """The regions `user` may export: their scopes (None: the whole country for national curators)."""
    scopes = [None] if (user.is_admin or "" in user.curator_scopes) else []
    codes = [code for code in user.curator_scopes if code]
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())
    return scopes + sorted(codes, key=lambda c: c), names


def start(actor, region_code=None):
    """Ask for a workbook of `region_code` (None: the country); returns the LedgerExport to follow."""
    if not actor.is_curator:
        raise PermissionDenied(_("只有审核员可以导出台账。"))
    if region_code is None and not (actor.is_admin or "" in actor.curator_scopes):
        raise PermissionDenied(_("您只能导出您负责地区的台账。"))
    if region_code is not None and not curates(actor, region_code):
        raise PermissionDenied(_("您只能导出您负责地区的台账。"))
    export = LedgerExport(requested_by_id=actor.id, region_code=region_code)
    db.session.add(export)
    db.session.flush()
    record(actor, export, "request_ledger_export", data={"region": region_code or ""})
    queue.defer("jobs.ledger.build_export", export.id)
    queue.commit()
    return export


def run(export_id):
    """The job: build one requested workbook (a finished export is left alone: safe to run twice)."""
    export = db.session.get(LedgerExport, export_id)
    if export is None or export.is_finished:
        return None
    export.status = ExportStatus.RUNNING.value
    export.started_at = export.started_at or utcnow()
    export.written_rows = 0
    export.total_rows = sum(counts(export.region_code))
    db.session.commit()
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _remove_partial(export)  # left by an earlier attempt whose worker died
    stored = f"ledger-{export.id}-{uuid.uuid4().hex[:8]}.xlsx"
    partial = folder / (stored + ".part")

    def progress(written):
        export.written_rows = min(written, export.total_rows)
        db.session.commit()

    try:
        written = write(partial, export.region_code, progress)
        partial.replace(folder / stored)
    except Exception as exc:  # the curator sees it failed; the worker's log has the traceback
        db.session.rollback()
        export.status, export.message, export.finished_at = ExportStatus.FAILED.value, str(exc)[:500], utcnow()
        db.session.commit()
        partial.unlink(missing_ok=True)
        raise
    export.status, export.stored_name, export.finished_at = ExportStatus.DONE.value, stored, utcnow()
    export.written_rows = export.total_rows = written
    db.session.commit()
    return written


def _remove_partial(export):
    for partial in export_dir().glob(f"ledger-{export.id}-*.xlsx.part"):
        partial.unlink(missing_ok=True)


def give_up(export_id, reason):
    """The job was given up (its worker died on every attempt, say): the curator sees the export failed."""
    export = db.session.get(LedgerExport, export_id)
    if export is None or export.is_finished:
        return
    export.status, export.message, export.finished_at = ExportStatus.FAILED.value, reason[:500], utcnow()
    _remove_partial(export)


queue.on_given_up("jobs.ledger.build_export", give_up)


def get_for(user, export_id):
    """The export, if `user` asked for it or is an admin; PermissionDenied otherwise."""
    export = db.session.get(LedgerExport, export_id)
    if export is None:
        return None
    if export.requested_by_id != user.id and not user.is_admin:
        raise PermissionDenied(_("这份台账不是您导出的。"))
    return export


def recent(user, limit=10):
    return db.session.scalars(select(LedgerExport).where(LedgerExport.requested_by_id == user.id)
                              .order_by(LedgerExport.id.desc()).limit(limit)).all()


def filename(export):
    region = export.region.name if export.region else "全国"
    return f"台账-{region}-{to_local(export.created_at).strftime('%Y%m%d-%H%M')}.xlsx"
