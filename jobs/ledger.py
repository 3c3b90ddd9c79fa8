"""Ledger: building a requested 台账 workbook."""
from . import job


@job
def build_export(export_id):
    """Write one requested workbook, recording progress (a finished export is left alone)."""
    from villageaid.ledger import export

    return export.run(export_id)
