"""Housekeeping run by the scheduler."""
from . import job


@job
def drain_outbox():
    """Enqueue jobs whose enqueue failed (Redis down) or whose process died before enqueuing."""
    from villageaid import queue

    return queue.drain()
