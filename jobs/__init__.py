"""RQ job functions: thin, module-level, taking ids, each running inside the app.

A job loads its rows by id and calls a feature service. Jobs may run twice (a killed worker's
job is retried), so every job is idempotent.
"""
import functools
import os

from flask import has_app_context

_app = None
_app_pid = None


def _app_for_this_process():
    """One app per process; after a fork (RQ's work horse) the inherited DB pool is dropped."""
    global _app, _app_pid
    if _app is None:
        from villageaid import create_app

        _app = create_app()
        _app_pid = os.getpid()
    elif _app_pid != os.getpid():
        from villageaid.extensions import db

        with _app.app_context():
            db.engine.dispose(close=False)
        _app_pid = os.getpid()
    return _app


def job(func):
    """Run `func` inside an app context: the caller's when inline, the process's app in a worker."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with _app_for_this_process().app_context():
            from villageaid.extensions import db

            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def use_app(app):
    """Make the worker process use an app it already built (the worker entry point)."""
    global _app, _app_pid
    _app, _app_pid = app, os.getpid()
