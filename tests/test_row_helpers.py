"""The badges, pledger links and amounts list rows render through Python functions (pledges/views.py,
needs/views.py), not macros: they must escape what users typed and read as the macros did."""
from types import SimpleNamespace

from flask_babel import refresh

from villageaid.needs.views import need_amount, need_status_badge
from villageaid.pledges.views import delivery_status_badge, pledge_status_badge, pledger_link_html


def test_pledger_link_escapes_names_and_links_organisations(app):
    with app.test_request_context("/"):
        org = SimpleNamespace(organization=object(), organization_id=7, public_name='<b>"甲"</b>企业')
        person = SimpleNamespace(organization=None, organization_id=None, public_name="<script>x</script>")
        assert str(pledger_link_html(org)) == '<a href="/helpers/7">&lt;b&gt;&#34;甲&#34;&lt;/b&gt;企业</a>'
        assert str(pledger_link_html(person)) == "&lt;script&gt;x&lt;/script&gt;"


def test_badges_carry_status_colour_and_escaped_label(app):
    with app.test_request_context("/"):
        pledge = SimpleNamespace(status="verified", status_label="已<核实>")
        assert str(pledge_status_badge(pledge)) == (
            '<span class="badge text-bg-success" data-pledge-status="verified">已&lt;核实&gt;</span>')
        unknown = SimpleNamespace(status="odd", status_label="?")
        assert 'text-bg-secondary' in str(delivery_status_badge(unknown))
        need = SimpleNamespace(status="published", status_label="征集中")
        assert 'data-status="published">征集中</span>' in str(need_status_badge(need))


def test_amounts_in_each_unit_and_language(app):
    with app.test_request_context("/"):
        assert need_amount(SimpleNamespace(unit="cny_fen"), 125000050) == "¥1,250,000.50"
        assert need_amount(SimpleNamespace(unit="jobs"), 1200) == "1,200 个岗位"
        assert need_amount(SimpleNamespace(unit="goods"), 3) == "3 件"
        assert need_amount(SimpleNamespace(unit="volunteer_hours"), 8) == "8 小时"
    with app.test_request_context("/?lang=en"):
        refresh()  # the test's app context outlives the first request's: forget its locale
        assert need_amount(SimpleNamespace(unit="jobs"), 1) == "1 job"
        assert need_amount(SimpleNamespace(unit="jobs"), 1200) == "1,200 jobs"


def test_option_tags_escape_and_select_the_value_as_text(app):
    from flask_babel import lazy_gettext

    from villageaid.web import option_tags

    with app.test_request_context("/"):
        rows = [("", lazy_gettext("全部省份")), ("510000000000", "四川省"), (3, '"3" <个>')]
        assert str(option_tags(rows, None)) == (
            '<option value="" selected>全部省份</option><option value="510000000000">四川省</option>'
            '<option value="3">&#34;3&#34; &lt;个&gt;</option>')
        assert 'value="510000000000" selected' in option_tags(rows, "510000000000")
        assert 'value="3" selected' in option_tags(rows, 3) and 'value="" selected' not in option_tags(rows, 3)


def test_search_result_cards_escape_the_index_text_and_show_a_needs_figures(app):
    from datetime import datetime

    from villageaid.search.views import result_items

    need = {"kind": "need", "doc_id": "need:7", "obj_id": 7, "title": "<b>花椒</b>烘干", "place": "四川省 & 昭觉县",
            "status": "published", "snippet": "种植<mark>花椒</mark>", "progress": 2550,
            "deadline": datetime(2027, 3, 9), "people": 1}
    village = {"kind": "village", "doc_id": "village:3", "obj_id": 3, "title": "团结村", "place": "昭觉县",
               "status": None, "snippet": None, "progress": None, "deadline": None, "people": None}
    with app.test_request_context("/"):
        html = str(result_items(SimpleNamespace(items=[need, village])))
        refresh()
        with app.test_request_context("/?lang=en"):
            english = str(result_items(SimpleNamespace(items=[need])))
    assert '<a class="fw-semibold" href="/needs/7">&lt;b&gt;花椒&lt;/b&gt;烘干</a>' in html
    assert "四川省 &amp; 昭觉县" in html and '<div class="small mt-1">种植<mark>花椒</mark></div>' in html
    assert 'data-status="published">征集中</span>' in html
    assert "已认捐 25% · 截止 2027-03-09 · 受益 1 人" in html
    village_card = html[html.index('data-doc-id="village:3"'):]
    assert 'href="/villages/3"' in village_card and "data-status" not in village_card and "已认捐" not in village_card
    assert "25% pledged · Due 2027-03-09 · Benefits 1 person" in english and ">Needs</span>" in english
