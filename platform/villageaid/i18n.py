"""Choosing the interface language: ?lang= (remembered in the session), the user's, else zh_CN."""
from flask import current_app, has_request_context, request, session
from flask_login import current_user

LANG_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en", "en_us": "en", "en-us": "en"}


def normalize(value):
    return LANG_ALIASES.get((value or "").strip().lower())


def select_locale():
    if not has_request_context():  # CLI commands, jobs and tests calling services directly
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = normalize(request.args.get("lang"))
    if asked:
        session["lang"] = asked
        return asked
    if session.get("lang") in current_app.config["LANGUAGES"]:
        return session["lang"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# Faster gettext ------------------------------------------------------------------------------
# Flask-Babel finds the translations on every call (three lookups of its context on `g`, the
# locale's identifier rebuilt for a dictionary key), and Jinja's `_` goes through two more
# `Context.call`s: ~10 µs for each `{{ _('…') }}`, and a page makes a hundred or more. The
# translations are found once per request and locale instead (`force_locale` and
# `flask_babel.refresh()` replace the locale object, which makes the next call look again), and the
# template callables keep Jinja's new-style semantics: the result is escaped when autoescaping
# (Markup), always formatted with its variables (`%%` is a literal %), `num` defaults to the count.

def install_fast_gettext(app):
    from flask import g
    from flask_babel import Domain, get_babel
    from jinja2 import pass_eval_context
    from markupsafe import Markup

    with app.app_context():
        domain = get_babel(app).instance.domain_instance  # one Domain, shared by every app in the process

    def slow():
        return Domain.get_translations(domain)

    def translations():
        try:
            ctx = g._flask_babel
            hit = ctx.va_translations
            if hit[0] is getattr(ctx, "babel_locale", None) and hit[0] is not None:
                return hit[1]
        except (AttributeError, RuntimeError):  # first call this request, or no app context
            pass
        found = slow()
        try:
            ctx = g._flask_babel
            ctx.va_translations = (getattr(ctx, "babel_locale", None), found)
        except (AttributeError, RuntimeError):
            pass
        return found

    domain.get_translations = translations  # Python-side gettext and lazy strings use it too

    # Flask-Babel parses the selector's answer (Locale.parse: ~0.1 ms) at every request's first
    # translation; a Locale is immutable, so each identifier is parsed once per process.
    configuration = get_babel(app)
    selector = configuration.locale_selector
    if selector is not None and not getattr(selector, "parses_once", False):
        from functools import lru_cache

        from babel import Locale

        parse = lru_cache(maxsize=16)(Locale.parse)

        def select_parsed():
            chosen = selector()
            return parse(chosen) if isinstance(chosen, str) else chosen

        select_parsed.parses_once = True
        configuration.locale_selector = select_parsed

    def _format(eval_ctx, text, variables):
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables or "%" in text else text

    @pass_eval_context
    def gettext(eval_ctx, string, /, **variables):
        return _format(eval_ctx, translations().ugettext(string), variables)

    @pass_eval_context
    def ngettext(eval_ctx, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        return _format(eval_ctx, translations().ungettext(singular, plural, num), variables)

    @pass_eval_context
    def pgettext(eval_ctx, context, string, /, **variables):
        variables.setdefault("context", context)
        return _format(eval_ctx, translations().upgettext(context, string), variables)

    @pass_eval_context
    def npgettext(eval_ctx, context, singular, plural, num, /, **variables):
        variables.setdefault("context", context)
        variables.setdefault("num", num)
        return _format(eval_ctx, translations().unpgettext(context, singular, plural, num), variables)

    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext,
                                 npgettext=npgettext)
