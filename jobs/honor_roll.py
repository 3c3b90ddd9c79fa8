"""Honor roll: computing an edition's candidates, and publishing editions at their appointed instant."""
from . import job


@job
def compute(computation_id):
    """Compute one requested run of an edition's candidates (a finished run is left alone)."""
    from villageaid.honor_roll import compute as service

    return service.run(computation_id)


@job
def publish_due():
    """Publish each edition in notice whose publish_at (10-17 00:00 in China) has come; hold the others."""
    from villageaid.honor_roll import lifecycle

    return lifecycle.publish_due()
