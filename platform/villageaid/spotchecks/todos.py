"""What spot checks ask of curators: the open checks in their regions still waiting for visit results."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..policy import scope_filters
from ..todo import Todo, source
from .models import CheckStatus, SpotCheck


@source
def curator_todos(user):
    if not user.is_curator:
        return []
    query = select(func.count()).select_from(SpotCheck).where(SpotCheck.status == CheckStatus.OPEN.value)
    condition = scope_filters(user, SpotCheck.region_code)
    if condition is not None:
        query = query.where(condition)
    return [Todo(_l("进行中的抽查"), db.session.scalar(query), "spotchecks.index")]
