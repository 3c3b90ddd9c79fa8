"""Pledges: the hourly reminder and lapse sweep."""
from . import job


@job
def remind_and_lapse():
    """Remind whoever must act on a pledge and lapse accepted pledges long overdue (idempotent)."""
    from villageaid.pledges import reminders

    return reminders.sweep()
