"""政策宣传: curators' Markdown articles (sanitised, draft → published ⇄ withdrawn, scoped to their region)
and the policy documents shipped with the platform."""
import itertools
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import login, post_form
from villageaid.articles import lifecycle, policies, services
from villageaid.articles.lifecycle import ALLOWED, TransitionError
from villageaid.articles.models import Article, ArticleStatus
from villageaid.articles.text import render_article
from villageaid.audit.models import AuditEvent
from villageaid.errors import PermissionDenied, ServiceError
from villageaid.extensions import db

SEEDS = Path("/work/shared/seeds")
BODY = "## 活动安排\n\n10 月 17 日前，各地工商联组织民营企业对接**贫困村需求**。\n\n- 产业帮扶\n- 就业帮扶\n"


def values(**overrides):
    return {"title": "2026 年“10·17”扶贫日活动安排", "summary": None, "body": BODY, "slug": None, **overrides}


def test_markdown_is_rendered_and_sanitised():
    html = render_article(
        "## 小标题\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[点我](javascript:alert(1)) [政策](https://www.gov.cn/)\n\n![图](https://x/y.png)\n\n**加粗**")
    assert "<h2>小标题</h2>" in html and "<strong>加粗</strong>" in html
    tags = re.findall(r"<[^>]+>", html)
    assert not [t for t in tags if t.startswith(("<script", "<img")) or "onerror" in t or "javascript" in t], tags
    assert '<a href="https://www.gov.cn/" rel="nofollow noopener noreferrer">政策</a>' in html
    assert "&lt;script&gt;" in html  # raw HTML shows as text


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ArticleStatus, ArticleStatus)))
def test_transition_table(current, target):
    if target in ALLOWED[current]:
        lifecycle.check(current, target)
    else:
        with pytest.raises(TransitionError):
            lifecycle.check(current, target)


def test_a_draft_is_published_withdrawn_and_published_again(app, client):
    curator = factories.curator(factories.SICHUAN)
    article = services.create_article(curator, values())
    assert article.status == "draft" and article.region_code == factories.SICHUAN and article.published_at is None
    assert client.get(f"/policy/{article.slug}").status_code == 404
    assert article.slug not in client.get("/policy").get_data(as_text=True)
    lifecycle.publish(curator, article)
    first = article.published_at
    page = client.get(f"/policy/{article.slug}").get_data(as_text=True)
    assert "<h2>活动安排</h2>" in page and "四川省" in page
    assert f'data-article="{article.slug}"' in client.get("/policy").get_data(as_text=True)
    lifecycle.withdraw(curator, article, "内容需要更新")
    assert client.get(f"/policy/{article.slug}").status_code == 404
    with pytest.raises(TransitionError):
        lifecycle.withdraw(curator, article)
    lifecycle.publish(curator, article)
    assert article.published_at == first  # dated by its first publication
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "article")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["create_article", "publish_article", "withdraw_article", "publish_article"]


def test_curators_write_for_their_region_only(app):
    sichuan = factories.curator(factories.SICHUAN)
    article = services.create_article(sichuan, values())
    for outsider in (factories.curator(factories.YUNNAN), factories.user()):
        with pytest.raises(PermissionDenied):
            services.update_article(outsider, article, values(title="改"))
        with pytest.raises(PermissionDenied):
            lifecycle.publish(outsider, article)
    with pytest.raises(PermissionDenied):
        services.create_article(factories.user(), values())
    national = services.create_article(factories.curator(), values(title="全国工商联通知"))
    assert national.region_code is None
    with pytest.raises(PermissionDenied):
        services.update_article(sichuan, national, values())
    services.update_article(factories.admin(), article, values(title="管理员修改"))
    assert article.title == "管理员修改" and article.status == "draft"


@pytest.mark.parametrize("overrides,field", [
    ({"title": ""}, "title"), ({"body": " "}, "body"), ({"title": "长" * 121}, "title"),
    ({"slug": "Not A Slug"}, "slug"), ({"slug": policies.DOCUMENTS[0].slug}, "slug"),
])
def test_bad_articles_are_refused_field_by_field(app, overrides, field):
    with pytest.raises(ServiceError) as info:
        services.create_article(factories.curator(), values(**overrides))
    assert field in info.value.fields
    assert db.session.scalar(select(Article.id)) is None


def test_a_slug_is_unique(app):
    curator = factories.curator()
    services.create_article(curator, values(slug="1017-campaign"))
    with pytest.raises(ServiceError) as info:
        services.create_article(curator, values(slug="1017-campaign"))
    assert "slug" in info.value.fields


def test_the_pages_write_and_publish_an_article(app, client):
    curator = factories.curator(factories.SICHUAN)
    login(client, curator.email)
    response = post_form(client, "/curate/articles/new", {**values(slug="sichuan-1017"), "summary": "", "publish": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/policy/sichuan-1017")
    article = db.session.scalar(select(Article))
    assert article.status == "published"
    response = post_form(client, f"/curate/articles/{article.id}/edit", {**values(title="新标题", slug="sichuan-1017"),
                                                                         "summary": "摘要"})
    assert response.status_code == 302 and db.session.get(Article, article.id).title == "新标题"
    assert "新标题" in client.get("/curate/articles").get_data(as_text=True)
    response = post_form(client, f"/curate/articles/{article.id}/withdraw", {}, page="/policy/sichuan-1017")
    assert response.status_code == 302 and db.session.get(Article, article.id).status == "withdrawn"
    bad = post_form(client, "/curate/articles/new", {**values(title=""), "summary": ""})
    assert bad.status_code == 200 and "请填写标题" in bad.get_data(as_text=True) and "活动安排" in bad.get_data(as_text=True)


def test_policy_documents_are_listed_with_title_issuer_and_date(client):
    page = client.get("/policy").get_data(as_text=True)
    assert page.count("data-policy=") == len(policies.DOCUMENTS) == 5
    for document in policies.DOCUMENTS:
        assert document.zh.title in page and document.zh.issuer in page
        shown = client.get(f"/policy/{document.slug}").get_data(as_text=True)
        assert document.zh.summary[-1] in shown and document.zh.date in shown
    english = client.get(f"/policy/{policies.DOCUMENTS[0].slug}?lang=en").get_data(as_text=True)
    assert policies.DOCUMENTS[0].en.title in english and "State Council" in english


def test_policy_documents_are_complete():
    assert len({d.slug for d in policies.DOCUMENTS}) == len({d.seed for d in policies.DOCUMENTS}) == len(policies.DOCUMENTS)
    for document in policies.DOCUMENTS:
        for text in (document.zh, document.en):
            assert text.title and text.issuer and text.date and text.source and text.summary and text.points
        assert len(document.zh.summary) == len(document.en.summary)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not on this machine")
@pytest.mark.parametrize("document", policies.DOCUMENTS, ids=lambda d: d.slug)
def test_every_figure_in_a_summary_is_in_its_source(document):
    """The summaries make up no numbers: each figure in the Chinese summary occurs in the seed document."""
    source = (SEEDS / document.seed).read_text(encoding="utf-8")
    figures = set(re.findall(r"\d+(?:\.\d+)?", "".join(document.zh.summary)))
    missing = sorted(f for f in figures if f not in source)
    assert not missing, f"{document.slug}: {missing} not in {document.seed}"
