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
