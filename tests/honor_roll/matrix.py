"""Honor-roll objects for a security-matrix World (tests/security/test_matrix.py): an edition of the
current campaign year whose one candidate is a Sichuan enterprise, so the world's Sichuan curator
curates it and its Yunnan curator does not."""
from sqlalchemy import select

from tests import factories
from tests.pledges.builders import pledge_values
from villageaid.campaign.services import campaign_year
from villageaid.extensions import db
from villageaid.honor_roll import lifecycle as roll
from villageaid.honor_roll.models import HonorRollCandidate, HonorRollComputation, HonorRollEdition
from villageaid.pledges import lifecycle as pledges
from villageaid.timeutil import local_date_today


def edition_of(world):
    edition = db.session.scalar(select(HonorRollEdition))
    if edition is not None:
        return edition
    u = world.users
    owner = factories.user("四川企业负责人")
    org = factories.organization(owner, province=factories.SICHUAN, prefecture=factories.LIANGSHAN, name="凉山帮扶实业有限公司")
    pledge, _created = pledges.make_pledge(owner, world.published, pledge_values(200_000, organization_id=org.id))
    pledges.accept(u["village_member"], pledge)
    delivery = pledges.report_delivery(owner, pledge, {"quantity": 200_000, "delivered_on": local_date_today(),
                                                       "note": "已转账"})
    pledges.confirm(u["village_member"], delivery)
    pledges.verify(u["curator"], delivery)
    edition = roll.create_edition(u["admin"], campaign_year().year)
    roll.start_computation(u["admin"], edition)
    return edition


def candidate_of(world):
    edition_of(world)
    return db.session.scalar(select(HonorRollCandidate))


def computation_of(world):
    edition_of(world)
    return db.session.scalar(select(HonorRollComputation))


def in_notice(world):
    edition = edition_of(world)
    candidate = candidate_of(world)
    if edition.status == "draft":
        roll.set_citation(world.users["admin"], candidate, "在昭觉县援建村级幼儿园。")
        roll.start_notice(world.users["admin"], edition)
    return edition


def objection_of(world):
    edition = in_notice(world)
    return roll.file_objection(None, edition, candidate_id=candidate_of(world).id, name="群众", contact="13800000000",
                               body="该企业的交付尚有争议。")


def settings_form(edition):
    return {"title": edition.title, "period_start": edition.period_start.isoformat(),
            "period_end": edition.period_end.isoformat(), "notice_days": "5",
            "publish_date": f"{edition.year}-10-17", "publish_time": "00:00", "weight_funds": "10",
            "weight_jobs": "5", "weight_villages": "20", "weight_beneficiaries": "1"}
