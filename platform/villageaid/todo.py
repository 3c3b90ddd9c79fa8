"""What awaits a user (/me): each feature registers a function that lists its to-dos for a user.

A to-do is a count of things someone must act on, a label and the endpoint of the page where they
act (resolved by the page, so sources also work outside a request). Features
register at import (`@source`), so /me needs no knowledge of them.
"""
from dataclasses import dataclass

SOURCES = []


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    endpoint: str


def source(func):
    """Register `func(user) -> iterable of Todo`."""
    SOURCES.append(func)
    return func


def for_user(user):
    """Every non-empty to-do of `user`, in registration order."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [todo for func in SOURCES for todo in func(user) if todo.count]
