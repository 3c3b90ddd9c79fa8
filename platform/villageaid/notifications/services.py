"""Notify whoever must act next: an inbox row now, an e-mail by a job after commit."""
from flask import current_app
from sqlalchemy import func, select, update

from .. import queue
from ..extensions import db
from ..timeutil import utcnow
from .models import Notification


def notify(users, subject, body, link=None, email=True):
    """Add inbox messages (and deferred e-mails) for `users` to the current transaction.

    Subject and body are rendered by the caller in the recipient's language.
    """
    for user in {u.id: u for u in users if u is not None}.values():
        db.session.add(Notification(user_id=user.id, subject=subject, body=body, link=link))
        if email:
            url = current_app.config["SITE_URL"].rstrip("/") + link if link else None
            text = f"{body}\n\n{url}" if url else body
            queue.defer("jobs.mail.send_email", user.email, subject, text)


def unread_count(user):
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def inbox(user, limit=50):
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
    ).all()


def mark_all_read(user):
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
