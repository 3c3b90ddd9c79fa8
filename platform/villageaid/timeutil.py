"""Time is stored in UTC and shown in Asia/Shanghai."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow():
    """The current instant as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_utc(value):
    """Treat a naive datetime read back from SQLite as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_local(value):
    """A stored UTC datetime in Asia/Shanghai for display."""
    return as_utc(value).astimezone(SHANGHAI) if value is not None else None


def local_date_today():
    """Today's date in China (deadlines and the 10·17 countdown are Chinese dates)."""
    return utcnow().astimezone(SHANGHAI).date()
