"""A subquery's rows as one JSON value, so that a page's lists can come in the page's own SELECT.

Every statement a page sends costs it a round trip and, on PostgreSQL, psycopg's and SQLAlchemy's
handling of one more result (about 0.3 ms of the worker's CPU at campaign scale) plus the server's
own work for it: the need page's pledges and 进展 were two SELECTs after the need's. Read as
`json_rows(...)` columns of the need's SELECT, they are one (docs/performance.md).

`rows_of(select, names)` is a scalar subquery whose value is a JSON array of arrays, one per row of
`select`, its columns in the order `names` gives (NULL, read as None, when there are none). The
order of the rows is not defined: sort them in Python. Booleans come back as true/false on
PostgreSQL and 1/0 on SQLite, timestamps as ISO 8601 text (`timestamp` reads them).
"""
from datetime import datetime

from sqlalchemy import select, types
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class json_rows(FunctionElement):  # noqa: N801 — used like SQLAlchemy's func.<name>
    """The aggregate of `json_array(columns…)` over a SELECT's rows, in each database's own words."""

    type = types.JSON()
    name = "json_rows"
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _postgresql(element, compiler, **kw):
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def rows_of(statement, names):
    """A scalar subquery: the rows of `statement` as a JSON array of [names…] arrays."""
    rows = statement.subquery()
    return select(json_rows(*(rows.c[name] for name in names))).scalar_subquery()


def timestamp(value):
    """A timestamp column's value as the ORM gives it (aware on PostgreSQL, naive UTC on SQLite), whether
    it came as JSON text or, from a statement of its own, as a datetime already."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
