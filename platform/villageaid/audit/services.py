"""Writing and reading audit events."""
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import AuditEvent


def record(actor, obj, action, *, from_state=None, to_state=None, reason=None, public=False, data=None):
    """Add an audit event for `obj` to the current transaction (the caller commits)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        object_type=obj.__tablename__,
        object_id=obj.id,
        action=action,
        from_state=getattr(from_state, "value", from_state),
        to_state=getattr(to_state, "value", to_state),
        reason=reason,
        public=public,
        data=data,
    )
    db.session.add(event)
    return event


def events_for(obj, public_only=False):
    """The audit trail of one object, oldest first."""
    return db.session.scalars(_events_for(bool(public_only)), {"type": obj.__tablename__, "id": obj.id}).all()


@cache
def _events_for(public_only):
    """Built once per variant (every need page asks)."""
    query = select(AuditEvent).where(AuditEvent.object_type == bindparam("type"), AuditEvent.object_id == bindparam("id"))
    if public_only:
        query = query.where(AuditEvent.public.is_(True))
    # The actor, but not the actor's grants and memberships (three SELECTs) unless someone asks.
    return query.order_by(AuditEvent.id).options(joinedload(AuditEvent.actor).lazyload("*"))
