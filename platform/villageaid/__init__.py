"""VillageAid — the 万企帮万村 matchmaking platform. `create_app()` is the table of contents."""
from pathlib import Path

from flask import Flask

import config as settings

from . import cli, i18n, pagecache, pgprepare, queue, security, web
from .search import services as search_services
from .extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate, rest_api

ROOT = Path(__file__).resolve().parents[2]


def create_app(overrides=None):
    """Build the app from config.py (environment) plus `overrides` (tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    # Templates compiled once per process, not once per app (the test suite builds an app per test).
    app.jinja_options = {**app.jinja_options, "bytecode_cache": web.TEMPLATE_BYTECODE}
    configure(app, overrides)
    register_extensions(app)
    register_models()
    register_blueprints(app)
    web.register_errorhandlers(app)
    web.register_template_helpers(app)
    security.register_headers(app)
    pagecache.register(app)
    cli.register_commands(app)
    return app


def configure(app, overrides):
    config_class = settings.config_for((overrides or {}).get("ENV_NAME"))
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    data_dir = Path(app.config["DATA_DIR"]).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(data_dir)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data_dir / 'villageaid.sqlite'}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    if app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"] in (None, "", "dev-only-not-secret"):
        raise RuntimeError("SECRET_KEY must be set in production")


def register_extensions(app):
    db.init_app(app)
    _sqlite_pragmas(app)
    with app.app_context():
        pgprepare.register(db.engine)
    queue.register_session_events(db.session)
    search_services.register_session_events(db.session)
    pagecache.register_session_events(db.session)
    app.after_request(_dispatch_jobs)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: "Asia/Shanghai")
    bootstrap.init_app(app)
    limiter.init_app(app)
    rest_api.init_app(app)


def _dispatch_jobs(response):
    """Enqueue jobs of transactions a view committed with a plain db.session.commit()."""
    queue.dispatch_pending()
    return response


def _sqlite_pragmas(app):
    """WAL, a busy timeout and enforced foreign keys on SQLite (NOTES.md: 'database is locked')."""
    from sqlalchemy import event

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    synchronous = {"OFF": "OFF", "NORMAL": "NORMAL", "FULL": "FULL"}[app.config.get("SQLITE_SYNCHRONOUS", "NORMAL")]
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL's recommended setting (FULL fsyncs every commit): a crash of the app loses nothing; a
            # power cut may lose the last commits, never the database. Tests run with OFF.
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.close()


def register_models():
    """Import every model module so metadata (and Alembic) sees all tables."""
    from . import models  # noqa: F401
    from .search.documents import register_core_sources

    register_core_sources()


def register_blueprints(app):
    # Every <int:…> in a page's path stops where ids stop: a number past any id names nothing (404),
    # instead of reaching a database that cannot bind it (SQLite refuses anything past 2**63 - 1: a 500).
    app.url_map.converters["int"] = web.BoundedIntConverter
    from .accounts.views import bp as accounts_bp
    from .api import register_api
    from .articles.views import bp as articles_bp
    from .campaign.views import bp as campaign_bp
    from .curation.views import bp as curation_bp
    from .main.views import bp as main_bp
    from .matching.views import bp as matching_bp
    from .needs.views import bp as needs_bp
    from .organizations.views import bp as organizations_bp
    from .pledges.views import bp as pledges_bp
    from .regions.views import bp as regions_bp
    from .reports.views import bp as reports_bp
    from .search.views import bp as search_bp
    from .stats.views import bp as stats_bp
    from .ledger.views import bp as ledger_bp
    from .honor_roll.curate import bp as honor_roll_curate_bp
    from .honor_roll.views import bp as honor_roll_bp
    from .spotchecks.views import bp as spotchecks_bp
    from .villages.views import bp as villages_bp

    for blueprint in (main_bp, accounts_bp, organizations_bp, villages_bp, curation_bp, pledges_bp, regions_bp, search_bp, needs_bp,
                      matching_bp):
        app.register_blueprint(blueprint)
    for blueprint in (reports_bp, articles_bp, campaign_bp, stats_bp, ledger_bp, spotchecks_bp, honor_roll_bp,
                      honor_roll_curate_bp):
        app.register_blueprint(blueprint)
    register_api(app)
