"""What every view shares: role checks, message translation, fragments, error pages, template globals."""
import weakref
from collections import ChainMap
from datetime import date, datetime
from functools import wraps
from io import BytesIO
from types import BuiltinMethodType, FunctionType
from urllib.parse import urlsplit

from flask import (abort, current_app, g, has_request_context, render_template, request, send_file, session,
                   url_for)
from flask.globals import _cv_request
from flask.templating import Environment
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import nodes, pass_eval_context
from jinja2.runtime import Context
from jinja2.utils import _PassArg, internalcode
from jinja2.visitor import NodeTransformer
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

import clock
import rules
from extensions import babel, db
from models import ROLE_ADMIN, ROLE_CUSTOMS, ROLE_ENTERPRISE, ROLE_SITE_ADMIN, Attachment, Port

ROLE_LABELS = {
    ROLE_ENTERPRISE: rules.N_("企业操作员"),
    ROLE_CUSTOMS: rules.N_("海关审核"),
    ROLE_ADMIN: rules.N_("口岸管理员"),
    ROLE_SITE_ADMIN: rules.N_("系统管理员"),
}


# The largest id an Integer key holds on every database (PostgreSQL's integer is 32 bits).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in a URL, bounded to MAX_ROW_ID: a larger number is not found, never an overflow in the driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def role_required(*roles):
    """Let only logged-in users of these roles in; anyone else gets 403 (or the login page)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def administered_port(port_code):
    """The port if the logged-in administrator runs it (rules.may_administer_port): 404 unknown, 403 another's."""
    port = db.session.get(Port, port_code) if isinstance(port_code, str) and len(port_code) <= 4 else None
    if port is None:
        abort(404)
    if not rules.may_administer_port(current_user.role, [p.code for p in current_user.ports], port.code):
        abort(403)
    return port


def administered_ports():
    """The ports the logged-in administrator runs, by code."""
    if current_user.role == ROLE_SITE_ADMIN:
        return db.session.execute(select(Port).order_by(Port.code)).scalars().all()
    return sorted(current_user.ports, key=lambda p: p.code)


def send_attachment(application, attachment_id):
    """One of the application's stored PDFs as a download (the caller has checked who may see the application)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    return send_file(BytesIO(attachment.data), mimetype="application/pdf", download_name=attachment.filename,
                     as_attachment=True)


def local_path(target):
    """``target`` if it is a path on this site, else None: never follow a redirect elsewhere."""
    target = target or ""
    # Browsers drop tabs and newlines and read a backslash as a slash, so "/\t/evil" is "//evil".
    if not target.startswith("/") or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and not target.startswith("//") else None


def parse_dates(values, names):
    """Dates typed as YYYY-MM-DD (old browsers send date fields as text): (dates or None, refusals for the malformed)."""
    dates, refusals = {}, []
    for name in names:
        typed = (values.get(name) or "").strip()
        try:
            dates[name] = date.fromisoformat(typed) if typed else None
        except ValueError:
            dates[name] = None
            refusals.append(rules.Refusal(text=rules.N_("日期 %(value)s 格式不正确，请按 YYYY-MM-DD 填写，例如 2026-11-23。"),
                                          params={"value": rules.shown(typed)}, code="invalid.date", field=name))
        if dates[name] and rules.check_date_in_range(dates[name], name):
            refusals += rules.check_date_in_range(dates[name], name)
            dates[name] = None
    return dates, refusals


def gettext(string, **variables):
    """Flask-Babel's gettext, with the same result, straight from the request's catalogue (extensions.PageDomain)."""
    translated = _translations().ugettext(string)
    return translated % variables if variables else translated


def say(message):
    """Translate a rules.Message (its nested Message params too) into the user's language."""
    return message.render(gettext)


def errors_by_field(refusals):
    """Group translated refusals by form field; form-wide ones come under None."""
    grouped = {}
    for refusal in refusals:
        grouped.setdefault(refusal.field, []).append(say(refusal))
    return grouped


def asked_part(parts):
    """The element id htmx asked for, if it is one of ``parts`` (history restores get the whole page)."""
    if request.headers.get("HX-Request") != "true" or request.headers.get("HX-History-Restore-Request") == "true":
        return None
    target = request.headers.get("HX-Target")
    return target if target in parts else None


def render_page(template, parts, status=200, **context):
    """The whole page, or, when htmx asked for one of ``parts`` (element ids), that part alone.

    A part is the named block of the same template whose name is the id with "_" for "-", so its markup
    exists once and rendering it costs what the part costs, not what the page costs.
    """
    part = asked_part(parts)
    if part:
        body = render_block(template, part.replace("-", "_"), **context)
    else:
        body = render_template(template, **context)
    response = current_app.make_response((body, status))
    response.vary.update(("HX-Request", "HX-Target", "HX-History-Restore-Request"))
    return response


# htmx 1.9 runs under this policy once its inline indicator style and eval are switched off (base.html's
# htmx-config meta); no template has inline script or style.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                           "object-src 'none'")
# A stored upload is the uploader's content: never run it as a page of this site, even if opened in place.
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


def security_headers(response):
    """Headers every response carries: what may run and frame it, no sniffing, no referrer off site."""
    headers = response.headers
    # The names already set, read once: werkzeug answers each lookup of an absent header by raising and catching.
    present = {name.lower(): value for name, value in headers.items()}
    download = present.get("content-disposition", "").startswith("attachment")
    policy = DOWNLOAD_POLICY if download else CONTENT_SECURITY_POLICY
    for name, value in (("Content-Security-Policy", policy), ("X-Frame-Options", "DENY")):
        if name.lower() not in present:
            headers.add(name, value)
    headers["X-Content-Type-Options"] = "nosniff"
    if "referrer-policy" not in present:
        headers.add("Referrer-Policy", "same-origin")
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", "max-age=31536000")
    # A logged-in page must not stay in a shared browser's cache, or the next person's Back button shows it.
    if "_user_id" in session and request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


# Messages waiting for the next page (Flask's flash()) ride in the session cookie; a client that posts again and
# again without showing a page (a script, a double-submitting user) would grow the cookie past the 4 KB a browser
# keeps, losing the session, and make every request read and write all of them.
FLASHES_KEPT = 10


def bounded_flashes(response):
    """Keep only the newest FLASHES_KEPT waiting messages."""
    waiting = session.get("_flashes")
    if waiting and len(waiting) > FLASHES_KEPT:
        session["_flashes"] = waiting[-FLASHES_KEPT:]
    return response


def upload_limits(existing=0, limit=rules.MAX_ATTACHMENTS):
    """The data-* attributes with which static/js/upload-limits.js checks a file box before the form is sent."""
    return {
        "data-max-files": max(limit - existing, 0),
        "data-max-file-bytes": rules.MAX_PDF_BYTES,
        "data-max-request-bytes": current_app.config["MAX_CONTENT_LENGTH"],
        "data-too-many": gettext("最多还能上传%(count)s个PDF文件，本次选择了{n}个（{names}），请减少后再上传。", count=max(limit - existing, 0)),
        "data-too-big": gettext("文件 {name} 大小为 {size}M，超过单个文件4M的上限，请压缩或拆分后再上传。"),
        "data-too-much": gettext("所选文件共 {size}M，超过每次提交 %(limit)sM 的上限，请分几次上传。",
                                 limit=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)),
    }


def too_large_facts():
    """What a 413 page says: the size sent and which limit it passed (the whole request, or one typed field)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    sent = request.content_length
    mb = 1024 * 1024
    return {
        "request_too_large": bool(sent and limit and sent > limit),
        "sent_mb": round((sent or 0) / mb, 1),
        "limit_mb": limit // mb if limit else 0,
        "file_mb": rules.MAX_PDF_BYTES // mb,
        "max_files": rules.MAX_ATTACHMENTS,
    }


def role_label(role):
    return _translations().ugettext(ROLE_LABELS.get(role, role))


def status_label(status):
    return _translations().ugettext(rules.STATUS_LABELS.get(status, status))


def field_errors(messages, for_id=""):
    """A field's error messages, one per line, announced (role=alert) and named "<field id>-error" for the field's
    aria-describedby; nothing when there are none. (A function, not a macro: most fields have no error, and a
    macro call cost more than the test.)"""
    if not messages:
        return Markup("")
    named = Markup(' id="%s-error"') % for_id if for_id else ""
    return Markup('<span class="error" role="alert"%s>%s</span>') % (named, Markup("<br>").join(messages))


def minutes(value):
    """A time as pages show it, to the minute (2026-11-23 19:00); nothing for none."""
    if type(value) is datetime and value.tzinfo is None:
        # What strftime("%Y-%m-%d %H:%M") writes, at a quarter of its cost (a page writes dozens).
        return value.isoformat(" ", "minutes")
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def seconds(value):
    """A time to the second (2026-11-23 19:00:05), for logs and lists where order within a minute matters."""
    if type(value) is datetime and value.tzinfo is None:
        return value.isoformat(" ", "seconds")
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def clock_time(value):
    """The time of day (19:00) of a time or a date and time; nothing for none."""
    if value is None:
        return ""
    if value.tzinfo is None:
        return (value.time() if type(value) is datetime else value).isoformat("minutes")
    return value.strftime("%H:%M")


# How templates write times: one copy of each format.
TEMPLATE_FILTERS = {"minutes": minutes, "seconds": seconds, "clock": clock_time}

# What every template may call, the same for every request (set once on the Jinja environment).
TEMPLATE_GLOBALS = {"now": clock.now, "rules": rules, "role_label": role_label, "status_label": status_label,
                    "say": say, "upload_limits": upload_limits, "field_errors": field_errors}


def _template_globals():
    # Babel spells Chinese zh_Hans_CN; the site and its switch say zh_CN.
    lang = "en" if str(get_locale() or "").startswith("en") else "zh_CN"
    return {
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh_CN" else lang,
        "languages": current_app.config["LANGUAGES"],
        "demo_mode": current_app.config.get("DEMO_MODE"),
    }


def _translations():
    # The templates' strings: straight to the domain's catalogue, kept per request (extensions.PageDomain).
    return babel.domain_instance.get_translations()


@pass_eval_context
def _template_gettext(eval_context, string, **variables):
    # As jinja2.ext's newstyle gettext: escaped when autoescaping, always formatted (so "%%" is "%").
    translated = _translations().ugettext(string)
    if eval_context.autoescape:
        translated = Markup(translated)
    # Formatting with nothing to fill and no "%" gives the same string back; skip it (a third of the call's time).
    return translated % variables if variables or "%" in translated else translated


class _Globals(ChainMap):
    """A template's globals whose keys() is a set: Jinja subtracts them from a set at every {% import %}/{% from %},
    which with a ChainMap's keys view runs a Python loop (about 20 µs an import, a few imports a page)."""

    def keys(self):
        return set().union(*self.maps)


class SiteContext(Context):
    """Jinja's template context, calling functions with fewer attribute probes.

    Every call in a template ({{ _('…') }}, url_for, a field, a macro: a few hundred a page) goes through call(),
    which looked for Jinja's pass_context mark with hasattr() three times and cleaned its keyword arguments even
    when there were none; this is the same decision with single lookups (jinja2 3.1's Context.call).
    """

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own spelling, so no argument name clashes)
        __traceback_hide__ = True  # noqa: F841 (Jinja's debug tracebacks skip this frame)
        kind = type(__obj)
        # A builtin (a date's strftime) cannot carry Jinja's marks; the site's own functions carry none.
        if kind is BuiltinMethodType or (kind is FunctionType and __obj in __self.environment.plain_callables):
            pass_arg = None
        else:
            dunder_call = getattr(__obj, "__call__", None)
            if dunder_call is not None and getattr(dunder_call, "jinja_pass_arg", None) is not None:
                __obj = dunder_call  # a callable class that takes the context
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
        if pass_arg is _PassArg.context:
            # The active context should see variables set in loops and blocks without being changed itself.
            if kwargs.get("_loop_vars"):
                __self = __self.derived(kwargs["_loop_vars"])
            if kwargs.get("_block_vars"):
                __self = __self.derived(kwargs["_block_vars"])
            args = (__self,) + args
        elif pass_arg is _PassArg.eval_context:
            args = (__self.eval_ctx,) + args
        elif pass_arg is _PassArg.environment:
            args = (__self.environment,) + args
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


class _TranslateConstants(NodeTransformer):
    """{{ _('…') }} of a constant string with nothing to fill, translated as the template is compiled: the page's
    text becomes the template's own, as if written in that language (a page has scores of them; each call cost
    what a field's markup costs). Anything else (variables, a computed string) is still translated as it renders."""

    def __init__(self, translations):
        self.translations = translations

    def visit_Call(self, node):
        node = self.generic_visit(node)
        if not (isinstance(node.node, nodes.Name) and node.node.name in ("_", "gettext") and len(node.args) == 1
                and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
                and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        translated = self.translations.ugettext(node.args[0].value)
        if "%" in translated:
            try:
                translated = translated % {}  # as _template_gettext formats it ("%%" is "%")
            except (KeyError, TypeError, ValueError):
                return node  # it would fail as it renders too: leave it to say so there
        # Marked safe under autoescaping, as _template_gettext's Markup: the text is the site's own.
        return nodes.MarkSafeIfAutoescape(nodes.Const(translated, lineno=node.lineno), lineno=node.lineno)


def _compiling_translations():
    """The catalogue templates are compiled with now: the request's (one object per language and process), or None
    outside a request (then nothing is translated in advance)."""
    return _translations() if has_request_context() else None


class SiteEnvironment(Environment):
    """Flask's Jinja environment, with globals that are quicker to import under (see _Globals), a quicker context
    (SiteContext) and each template compiled once per language, its constant strings translated (see
    _TranslateConstants)."""

    context_class = SiteContext
    # The site's own template functions (web.register) that take no context: SiteContext.call calls them at once.
    plain_callables = frozenset()

    def make_globals(self, d):
        return _Globals({} if d is None else d, self.globals)

    @internalcode
    def _load_template(self, name, globals):
        # jinja2 3.1's own, its cache keyed by the language's catalogue too.
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        cache_key = (weakref.ref(self.loader), name, _compiling_translations())
        if self.cache is not None:
            template = self.cache.get(cache_key)
            if template is not None and (not self.auto_reload or template.is_up_to_date):
                if globals:
                    template.globals.update(globals)
                return template
        template = self.loader.load(self, name, self.make_globals(globals))
        if self.cache is not None:
            self.cache[cache_key] = template
        return template

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        translations = _compiling_translations()
        return _TranslateConstants(translations).visit(tree) if translations is not None else tree


URLS_KEPT = 4096


def cached_url_for(urls):
    """url_for for templates, each URL built once and kept in ``urls`` (one dict per app): a page builds a score of
    URLs (the menu, the static files), and werkzeug's builder costs more than the rest of a small page's header."""

    def template_url_for(endpoint, **values):
        # A URL is a function of the endpoint, its values and where the site is mounted, and so are the url_defaults
        # (assets' static versions). The request is read from its context, not through the request proxy. Relative endpoints, options (_external, _anchor…) and unhashable values are
        # built each time.
        if endpoint[:1] == ".":
            return url_for(endpoint, **values)
        if not values:
            key = (_cv_request.get().request.root_path, endpoint)
        elif len(values) == 1:  # the common case (an application's id in a list): no sorting
            (name, value), = values.items()
            if name[:1] == "_":
                return url_for(endpoint, **values)
            key = (_cv_request.get().request.root_path, endpoint, (name, type(value), value))
        elif any(key[:1] == "_" for key in values):
            return url_for(endpoint, **values)
        else:
            # The type too: 1 and True are equal keys but not the same URL.
            key = (_cv_request.get().request.root_path, endpoint, *((name, type(value), value) for name, value in sorted(values.items())))
        try:
            url = urls.get(key)
        except TypeError:
            return url_for(endpoint, **values)
        if url is None:
            url = url_for(endpoint, **values)
            if len(urls) >= URLS_KEPT:  # application ids make many; start again rather than grow
                urls.clear()
            urls[key] = url
        return url

    return template_url_for


SIGNED_TOKENS_KEPT = 10_000


def cached_csrf_tokens(signed):
    """Flask-WTF's CSRF token signed once per session and process (kept in ``signed``): (a before_request hook
    that hands a known one to Flask-WTF, an after_request hook that keeps a new one).

    A token is signed with a timestamp, which only a time limit reads (WTF_CSRF_TIME_LIMIT; the site sets none):
    without one, the token signed at the session's first page is exactly as valid as a fresh one, and signing
    (a key derivation, an HMAC, JSON, base64) cost more than the rest of a page's header. Flask-WTF takes the
    request's token from g (generate_csrf), for forms and templates alike; validation is untouched.
    """

    def key():
        config = current_app.config
        raw = session.get("csrf_token")
        if (raw is None or config.get("WTF_CSRF_TIME_LIMIT") is not None
                or config.get("WTF_CSRF_FIELD_NAME", "csrf_token") != "csrf_token"):
            return None
        return config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw

    def known_token():
        token = signed.get(key())
        if token is not None:
            g.csrf_token = token

    def keep_token(response):
        token = g.get("csrf_token")
        if token is not None:
            session_key = key()
            # Kept only once checked to be the session's own (what the next request's form will be sent with).
            if session_key is not None and signed.get(session_key) != token and _signs(token, *session_key):
                if len(signed) >= SIGNED_TOKENS_KEPT:
                    signed.clear()
                signed[session_key] = token
        return response

    return known_token, keep_token


def _signs(token, secret, raw):
    try:
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(token) == raw
    except BadData:
        return False


def template_csrf_token():
    """csrf_token() for templates: the request's token, already in g on every page after a session's first."""
    token = g.get("csrf_token")
    return token if token is not None else generate_csrf()


def register(app):
    """Bind error pages, template globals and the templates' gettext to the app."""
    known_csrf_token, keep_csrf_token = cached_csrf_tokens({})
    app.before_request(known_csrf_token)
    app.after_request(keep_csrf_token)
    # Registered after Flask-WTF's context processor, whose csrf_token this one replaces.
    app.context_processor(lambda: {**_template_globals(), "csrf_token": template_csrf_token})
    app.jinja_env.globals.update(TEMPLATE_GLOBALS, url_for=cached_url_for({}), csrf_token=template_csrf_token)
    app.jinja_env.filters.update(TEMPLATE_FILTERS)
    app.jinja_env.plain_callables = frozenset(f for f in app.jinja_env.globals.values()
                                              if type(f) is FunctionType and getattr(f, "jinja_pass_arg", None) is None)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # {{ _('…') }}, a page's most frequent call: Jinja's i18n reaches the catalogue through three context calls
    # (_ resolves gettext, which calls the function above); this is the same newstyle gettext in one.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = _template_gettext
    app.after_request(security_headers)
    app.after_request(bounded_flashes)

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(413)
    def too_large(error):
        return render_template("errors/413.html", **too_large_facts()), 413

    @app.errorhandler(500)
    def server_error(error):
        # A failed request must not leave a broken transaction for the next one.
        db.session.rollback()
        return render_template("errors/500.html"), 500

    from flask_wtf.csrf import CSRFError
    from sqlalchemy.orm.exc import StaleDataError

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(error):
        # Two people saved the same application at once; the later one is refused, never merged.
        db.session.rollback()
        return render_template("errors/409.html"), 409

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html"), 400
