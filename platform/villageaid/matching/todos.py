"""What matchmaking asks of people on /me: invitations to answer, pairing proposals, yearly reports due."""
from flask_babel import lazy_gettext as _l

from ..todo import Todo, source
from . import services


@source
def matching_todos(user):
    org_ids = [o.id for o in services.acting_organizations(user)]
    todos = [Todo(_l("受邀帮扶、待回复的需求"), services.count_pending_invitations(org_ids), "matching.recommendations")]
    if org_ids or user.villages:
        todos += [Todo(_l("待您确认的结对申请"), len(services.proposals_awaiting(user)), "matching.my_pairings"),
                  Todo(_l("待填写的上一年度结对帮扶报告"), len(services.missing_reports(user)), "matching.my_pairings")]
    return todos
