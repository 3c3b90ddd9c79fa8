"""Shared page plumbing: error pages, template helpers, safe redirects."""
from datetime import date
from urllib.parse import urlsplit

from flask import current_app, get_template_attribute, jsonify, render_template, request
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import BytecodeCache
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter

from .errors import ServiceError
from .money import format_fen
from .timeutil import local_date_today, to_local


def safe_next(target):
    """Only same-site paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def wants_json():
    return request.path.startswith("/api/")


ERROR_TITLES = {
    400: lambda: _("请求无效"),
    403: lambda: _("无权访问"),
    404: lambda: _("页面不存在"),
    405: lambda: _("不支持该操作"),
    409: lambda: _("状态冲突"),
    413: lambda: _("上传的文件太大"),
    429: lambda: _("操作过于频繁"),
    500: lambda: _("服务器出错了"),
}

ERROR_TEXTS = {
    400: lambda: _("请求无效或表单已过期，请返回刷新后重试。"),
    403: lambda: _("您没有权限访问此页面。如需权限，请联系所在地区的工商联审核员。"),
    404: lambda: _("您要找的页面不存在，可能已被删除或链接有误。"),
    405: lambda: _("该页面不支持这种操作。"),
    409: lambda: _("该对象的状态已改变，请刷新后重试。"),
    413: lambda: _("上传的文件超过了大小限制。"),
    429: lambda: _("尝试过于频繁，请稍后再试。"),
    500: lambda: _("服务器出错了，我们已记录此问题，请稍后再试。"),
}

API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             409: "conflict", 413: "too_large", 422: "bad_request", 429: "rate_limited", 500: "server_error",
             503: "unavailable"}


def error_response(status, message=None, fields=None):
    message = message or ERROR_TEXTS.get(status, ERROR_TEXTS[500])()
    if wants_json():
        body = {"error": {"code": API_CODES.get(status, "error"), "message": message, "fields": fields or {}}}
        return jsonify(body), status
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])()
    return render_template("errors/error.html", status=status, title=title, message=message), status


class _ProcessBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for the process, keyed by name and source checksum (Jinja's
    own rule): every app of the process is configured alike, so they can share the compiled code."""

    def __init__(self):
        self._code = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = _ProcessBytecodeCache()


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's int converter, capped at the largest id an INTEGER column holds (int4 on PostgreSQL)."""

    def __init__(self, url_map, *args, max=2**31 - 1, **kwargs):
        super().__init__(url_map, *args, max=max, **kwargs)


def register_errorhandlers(app):
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        message = None
        fields = None
        status = exc.code or 500
        if status == 429:
            message = _("尝试过于频繁，请稍后再试（限制：%(limit)s）。", limit=exc.description)
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if messages:  # webargs validation of an API body: report it field by field as a 400
            status, message = 400, _("请求内容有误，请检查标出的字段。")
            fields = {}
            for location, errors in messages.items():
                # {"json": {"field": [...]}}, or the location as a whole: {"json": ["Invalid JSON body."]}
                fields.update(errors if isinstance(errors, dict) else {location: errors})
        return error_response(status, message, fields)

    @app.errorhandler(ServiceError)
    def _service_error(exc):
        return error_response(exc.status, str(exc), exc.fields)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("unhandled error")
        from .extensions import db

        db.session.rollback()
        return error_response(500)


def register_template_helpers(app):
    from .audit.labels import action_label
    from .i18n import install_fast_gettext

    install_fast_gettext(app)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["action_label"] = action_label
    app.jinja_env.globals["layout_part"] = layout_part
    app.jinja_env.globals["option_tags"] = option_tags
    app.jinja_env.filters["fen"] = format_fen
    app.jinja_env.filters["local"] = local_time

    @app.context_processor
    def _globals():
        from .notifications.services import unread_count

        unread = 0
        if current_user.is_authenticated:  # counted when the request loaded the user (accounts.load_user)
            unread = getattr(current_user, "unread_when_loaded", None)
            if unread is None:
                unread = unread_count(current_user)
        return {"unread_count": unread, "next_poverty_day": next_poverty_day(), "today": local_date_today()}


def option_tags(rows, value):
    """A <select>'s <option>s from (value, label) pairs, the one whose value reads as `value` selected: one
    call for the list (the /needs filters have ~70 options, a province's prefectures more) instead of a
    Jinja loop escaping and comparing each."""
    chosen = str(value or "")
    return Markup("".join(f'<option value="{escape(v)}"{" selected" if str(v) == chosen else ""}>{escape(label)}</option>'
                          for v, label in rows))


def layout_part(name, *args):
    """A macro of templates/layout/_parts.html — the head's links, the navigation bar, the guest's links,
    the footer — as Markup, rendered once per app, language and arguments: they read the same for every
    visitor, and rendering them on every page was a quarter of a need page's Python calls. Rendered every
    time when templates auto-reload (debug)."""
    parts = current_app.extensions.setdefault("villageaid.layout_parts", {})
    key = (name, str(get_locale()), args)
    html = parts.get(key)
    if html is None or current_app.jinja_env.auto_reload:
        html = parts[key] = Markup(get_template_attribute("layout/_parts.html", name)(*args))
    return html


# All-digit patterns read the same in both languages: strftime gives Babel's text at a tenth of the cost
# (pages list a date per pledge and per event).
_DIGIT_PATTERNS = {"yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M", "yyyy-MM-dd": "%Y-%m-%d"}


def local_time(value, fmt="yyyy-MM-dd HH:mm"):
    """The `local` filter: a stored UTC datetime as Beijing time in a Babel pattern ("" for None)."""
    if not value:
        return ""
    local = to_local(value)
    pattern = _DIGIT_PATTERNS.get(fmt)
    if pattern is not None and local.year >= 1000:
        return local.strftime(pattern)
    return format_datetime(local, fmt)


def next_poverty_day(today=None):
    """The next 17 October (全国扶贫日), today included, as a Chinese date."""
    today = today or local_date_today()
    day = date(today.year, 10, 17)
    return day if day >= today else date(today.year + 1, 10, 17)


def external_url(endpoint, **values):
    """An absolute link on SITE_URL, inside or outside a request (e-mails sent by jobs and seeds)."""
    from flask import has_request_context, url_for

    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context("/"):
            path = url_for(endpoint, **values)
    return current_app.config["SITE_URL"].rstrip("/") + path
