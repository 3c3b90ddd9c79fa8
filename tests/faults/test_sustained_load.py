"""A sustained load of mixed reads and pledges with zero 5xx, and nothing accepted lost: bench/load.py's
own code, for a dozen seconds at a small scale (the several-minute run is `bench/load.py --minutes 5`), against
gunicorn the production way.

On SQLite always; on PostgreSQL too when TEST_DATABASE_URL is set (CI), in a database of the test's
own created on that server and dropped afterwards, so it never touches another test's schema. The
request rate is capped so that the test shares the machine's two cores with the rest of the suite.
"""
import os
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import load  # noqa: E402

SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "12"))
SMALL = {"organizations": 60, "villages": 100, "needs": 300, "pledges": 900, "deliveries": 900}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _load(tmp_path, database_url=None):
    lines = []
    result = load.run_load(seconds=SECONDS, readers=4, pledgers=3, workers=2, rate=30, data_dir=tmp_path / "data",
                           database_url=database_url, out=lines.append, **SMALL)
    print("\n".join(lines))
    assert result["ok"], "\n".join(lines)
    # It really was a mix: every kind of read, and pledges both accepted and refused.
    assert set(result["kinds"]) >= {"home", "needs_list", "need_page", "search", "stats", "track", "pledge_form",
                                    "pledge", "pledge_page"}, result["kinds"]
    # Not a throughput test: under `pytest -n 4` on two busy cores it has made as few as 4 requests a second.
    assert result["accepted"] > 0 and result["requests"] >= 20
    return result


def test_sustained_load_on_sqlite(tmp_path):
    _load(tmp_path)


@pytest.fixture
def private_database():
    """A database of this test's own on TEST_DATABASE_URL's server (CI), dropped afterwards."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL load test skipped (CI sets it)")
    import sqlalchemy

    name = f"va_load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sqlalchemy.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(TEST_DATABASE_URL)._replace(path=f"/{name}"))
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_sustained_load_on_postgresql(tmp_path, private_database):
    _load(tmp_path, private_database)
