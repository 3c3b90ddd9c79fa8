"""What needs ask of people, on /me and /needs/mine."""
import pytest

from tests import factories
from tests.conftest import login
from tests.needs.builders import S, World
from villageaid.needs import lifecycle
from villageaid.todo import for_user


@pytest.fixture
def world(app):
    return World()


def labels(user):
    return {str(t.label): t.count for t in for_user(user)}


def test_a_sent_back_need_waits_on_the_village_with_the_curators_comment(world, client):
    need = world.need(S.SUBMITTED, title="村小学冬季取暖用煤")
    lifecycle.send_back(world.curator, need, "请补充每户用煤预算")
    world.need(S.DRAFT, title="茶园提质改造")

    assert labels(world.member) == {"审核员退回、待修改的需求": 1, "尚未提交审核的需求草稿": 1}
    login(client, world.member.email)
    me = client.get("/me").get_data(as_text=True)
    assert "审核员退回、待修改的需求" in me and "/needs/mine" in me
    mine = client.get("/needs/mine").get_data(as_text=True)
    assert mine.index("村小学冬季取暖用煤") < mine.index("请补充每户用煤预算")
    assert "茶园提质改造" in mine


def test_submissions_wait_on_curators_of_the_region_only(world):
    world.need(S.SUBMITTED)
    world.need(S.PUBLISHED)
    assert labels(world.curator) == {"待审核的需求": 1}
    assert labels(factories.curator(factories.ZHEJIANG)) == {}
    assert labels(factories.curator()) == {"待审核的需求": 1}  # national
    assert labels(factories.user()) == {}


def test_nothing_waits_once_the_need_is_published(world):
    world.need(S.PUBLISHED)
    assert labels(world.member) == {} and labels(world.curator) == {}


def test_my_needs_page_needs_a_login(client):
    response = client.get("/needs/mine")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
