"""Home page: the campaign figures' snapshot, rewritten every minute."""
from . import job


@job
def refresh_figures():
    """Recompute the home page's counters and need sums and store the snapshot every process serves."""
    from villageaid.main import services

    return services.refresh()["computed_at"]
