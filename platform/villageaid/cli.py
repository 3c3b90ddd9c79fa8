"""`flask --app villageaid …` commands that are not a single feature's."""
import json
import os
import time

import click
from flask import current_app
from flask.cli import AppGroup


def register_commands(app):
    app.cli.add_command(serve)
    app.cli.add_command(demo)
    app.cli.add_command(jobs)
    app.cli.add_command(regions)
    app.cli.add_command(users)
    app.cli.add_command(search)
    from .villages.cli import villages

    app.cli.add_command(villages)
    from .ledger.cli import ledger

    app.cli.add_command(ledger)
    from .honor_roll.cli import honor_roll

    app.cli.add_command(honor_roll)


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host, port):
    """Serve the embedded default: the web app plus the in-process scheduler thread."""
    from .scheduling import start_thread

    app = current_app._get_current_object()
    if "SITE_URL" not in os.environ:  # links in pages, e-mails and PDFs point at where we serve
        app.config["SITE_URL"] = f"http://{host}:{port}"
    interval = app.config["SCHEDULER_INTERVAL_SECONDS"] or 30
    start_thread(app, interval)
    click.echo(f" * VillageAid on http://{host}:{port}/  (scheduler every {interval}s, data in {app.config['DATA_DIR']})")
    from werkzeug.serving import run_simple

    # Not app.run(): Flask ignores it inside a CLI command. No reloader: it would start a second scheduler.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


demo = AppGroup("demo", help="Demo data for a living site.")


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Only seed when there are no users yet.")
def demo_seed(if_empty):
    """Create (or complete) the demo site; safe to run again."""
    from .demo.seed import has_users, seed

    if if_empty and has_users():
        click.echo("database already has users; demo seed skipped")
        return
    summary = seed()
    click.echo("demo seed: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@demo.command("accounts")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def demo_accounts(as_json):
    """Every demo account with its password, roles, organisation and villages."""
    from .demo.seed import demo_accounts as accounts

    rows = accounts()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo("Demo accounts (password for all: see below)")
    for row in rows:
        click.echo(f"  {row['email']:<34} {row['password']:<14} {','.join(row['roles'])}  {row['description']}")


jobs = AppGroup("jobs", help="Background jobs.")


@jobs.command("drain")
def jobs_drain():
    """Enqueue outbox jobs that were never enqueued (e.g. after a Redis outage)."""
    from .queue import drain

    click.echo(f"enqueued {drain(min_age_seconds=0)} job(s)")


@jobs.command("tick")
def jobs_tick():
    """Run one scheduler tick: enqueue every periodic job that is due."""
    from .scheduling import tick

    click.echo("started: " + (", ".join(tick()) or "nothing due"))


@jobs.command("scheduler")
def jobs_scheduler():
    """Run the scheduler loop (production: one or more beside `rq worker`)."""
    from .scheduling import run_forever

    app = current_app._get_current_object()
    run_forever(app, app.config["SCHEDULER_INTERVAL_SECONDS"] or 30)


@jobs.command("failed")
def jobs_failed():
    """List jobs that failed."""
    from .queue import failed_jobs

    for row in failed_jobs():
        click.echo(f"#{row.id} {row.func} attempts={row.attempts}: {(row.last_error or '').splitlines()[-1:]}")


regions = AppGroup("regions", help="Administrative divisions.")


@regions.command("load")
def regions_load():
    """Add missing provinces, prefectures and counties from the national table."""
    from .extensions import db
    from .regions.services import SOURCE, load_national_divisions

    added = load_national_divisions()
    db.session.commit()
    click.echo(f"added {added} divisions from {SOURCE}")


users = AppGroup("users", help="Accounts and roles (for the site operator).")


@users.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.password_option()
def users_create(email, name, password):
    """Create a verified account (e.g. the first admin)."""
    from .accounts import services as accounts
    from .extensions import db
    from .timeutil import utcnow

    user = accounts.register(email, name, password)
    user.email_verified_at = utcnow()
    db.session.commit()
    click.echo(f"created user #{user.id} {user.email}")


@users.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(["admin", "curator", "donor"]))
@click.option("--region", default=None, help="Curator scope: a division code or name (omit for national).")
def users_grant(email, role, region):
    """Give a user a role; a curator is scoped to --region (province, prefecture or county)."""
    from .accounts import services as accounts
    from .extensions import db
    from .regions.services import resolve

    user = accounts.find_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    scope = None
    if region:
        division = resolve(region)
        if division is None:
            raise click.ClickException(f"unknown division {region}")
        scope = division.code
    accounts.grant(user, role, scope if role == "curator" else None)
    db.session.commit()
    click.echo(f"{email}: {', '.join(user.role_names())}" + (f" (scope {scope})" if scope else ""))


search = AppGroup("search", help="The full-text search index.")


@search.command("rebuild")
def search_rebuild():
    """Recreate the index from the database (in a new directory, swapped in when done)."""
    from .search.services import count_public, rebuild

    with click.progressbar(length=count_public(), label="indexing") as bar:
        state = {"done": 0}

        def progress(done, _total):
            bar.update(done - state["done"])
            state["done"] = done

        started = time.perf_counter()
        count = rebuild(progress=progress)
        seconds = time.perf_counter() - started
    click.echo(f"indexed {count} documents in {seconds:.1f} s ({count / max(seconds, 1e-9):.0f} documents/s)")


@search.command("verify")
def search_verify():
    """Compare index and database; exit 1 listing what is missing, stale or extra."""
    from .search.services import verify

    missing, stale, extra = verify()
    for label, ids in (("missing", missing), ("stale", stale), ("extra", extra)):
        for doc_id in ids[:50]:
            click.echo(f"{label}: {doc_id}")
        if len(ids) > 50:
            click.echo(f"{label}: … and {len(ids) - 50} more")
    if missing or stale or extra:
        click.echo(f"index differs from database: {len(missing)} missing, {len(stale)} stale, {len(extra)} extra")
        raise SystemExit(1)
    click.echo("index matches the database")
