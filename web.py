"""What every view shares: role checks, message translation, fragments, error pages, template globals."""
from datetime import date
from functools import wraps
from io import BytesIO
from urllib.parse import urlsplit

from flask import abort, current_app, g, render_template, request, send_file, session
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

import clock
import rules
from extensions import db
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
    download = (headers.get("Content-Disposition") or "").startswith("attachment")
    headers.setdefault("Content-Security-Policy", DOWNLOAD_POLICY if download else CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # A logged-in page must not stay in a shared browser's cache, or the next person's Back button shows it.
    if "_user_id" in session and request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
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


def _template_globals():
    # Babel spells Chinese zh_Hans_CN; the site and its switch say zh_CN.
    lang = "en" if str(get_locale() or "").startswith("en") else "zh_CN"
    return {
        "now": clock.now,
        "rules": rules,
        "role_label": lambda role: gettext(ROLE_LABELS.get(role, role)),
        "status_label": lambda status: gettext(rules.STATUS_LABELS.get(status, status)),
        "say": say,
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh_CN" else lang,
        "languages": current_app.config["LANGUAGES"],
        "demo_mode": current_app.config.get("DEMO_MODE"),
        "upload_limits": upload_limits,
    }


def _translations():
    # Flask-Babel finds the catalogue anew for each of a page's hundred strings; once per request and locale is
    # enough (its locale object, kept in g._flask_babel, changes only if something forces another one).
    babel_state = getattr(g, "_flask_babel", None)
    cached = getattr(g, "_page_translations", None)
    if cached is None or babel_state is None or cached[0] is not getattr(babel_state, "babel_locale", None):
        locale = get_locale()
        cached = g._page_translations = (locale, get_translations())
    return cached[1]


def register(app):
    """Bind error pages, template globals and the templates' gettext to the app."""
    app.context_processor(_template_globals)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.after_request(security_headers)

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
