"""`flask --app villageaid villages …`: importing registered villages and counting them."""
import click
from flask.cli import AppGroup

villages = AppGroup("villages", help="Registered poor villages (建档立卡贫困村).")


@villages.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--curator", "curator_email", default=None,
              help="Import as this curator: only villages in their region, recorded as theirs.")
def import_command(file, curator_email):
    """Import the villages in FILE (.xlsx or .csv, the template's columns), all or nothing."""
    from ..accounts import services as accounts
    from .importer import ImportRejected, import_file

    actor = None
    if curator_email:
        actor = accounts.find_by_email(curator_email)
        if actor is None:
            raise click.ClickException(f"no user {curator_email}")
        if not actor.is_curator:
            raise click.ClickException(f"{curator_email} is not a curator")
    try:
        villages_added = import_file(file, actor)
    except ImportRejected as exc:
        for error in exc.errors:
            column = f" [{error.column}]" if error.column else ""
            click.echo(f"row {error.row}{column}: {error.message}", err=True)
        click.echo(f"{len(exc.errors)} error(s); nothing imported", err=True)
        raise SystemExit(1) from None
    click.echo(f"imported {len(villages_added)} village(s)")


@villages.command("count")
@click.option("--status", type=click.Choice(["pending", "verified", "rejected"]), default=None,
              help="Count only villages in this verification status.")
def count_command(status):
    """Print the number of registered villages."""
    from .importer import count_villages

    click.echo(count_villages(status))
