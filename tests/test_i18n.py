"""Translations: every msgid in the tree has a reviewed English translation, and English pages read as English.

Chinese is the source language: msgids are the zh_CN text, so zh_CN needs no catalogue of its own
and is complete as long as every msgid is Chinese. English lives in translations/en; `make messages`
re-extracts and merges, and the tests here extract the current tree afresh (into a temporary folder,
with the Makefile's keywords and babel.cfg), so a string added without a translation fails here.
"""
import gettext
import re
from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests import factories
from tests.conftest import login
from tests.needs.builders import World
from villageaid.needs.models import Need
from villageaid.organizations.models import Organization
from villageaid.regions.models import Region
from villageaid.timeutil import local_date_today
from villageaid.villages.models import Village

# One worker runs the module: the extraction (its module fixture) is done once, not once per worker.
pytestmark = pytest.mark.xdist_group("i18n")

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "platform" / "villageaid" / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")

# Han characters plus CJK punctuation (、。「」（）：) and full-width forms, none of which belong in English text.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\(\w+\)[a-zA-Z]|%%")


def _keywords():
    """The -k options of `make messages`, read from the Makefile so the two cannot drift apart."""
    match = re.search(r"^BABEL_KEYWORDS\s*:?=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "Makefile lost its BABEL_KEYWORDS line"
    return match.group(1).split()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A fresh template of every msgid in platform/, jobs/ and templates/ (the committed one may be stale)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), *_keywords(), "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as f:
        template = read_po(f)
    messages = [m for m in template if m.id]
    assert len(messages) > 300, "extraction found too few messages: is babel.cfg still covering the tree?"
    return messages


@pytest.fixture(scope="module")
def english():
    with EN_PO.open("rb") as f:
        return read_po(f)


def _where(message):
    return ", ".join(f"{Path(path).resolve().relative_to(ROOT)}:{line}" for path, line in message.locations[:3])


def _forms(message):
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def _strings(message):
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def test_every_msgid_has_a_reviewed_english_translation(extracted, english):
    problems = []
    for source in extracted:
        entry = english.get(source.id, context=source.context)
        label = f"{_forms(source)[0]!r}" + (f" [{source.context}]" if source.context else "")
        if entry is None:
            problems.append(f"missing: {label} ({_where(source)})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {label} ({_where(source)})")
        elif isinstance(source.id, (list, tuple)) != isinstance(entry.id, (list, tuple)) or not all(_strings(entry)):
            problems.append(f"untranslated: {label} ({_where(source)})")
    assert not problems, (
        f"{len(problems)} msgid(s) lack a reviewed English translation; run `make messages`, translate them in "
        f"{EN_PO.relative_to(ROOT)} and remove any fuzzy flag:\n" + "\n".join(problems)
    )


def test_translations_keep_every_placeholder(extracted, english):
    problems = []
    for source in extracted:
        entry = english.get(source.id, context=source.context)
        if entry is None or not all(_strings(entry)):
            continue  # reported by the completeness test
        ids = _forms(entry)
        for n, translated in enumerate(_strings(entry)):
            original = ids[min(n, len(ids) - 1)]
            want, got = Counter(PLACEHOLDER.findall(original)), Counter(PLACEHOLDER.findall(translated))
            if want != got:
                problems.append(f"{original!r} → {translated!r}: expected {sorted(want.elements())}, "
                                f"found {sorted(got.elements())}")
    assert not problems, "placeholders differ between msgid and English:\n" + "\n".join(problems)


def test_msgids_are_the_chinese_source_text(extracted):
    """zh_CN is the source language: a msgid written in English would show untranslated to Chinese users."""
    not_chinese = [f"{_forms(m)[0]!r} ({_where(m)})" for m in extracted if not CJK.search(_forms(m)[0])]
    assert not not_chinese, "msgids must be the Chinese text:\n" + "\n".join(not_chinese)


def _lookup(compiled, message):
    """What the app gets from the compiled catalogue for `message` (both plural forms for English)."""
    if isinstance(message.id, (list, tuple)):
        singular, plural = message.id[:2]
        if message.context:
            return [compiled.npgettext(message.context, singular, plural, n) for n in (1, 2)]
        return [compiled.ngettext(singular, plural, n) for n in (1, 2)]
    return [compiled.pgettext(message.context, message.id) if message.context else compiled.gettext(message.id)]


def test_compiled_catalogue_matches_the_po_file(english):
    assert EN_MO.exists(), "translations are not compiled: run `make translations`"
    with EN_MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [m.id for m in english if m.id and not m.fuzzy and _lookup(compiled, m) != _strings(m)]
    assert not stale, f"{EN_MO.name} is older than {EN_PO.name} ({len(stale)} entries differ): run `make translations`"


# English pages --------------------------------------------------------------------------------------

class VisibleText(HTMLParser):
    """Text a reader sees or hears: text nodes and the title/placeholder/aria-label/alt attributes.

    Text inside an element marked lang="zh…" (the 中文 language switch) is Chinese on purpose and skipped.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.chunks = [], []

    def _hidden(self):
        return any(tag in ("script", "style") or lang.startswith("zh") for tag, lang in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = (attrs.get("lang") or "").lower()
        if not self._hidden() and not lang.startswith("zh"):
            self.chunks += [attrs[a] for a in ("title", "placeholder", "aria-label", "alt") if attrs.get(a)]
        if tag not in self.VOID:
            self.stack.append((tag, lang))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if data.strip() and not self._hidden():
            self.chunks.append(data.strip())


def chinese_left(html, proper_names):
    """Visible text with Chinese in it once the proper names from the data are taken out."""
    parser = VisibleText()
    parser.feed(html)
    names = re.compile("|".join(map(re.escape, sorted(proper_names, key=len, reverse=True))))
    # A separator between two names ("杭州市 · 西湖区") is not text to translate.
    return [chunk for chunk in parser.chunks if CJK.search(names.sub("", chunk))]


@pytest.fixture
def site(app):
    """A verified village with published needs (one of them for a single job) and a verified enterprise."""
    world = World()
    world.need("published")
    world.need("published", category="employment", unit="jobs", title="扶贫车间缝纫工", target=1,
               job_title="缝纫工", work_location="昭觉县扶贫车间", job_start_date=local_date_today() + timedelta(days=40),
               wage_min_fen=300_000, wage_max_fen=400_000)
    factories.organization()
    names = {r.name for r in Region.query}
    for model, columns in ((Village, ("name", "township_name")), (Organization, ("name",)), (Need, ("title",))):
        for row in model.query:
            names.update(str(getattr(row, c)) for c in columns if getattr(row, c, None))
    names.update(v.place_name for v in Village.query)
    return names


PAGES = [("/", 200), ("/auth/login", 200), ("/auth/register", 200), ("/needs", 200), ("/no-such-page", 404)]


@pytest.mark.parametrize("path,status", PAGES)
def test_english_pages_have_no_chinese_but_proper_names(client, site, path, status):
    response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    left = chinese_left(html, site)
    assert not left, f"Chinese text on {path}?lang=en: {left}"


def test_chinese_is_the_default(client, site):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html


def test_the_language_choice_is_remembered_until_changed(client, site):
    client.get("/?lang=en")
    for path in ("/needs", "/auth/register", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="en">' in html and not chinese_left(html, site), path
    assert "Sign in" in client.get("/auth/login").get_data(as_text=True)
    client.get("/needs?lang=zh_CN")
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html


def test_the_choice_survives_signing_in(client, site):
    user = factories.user()
    client.get("/?lang=en")
    login(client, user.email)
    html = client.get("/me").get_data(as_text=True)
    assert '<html lang="en">' in html and "My organizations" in html and not chinese_left(html, site | {user.name})


def test_english_counts_use_the_plural_rules(client, site):
    """One job is "1 job", several are "N jobs": count strings go through ngettext."""
    html = client.get("/needs?lang=en&category=employment").get_data(as_text=True)
    assert re.search(r"<strong>1 job</strong>", html), "a one-job target should read '1 job'"
    assert "Benefits 120 people" in client.get("/needs?lang=en").get_data(as_text=True)


def test_gettext_found_once_per_request_still_follows_force_locale(app):
    """The translations are looked up once per request and locale (i18n.install_fast_gettext): switching
    with force_locale (e-mails in the recipient's language) and back must switch the text too, Python
    and templates alike; template strings keep Jinja's semantics (escaped variables, %% is a percent)."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext

    page = "{{ _('需求') }}|{{ _('%(x)s', x='<b>') }}|{{ _('100%%') }}|{{ ngettext('%(num)s 件', '%(num)s 件', 3) }}"
    with app.test_request_context("/"):
        assert gettext("需求") == "需求"
        assert render_template_string(page) == "需求|&lt;b&gt;|100%|3 件"
        with force_locale("en"):
            assert gettext("需求") == "Needs"
            assert render_template_string("{{ _('需求') }}") == "Needs"
        assert gettext("需求") == "需求"
        assert render_template_string("{{ _('需求') }}") == "需求"
