"""A report case's lifecycle: one transition table, one `transition()`, one function per action.

    open → investigating → closed (upheld | dismissed)
    open → closed: a curator may dismiss (or uphold) a report at triage without an investigation.

Only curators of the object's region act (and admins). Closing publishes the outcome on the
object's page — the outcome and the curator's public note, never who reported. Signed-in
reporters are told the outcome in their inbox.
"""
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..notifications.services import notify
from ..timeutil import utcnow
from .kinds import KINDS
from .models import OUTCOME_LABELS, STATUS_LABELS, CaseStatus, Outcome, ReportCase

S = CaseStatus

ALLOWED = {
    S.OPEN: {S.INVESTIGATING, S.CLOSED},
    S.INVESTIGATING: {S.CLOSED},
    S.CLOSED: set(),
}

NOTE_MAX = 2000


class TransitionError(Conflict):
    """A status change the lifecycle does not allow (HTTP 409)."""

    def __init__(self, current, target):
        current, target = CaseStatus(current), CaseStatus(target)
        super().__init__(_l("该举报当前为“%(status)s”，不能执行此操作。", status=STATUS_LABELS[current]))
        self.current, self.target = current, target


def check(current, target):
    """Raise TransitionError unless the table allows current → target."""
    if CaseStatus(target) not in ALLOWED[CaseStatus(current)]:
        raise TransitionError(current, target)


def transition(case, target, actor, *, action, reason=None, values=None, data=None):
    """Move `case` to `target` with a conditional UPDATE and write the audit event; the caller commits."""
    current, target = CaseStatus(case.status), CaseStatus(target)
    check(current, target)
    result = db.session.execute(
        update(ReportCase).where(ReportCase.id == case.id, ReportCase.status == current.value)
        .values(status=target.value, status_changed_at=utcnow(), **(values or {}))
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # another curator moved it first
        db.session.refresh(case)
        raise TransitionError(case.status, target)
    db.session.refresh(case)
    record(actor, case, action, from_state=current, to_state=target, reason=reason, data=data)
    return case


def _require_handler(actor, case):
    if not case.can_handle(actor):
        raise PermissionDenied(_l("只有该对象所在地区的审核员可以处理此举报。"))


def investigate(actor, case, note=None):
    """受理调查 — a curator takes the case up; the note stays internal."""
    _require_handler(actor, case)
    check(case.status, S.INVESTIGATING)
    note = (note or "").strip()[:NOTE_MAX] or None
    transition(case, S.INVESTIGATING, actor, action="investigate_report", reason=note,
               values={"handled_by_id": actor.id})
    queue.commit()
    return case


def close(actor, case, outcome, public_note):
    """办结 — the outcome (属实 or 不属实) with a note that is published on the object's page."""
    _require_handler(actor, case)
    check(case.status, S.CLOSED)
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise ServiceError(_l("请选择处理结果。"), fields={"outcome": _l("请选择处理结果。")}) from None
    public_note = (public_note or "").strip()
    if not public_note:
        raise ServiceError(_l("请填写公开的处理说明。"), fields={"public_note": _l("请填写公开的处理说明。")})
    if len(public_note) > NOTE_MAX:
        raise ServiceError(_l("处理说明不能超过 %(n)s 字。", n=NOTE_MAX), fields={"public_note": _l("内容过长。")})
    transition(case, S.CLOSED, actor, action=f"close_report_{outcome.value}", reason=public_note,
               values={"outcome": outcome.value, "public_note": public_note, "closed_at": utcnow(),
                       "handled_by_id": case.handled_by_id or actor.id})
    _tell_reporters(case)
    queue.commit()
    return case


def _tell_reporters(case):
    kind = KINDS[case.object_type]
    obj = db.session.get(kind.model, case.object_id)
    link = kind.url(obj) if obj is not None else None
    for user in {r.reporter.id: r.reporter for r in case.reports if r.reporter is not None}.values():
        if not user.active:
            continue
        with force_locale(user.locale or "zh_CN"):
            title = kind.title(obj) if obj is not None else str(kind.label)
            notify([user], _("您的举报已办结：%(title)s", title=title),
                   _("您举报的%(kind)s“%(title)s”已办结，结果：%(outcome)s。%(note)s", kind=kind.label, title=title,
                     outcome=OUTCOME_LABELS[Outcome(case.outcome)], note=case.public_note),
                   link=link)
