"""`flask db upgrade` builds the whole schema and the reference data, and the migrations keep up with
the models (an `alembic check`: autogenerate finds nothing to do after upgrading).
"""
import os

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from tests.conftest import TEST_DATABASE_URL, make_app
from villageaid.extensions import db
from villageaid.regions.models import Level, Region
from villageaid.regions.services import national_divisions


def _upgrade_and_check(app):
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables, set(db.metadata.tables) - tables
        assert "alembic_version" in tables

        expected = len(national_divisions())
        assert 3000 < expected < 4000
        assert db.session.scalar(select(func.count()).select_from(Region)) == expected
        provinces = db.session.scalar(select(func.count()).select_from(Region).where(Region.level == Level.PROVINCE))
        assert provinces == 34
        assert db.session.get(Region, "513431000000").name == "昭觉县"
        assert db.session.get(Region, "513431000000").parent_code == "513400000000"

        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ (run `flask db migrate`): {diff}"

        # Upgrading again is a no-op.
        flask_migrate.upgrade()
        assert db.session.scalar(select(func.count()).select_from(Region)) == expected
        db.session.remove()
        db.engine.dispose()


def test_upgrade_on_an_empty_sqlite_file(tmp_path):
    path = tmp_path / "fresh.sqlite"
    app = make_app(tmp_path, f"sqlite:///{path}")
    _upgrade_and_check(app)
    assert path.stat().st_size > 0


def test_upgrade_on_an_empty_postgresql_database(tmp_path, pg_schema):
    if not TEST_DATABASE_URL:  # pg_schema skips first; kept for clarity
        pytest.skip("TEST_DATABASE_URL is not set")
    import psycopg
    from sqlalchemy.engine import make_url

    # A database of its own, so the session's shared test schema is never touched.
    name = f"va_migrate_test_{os.getpid()}"
    server = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
    admin_dsn = server.render_as_string(hide_password=False)

    def admin(sql):
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
        app = make_app(tmp_path, url)
        _upgrade_and_check(app)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
