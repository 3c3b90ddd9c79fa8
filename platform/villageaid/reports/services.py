"""Filing reports (grouped into one live case per object) and reading cases for curators and the public."""
from functools import cache

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import queue
from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from ..notifications.services import notify
from ..policy import scope_filters
from ..timeutil import utcnow
from .kinds import KINDS, kind_of
from .models import CaseStatus, Reason, Report, ReportCase

TEXT_MIN, TEXT_MAX = 10, 2000


def live_case(kind_key, obj_id):
    return db.session.scalar(select(ReportCase).where(
        ReportCase.object_type == kind_key, ReportCase.object_id == obj_id, ReportCase.status != CaseStatus.CLOSED.value))


def _open_case(kind, obj):
    """The object's live case, opened now if there is none; returns (case, opened).

    Call it first in the transaction: when a concurrent first report wins the partial unique index,
    the transaction is rolled back and the report joins the case the other one opened.
    """
    case = live_case(kind.key, obj.id)
    if case is not None:
        return case, False
    case = ReportCase(object_type=kind.key, object_id=obj.id, region_code=kind.region(obj))
    db.session.add(case)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        case = live_case(kind.key, obj.id)
        if case is None:
            raise
        return case, False
    return case, True


def file_report(reporter, obj, reason, text):
    """举报 — report `obj` (a need, an organisation …) with a reason; `reporter` may be None (not signed in).

    Repeated reports about one object join its live case. The first report of a case tells the
    curators of the object's region.
    """
    kind = kind_of(obj)
    if kind is None or not kind.visible(obj):
        raise ServiceError(_l("该对象不能举报。"))
    errors = {}
    if reason not in {r.value for r in Reason}:
        errors["reason"] = _l("请选择举报原因。")
    text = (text or "").strip()
    if len(text) < TEXT_MIN:
        errors["text"] = _l("请具体说明情况（至少 %(n)s 字），便于核查。", n=TEXT_MIN)
    elif len(text) > TEXT_MAX:
        errors["text"] = _l("不能超过 %(n)s 字。", n=TEXT_MAX)
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    reporter = reporter if getattr(reporter, "is_authenticated", False) else None
    case, opened = _open_case(kind, obj)
    db.session.execute(update(ReportCase).where(ReportCase.id == case.id)
                       .values(report_count=ReportCase.report_count + 1, last_report_at=utcnow()))
    report = Report(case_id=case.id, reason=reason, text=text, reporter_id=getattr(reporter, "id", None))
    db.session.add(report)
    db.session.flush()
    db.session.refresh(case)
    record(reporter, case, "file_report", to_state=case.status, data={"report": report.id, "reason": reason})
    if opened:
        _tell_curators(case, kind, obj)
    queue.commit()
    return report


def _tell_curators(case, kind, obj):
    from ..needs.lifecycle import reviewers_of

    for user in reviewers_of(case.region_code):
        with force_locale(user.locale or "zh_CN"):
            notify([user], _("新的投诉举报：%(title)s", title=kind.title(obj)),
                   _("有人举报了%(kind)s“%(title)s”，请核查处理。", kind=kind.label, title=kind.title(obj)),
                   link=f"/curate/reports/{case.id}")


# Reading -------------------------------------------------------------------------------------

QUEUE_FILTERS = {
    "live": (CaseStatus.OPEN.value, CaseStatus.INVESTIGATING.value),
    "open": (CaseStatus.OPEN.value,),
    "investigating": (CaseStatus.INVESTIGATING.value,),
    "closed": (CaseStatus.CLOSED.value,),
}


def cases_for(curator, which="live", limit=200):
    """The cases in the curator's regions, most reported first among the live ones, newest first otherwise."""
    query = select(ReportCase).where(ReportCase.status.in_(QUEUE_FILTERS.get(which, QUEUE_FILTERS["live"])))
    condition = scope_filters(curator, ReportCase.region_code)
    if condition is not None:
        query = query.where(condition)
    if which == "closed":
        query = query.order_by(ReportCase.closed_at.desc(), ReportCase.id.desc())
    else:
        query = query.order_by(ReportCase.report_count.desc(), ReportCase.last_report_at.desc())
    return db.session.scalars(query.limit(limit)).all()


def count_live(curator):
    query = select(func.count()).select_from(ReportCase).where(ReportCase.status != CaseStatus.CLOSED.value)
    condition = scope_filters(curator, ReportCase.region_code)
    if condition is not None:
        query = query.where(condition)
    return db.session.scalar(query)


def subject_of(case):
    """(kind, object or None) of a case."""
    kind = KINDS[case.object_type]
    return kind, db.session.get(kind.model, case.object_id)


def public_outcomes(obj):
    """The closed cases about `obj`, newest first: what the public sees on the object's page."""
    kind = kind_of(obj)
    if kind is None or getattr(obj, "id", None) is None:
        return []
    return db.session.scalars(_public_outcomes(), {"kind": kind.key, "obj_id": obj.id}).all()


def has_public_outcomes(kind_key, object_id):
    """An EXISTS clause, true when the object (`object_id` a column or a value) has closed cases: a
    page can ask it within the statement that loads the object, and call public_outcomes only then."""
    return (select(ReportCase.id).where(ReportCase.object_type == kind_key, ReportCase.object_id == object_id,
                                        ReportCase.status == CaseStatus.CLOSED.value).exists())


@cache
def _public_outcomes():
    # Built once: every need, village and organisation page asks.
    return select(ReportCase).where(
        ReportCase.object_type == bindparam("kind"), ReportCase.object_id == bindparam("obj_id"),
        ReportCase.status == CaseStatus.CLOSED.value).order_by(ReportCase.closed_at.desc())
