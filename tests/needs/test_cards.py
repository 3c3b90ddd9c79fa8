"""Need cards are rendered once per version of the need and language, and never shown stale."""
from tests.needs.builders import S, World, set_pledged
from villageaid.extensions import db
from villageaid.needs import cards


def _card(client, need, lang="zh_CN"):
    html = client.get(f"/needs?lang={lang}").get_data(as_text=True)
    start = html.index(f'data-need-id="{need.id}"')
    return html[start:start + 3000]


def test_a_card_follows_the_need_its_village_and_the_language(app, client):
    cards.clear()
    world = World()
    need = world.need(S.PUBLISHED)
    assert "¥0.00 · 0%" in _card(client, need)
    assert len(cards._cards) == 1
    _card(client, need)
    assert len(cards._cards) == 1  # the second view reused it

    set_pledged(need, 1_500_000)
    db.session.commit()
    assert "¥15,000.00 · 50%" in _card(client, need)

    world.village.name = "新名字村"
    db.session.commit()
    assert "新名字村" in _card(client, need)

    need.title = "改过的标题"
    db.session.commit()
    assert "改过的标题" in _card(client, need)
    english = _card(client, need, "en")
    assert "Target" in english and "目标" not in english


def test_the_cache_is_bounded(app, client, monkeypatch):
    cards.clear()
    monkeypatch.setattr(cards, "LIMIT", 2)
    world = World()
    needs = [world.need(S.PUBLISHED, title=f"村小学第{n}批冬季取暖用煤") for n in range(3)]
    client.get("/needs")
    assert len(cards._cards) == 2
    assert {key[1] for key in cards._cards} <= {n.id for n in needs}


def test_a_page_of_current_cards_loads_no_need_and_a_changed_one_is_rendered_again(app, client, monkeypatch):
    """/needs reads only the cards' keys (browse.HEAD_COLUMNS); a need is loaded and its card
    rendered again only when its key changed, here by the race-safe UPDATE of its pledged total."""
    cards.clear()
    world = World()
    needs = [world.need(S.PUBLISHED, title=f"村小学第{n}批冬季取暖用煤") for n in range(3)]
    client.get("/needs")
    rendered = []
    real = cards.need_card
    monkeypatch.setattr(cards, "need_card", lambda need, snippet=None: rendered.append(need.id) or real(need, snippet))
    html = client.get("/needs").get_data(as_text=True)
    assert rendered == [] and all(f'data-need-id="{n.id}"' in html for n in needs)

    set_pledged(needs[1], 1_500_000)
    db.session.commit()
    html = client.get("/needs").get_data(as_text=True)
    assert rendered == [needs[1].id]
    start = html.index(f'data-need-id="{needs[1].id}"')
    assert "¥15,000.00 · 50%" in html[start:start + 3000]
