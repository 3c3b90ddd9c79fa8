"""Pledges made within a pairing are marked so, and listed under the pairing and its yearly report."""
from datetime import timedelta

from sqlalchemy import select

from tests import factories
from tests.matching.builders import PLAN, ZHAOJUE, Places
from tests.pledges.builders import pledge_values
from villageaid.extensions import db
from villageaid.matching import lifecycle, services
from villageaid.matching.models import PairingPledge
from villageaid.pledges import lifecycle as pledges
from villageaid.pledges.views import panel_pledges
from villageaid.timeutil import local_date_today


def _pledge(user, need, quantity=100_000, org=None):
    return pledges.make_pledge(user, need, pledge_values(quantity, organization_id=org.id if org else None))[0]


def test_pledges_within_a_pairing_are_marked(any_app):
    places = Places()
    need = places.need(ZHAOJUE)
    village = need.village
    owner = factories.user()
    org = factories.organization(owner)
    other_owner = factories.user()
    other = factories.organization(other_owner)
    before = _pledge(owner, need, org=org)  # before the pairing: not within it
    pairing = lifecycle.propose_pairing(owner, org, village, plan=PLAN, start_date=local_date_today())
    lifecycle.accept_pairing(village.members[0].user, pairing)

    within = _pledge(owner, need, org=org)
    personal = _pledge(owner, need)           # the same person, for themselves: not the organisation's pairing
    stranger = _pledge(other_owner, need, org=other)
    marks = {pledge.id: pledge.pairing_id for pledge in panel_pledges(need)}
    assert marks == {before.id: None, within.id: pairing.id, personal.id: None, stranger.id: None}
    assert [c.pledge.id for c in services.contributions(pairing)] == [within.id]
    assert [c.pledge.id for c in services.contributions(pairing, local_date_today().year)] == [within.id]
    assert services.contributions(pairing, local_date_today().year - 1) == []

    lifecycle.end_pairing(owner, pairing, "帮扶计划已完成")
    after = _pledge(owner, need, org=org)
    assert {pledge.id: pledge.pairing_id for pledge in panel_pledges(need)}[after.id] is None
    assert db.session.scalar(select(PairingPledge.pledge_id).where(PairingPledge.pledge_id == within.id)) == within.id


def test_the_pairing_page_and_its_report_list_the_pledges_and_deliveries(app, client):
    places = Places()
    need = places.need(ZHAOJUE)
    village = need.village
    member = village.members[0].user
    owner = factories.user()
    org = factories.organization(owner)
    pairing = lifecycle.propose_pairing(owner, org, village, plan=PLAN, start_date=local_date_today())
    lifecycle.accept_pairing(member, pairing)
    pledge = _pledge(owner, need, 300_000, org=org)
    pledges.accept(member, pledge)
    pledges.report_delivery(owner, pledge, {"quantity": 100_000, "delivered_on": local_date_today(), "note": "首批"})
    cancelled = _pledge(owner, need, 100_000, org=org)
    pledges.cancel(owner, cancelled, "预算调整")

    for path in (f"/pairings/{pairing.id}", f"/pairings/{pairing.id}/reports/{local_date_today().year}"):
        if path.endswith(str(local_date_today().year)):
            lifecycle.write_report(owner, pairing, local_date_today().year, "本年度资助村小学取暖用煤。")
        html = client.get(path).get_data(as_text=True)
        assert f'data-pledge-code="{pledge.code}"' in html and f"/track/{pledge.code}" in html, path
        assert cancelled.code not in html
        assert "¥1,000.00" in html  # the delivery
    # On the need page, the pledge made within the pairing carries the mark and links to the pairing.
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    row = html[html.index(f'data-pledge="{pledge.code}"'):]
    row = row[:row.index("</li>")]
    assert "data-within-pairing" in row and f"/pairings/{pairing.id}" in row


def test_a_pairing_started_last_year_lists_only_this_years_pledges_in_this_years_report(app):
    places = Places()
    need = places.need(ZHAOJUE)
    owner = factories.user()
    org = factories.organization(owner)
    start = local_date_today() - timedelta(days=200)
    pairing = lifecycle.propose_pairing(owner, org, need.village, plan=PLAN, start_date=start)
    lifecycle.accept_pairing(need.village.members[0].user, pairing)
    pledge = _pledge(owner, need, org=org)
    assert [c.pledge.id for c in services.contributions(pairing, local_date_today().year)] == [pledge.id]
    if start.year < local_date_today().year:
        assert services.contributions(pairing, start.year) == []
