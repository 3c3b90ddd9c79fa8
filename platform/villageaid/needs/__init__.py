"""需求 — what a village asks for, from draft through review and publication to closing."""
from ..scheduling import every
from . import todos  # noqa: F401  (registers what needs ask of people on /me)
from . import tally  # noqa: F401  (creates the need tally's triggers with the tables)
from .documents import register_search_source

# Deadlines are Chinese dates; checking every ten minutes expires a need within minutes of midnight.
every(600, "expire-needs", "jobs.needs.expire_overdue")
register_search_source()
