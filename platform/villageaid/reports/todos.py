"""What reports ask of curators: the live cases in their regions."""
from flask_babel import lazy_gettext as _l

from ..todo import Todo, source
from .services import count_live


@source
def curator_todos(user):
    if not user.is_curator:
        return []
    return [Todo(_l("待处理的投诉举报"), count_live(user), "reports.queue")]
