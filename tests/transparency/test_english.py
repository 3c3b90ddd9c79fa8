"""The transparency pages read as English in English: only proper names from the data stay Chinese."""
import pytest

from tests import factories
from tests.conftest import login
from tests.needs.builders import S, World
from tests.test_i18n import chinese_left
from villageaid.articles.policies import DOCUMENTS
from villageaid.regions.models import Region
from villageaid.reports import lifecycle, services


@pytest.fixture
def site(app):
    world = World()
    need = world.need(S.PUBLISHED)
    org = factories.organization()
    case = services.file_report(None, org, "misuse", "有人冒用该企业名义收取对接费用。").case
    lifecycle.close(factories.curator(), case, "dismissed", "Not founded: the company collected nothing.")
    names = {r.name for r in Region.query} | {need.title, world.village.name, org.name, world.village.place_name,
                                              world.village.township_name}
    return world, need, org, names


def _english(client, path):
    response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_public_pages_in_english(client, site):
    world, need, org, names = site
    for path in ["/policy", "/campaign", "/stats", f"/report/need/{need.id}", f"/helpers/{org.id}",
                 *[f"/policy/{d.slug}" for d in DOCUMENTS]]:
        assert chinese_left(_english(client, path), names) == [], path


def test_curator_pages_in_english(client, site):
    world, need, org, names = site
    services.file_report(None, need, "false_info", "The number of pupils is wrong.")
    client.get("/?lang=en")
    login(client, world.curator.email)
    names = names | {world.curator.name}
    for path in ["/curate/reports", "/curate/reports?status=closed", "/curate/villages/import", "/curate/articles",
                 "/curate/articles/new", "/curate"]:
        assert chinese_left(_english(client, path), names) == [], path
