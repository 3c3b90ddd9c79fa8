"""`flask --app villageaid honor-roll …`: list the editions, publish those due, export a roll."""
import click
from flask.cli import AppGroup

honor_roll = AppGroup("honor-roll", help="光荣榜: the 10·17 honor rolls.")


@honor_roll.command("list")
def list_command():
    """Every edition: year, status, period and publication."""
    from sqlalchemy import select

    from ..extensions import db
    from ..timeutil import to_local
    from .models import HonorRollEdition

    for edition in db.session.scalars(select(HonorRollEdition).order_by(HonorRollEdition.year)):
        published = f"published {to_local(edition.published_at):%Y-%m-%d %H:%M}" if edition.published_at else \
            f"due {to_local(edition.publish_at):%Y-%m-%d %H:%M}"
        click.echo(f"{edition.year}  {edition.status:<9}  {edition.period_start} – {edition.period_end}  {published}"
                   f"  {edition.title}")


@honor_roll.command("publish-due")
def publish_due_command():
    """Publish the editions in notice whose time has come (what the scheduler runs every minute)."""
    from .lifecycle import publish_due

    published = publish_due()
    click.echo("published: " + (", ".join(map(str, published)) if published else "none"))


@honor_roll.command("export")
@click.argument("year", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="the .xlsx to write")
def export_command(year, out):
    """Write the public roll of YEAR (its current revision, or the draft in notice) to OUT as XLSX."""
    from . import documents, public

    edition = public.find(year)
    the_roll = public.roll(edition) if edition else None
    if the_roll is None:
        raise click.ClickException(f"no public honor roll for {year}")
    with open(out, "wb") as f:
        f.write(documents.roll_xlsx(the_roll))
    click.echo(f"wrote {len(the_roll.rows)} entries of {edition.title} to {out}")
