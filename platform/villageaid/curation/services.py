"""Verifying and rejecting organisations and villages."""
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..notifications.services import notify
from ..organizations.models import Organization
from ..policy import curates, scope_filters
from ..timeutil import utcnow
from ..verification import TransitionError, VerificationStatus, check_transition
from ..villages.models import Village


def _applicants(obj):
    if isinstance(obj, Organization):
        return [m.user for m in obj.memberships]
    return [m.user for m in obj.members]


def _link(obj):
    return f"/helpers/{obj.id}" if isinstance(obj, Organization) else f"/villages/{obj.id}"


def decide(actor, obj, target, reason=None):
    """Move an organisation or village to `target` (verified or rejected) as curator `actor`."""
    target = VerificationStatus(target)
    if not curates(actor, obj.region_code):
        raise PermissionDenied(_("您无权审核该地区的申请。"))
    if target is VerificationStatus.REJECTED and not (reason or "").strip():
        raise ServiceError(_("驳回时请填写理由。"), fields={"reason": _("请填写理由。")})
    current = VerificationStatus(obj.status)
    try:
        check_transition(current, target)
    except TransitionError as exc:
        raise Conflict(_("当前状态下不能执行此操作。")) from exc
    obj.status = target.value
    obj.status_reason = (reason or "").strip() or None
    obj.verified_at = utcnow() if target is VerificationStatus.VERIFIED else None
    record(actor, obj, target.value, from_state=current, to_state=target, reason=obj.status_reason, public=True)
    for user in _applicants(obj):
        with force_locale(user.locale or "zh_CN"):
            if target is VerificationStatus.VERIFIED:
                subject = _("%(name)s 已通过审核", name=obj.name)
                body = _("%(name)s 已通过审核，现在可以在平台上开展帮扶对接。", name=obj.name)
            else:
                subject = _("%(name)s 未通过审核", name=obj.name)
                body = _("%(name)s 未通过审核。理由：%(reason)s\n您可以修改信息后重新提交。", name=obj.name, reason=obj.status_reason)
        notify([user], subject, body, link=_link(obj))
    queue.commit()
    return obj


def resubmit(actor, obj):
    """An applicant sends a rejected application back to the queue."""
    if actor not in _applicants(obj):
        raise PermissionDenied(_("只有申请人可以重新提交。"))
    current = VerificationStatus(obj.status)
    try:
        check_transition(current, VerificationStatus.PENDING)
    except TransitionError as exc:
        raise Conflict(_("当前状态下不能执行此操作。")) from exc
    obj.status = VerificationStatus.PENDING.value
    record(actor, obj, "resubmit", from_state=current, to_state=VerificationStatus.PENDING)
    queue.commit()


def pending_organizations(curator):
    query = select(Organization).where(Organization.status == VerificationStatus.PENDING.value)
    condition = _org_scope(curator)
    if condition is not None:
        query = query.where(condition)
    return db.session.scalars(query.order_by(Organization.created_at)).all()


def _org_scope(curator):
    from sqlalchemy import func

    # An organisation is in scope by its prefecture when it has one, else by its province.
    return scope_filters(curator, func.coalesce(Organization.prefecture_code, Organization.province_code))


def pending_villages(curator):
    query = select(Village).where(Village.status == VerificationStatus.PENDING.value)
    condition = scope_filters(curator, Village.code)
    if condition is not None:
        query = query.where(condition)
    return db.session.scalars(query.order_by(Village.created_at)).all()
