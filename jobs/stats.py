"""Statistics: the /stats snapshot, rewritten every five minutes."""
from . import job


@job
def refresh():
    """Recompute the campaign statistics and store the snapshot the page reads."""
    from villageaid.stats import services

    snapshot = services.refresh()
    return {"computed_at": snapshot["computed_at"], "deliveries_verified": snapshot["deliveries_verified"]}
