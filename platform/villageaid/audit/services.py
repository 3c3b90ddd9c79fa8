"""Writing and reading audit events."""
from sqlalchemy import select
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
    query = select(AuditEvent).where(
        AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id
    )
    if public_only:
        query = query.where(AuditEvent.public.is_(True))
    # The actor, but not the actor's grants and memberships (three SELECTs) unless someone asks.
    return db.session.scalars(query.order_by(AuditEvent.id).options(joinedload(AuditEvent.actor).lazyload("*"))).all()
