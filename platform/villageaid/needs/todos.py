"""What needs ask of people: drafts and needs sent back to a village, submissions to a curator."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..policy import scope_filters
from ..todo import Todo, source
from ..villages.models import Village
from .models import Need, NeedStatus


@source
def village_todos(user):
    ids = [v.id for v in user.villages]
    if not ids:
        return []
    drafts = select(func.count()).select_from(Need).where(Need.village_id.in_(ids),
                                                          Need.status == NeedStatus.DRAFT.value)
    sent_back = db.session.scalar(drafts.where(Need.review_note.is_not(None)))
    unsent = db.session.scalar(drafts.where(Need.review_note.is_(None)))
    return [Todo(_l("审核员退回、待修改的需求"), sent_back, "needs.mine"),
            Todo(_l("尚未提交审核的需求草稿"), unsent, "needs.mine")]


@source
def curator_todos(user):
    if not user.is_curator:
        return []
    query = select(func.count()).select_from(Need).join(Need.village).where(Need.status == NeedStatus.SUBMITTED.value)
    condition = scope_filters(user, Village.code)
    if condition is not None:
        query = query.where(condition)
    return [Todo(_l("待审核的需求"), db.session.scalar(query), "needs.review")]
