"""Villages: importing an uploaded file of registered villages."""
from . import job


@job
def import_villages(import_id):
    """Import one uploaded file, all or nothing (a finished import is left alone: safe to run twice)."""
    from villageaid.villages import importer

    return importer.run(import_id)
