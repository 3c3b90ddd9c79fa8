"""Needs: photo thumbnails and the deadline sweep."""
from . import job


@job
def make_thumbnail(photo_id):
    """Make the thumbnail of one need photo (skips a photo deleted meanwhile)."""
    from villageaid.extensions import db
    from villageaid.needs import photos
    from villageaid.needs.models import NeedPhoto

    photo = db.session.get(NeedPhoto, photo_id)
    if photo is None:
        return False
    done = photos.make_thumbnail(photo)
    db.session.commit()
    return done


@job
def expire_overdue():
    """Expire submitted and published needs whose deadline has passed (scheduled every ten minutes)."""
    from villageaid.needs import lifecycle

    return lifecycle.expire_overdue()
