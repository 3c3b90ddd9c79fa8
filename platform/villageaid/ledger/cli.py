"""`flask --app villageaid ledger export --out FILE.xlsx [--region CODE]`."""
import click
from flask.cli import AppGroup

ledger = AppGroup("ledger", help="台账 exports.")


@ledger.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="the .xlsx to write")
@click.option("--region", default=None, help="a province, prefecture or county code or name (default: the country)")
def export_command(out, region):
    """Write the ledger of needs, pledges and deliveries (of REGION) to OUT as XLSX."""
    from ..regions import services as regions
    from ..regions.models import Region
    from ..extensions import db
    from sqlalchemy import select
    from . import export

    code = None
    if region:
        found = regions.get(region) if region.isdigit() else db.session.scalars(
            select(Region).where(Region.name == region).order_by(Region.level)).first()
        if found is None:
            raise click.BadParameter(f"no region {region!r}", param_hint="--region")
        code = found.code
    needs, pledges, deliveries = export.counts(code)
    total = needs + pledges + deliveries
    with click.progressbar(length=total, label="writing") as bar:
        state = {"done": 0}

        def progress(written):
            bar.update(written - state["done"])
            state["done"] = written

        written = export.write(out, code, progress)
    click.echo(f"wrote {needs} needs, {pledges} pledges and {deliveries} deliveries ({written} rows) to {out}")
