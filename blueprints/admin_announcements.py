"""系统公告管理: port administrators for their ports, site administrators site-wide; publish from/until, pin, withdraw."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

import clock
import registry
import rules
from extensions import db
from models import ROLE_SITE_ADMIN, Announcement, audit
from web import administered_port, administered_ports, errors_by_field, role_required

bp = Blueprint("admin_announcements", __name__, url_prefix="/admin/announcements")

FIELDS = ("title", "body", "publisher", "port_code", "shown_from", "shown_until")


def announcement_facts(a):
    """What the audit log keeps of an announcement."""
    return {"title": a.title, "body": a.body, "publisher": a.publisher, "port_code": a.port_code,
            "shown_from": a.shown_from, "shown_until": a.shown_until, "pinned": a.pinned,
            "withdrawn_at": a.withdrawn_at}


def _editable(announcement_id):
    """The announcement if this administrator may change it: a port's by its administrators, a site-wide one by
    site administrators (404 unknown, 403 otherwise)."""
    announcement = db.session.get(Announcement, announcement_id) or abort(404)
    if announcement.port_code:
        administered_port(announcement.port_code)
    elif current_user.role != ROLE_SITE_ADMIN:
        abort(403)
    return announcement


def _port_choices():
    choices = [("", gettext("全站"))] if current_user.role == ROLE_SITE_ADMIN else []
    return choices + [(p.code, f"{p.code} {p.name}") for p in administered_ports()]


@bp.route("")
@role_required(*rules.ADMIN_ROLES)
def index():
    """The announcements this administrator may change, newest first, with how each stands now."""
    statement = select(Announcement).order_by(Announcement.pinned.desc(), Announcement.published_on.desc(),
                                              Announcement.id.desc())
    if current_user.role != ROLE_SITE_ADMIN:
        statement = statement.where(Announcement.port_code.in_([p.code for p in current_user.ports]))
    now = clock.now()
    rows = [(a, registry.announcement_state(a.shown_from, a.shown_until, a.withdrawn_at, now))
            for a in db.session.execute(statement).scalars()]
    return render_template("admin/announcements/index.html", rows=rows, states=registry.ANNOUNCEMENT_STATES)


def _form_page(announcement, values, errors, status=200):
    return render_template("admin/announcements/form.html", announcement=announcement, values=values, errors=errors,
                           ports=_port_choices()), status


def _moment_text(moment):
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _save(announcement):
    values = {name: (request.form.get(name) or "").strip() for name in FIELDS}
    values["body"] = request.form.get("body") or ""
    values["pinned"] = request.form.get("pinned") == "y"
    if values["port_code"]:
        administered_port(values["port_code"])
    elif current_user.role != ROLE_SITE_ADMIN:
        abort(403)
    shown_from = registry.parse_moment(values["shown_from"])
    shown_until = registry.parse_moment(values["shown_until"])
    refusals = registry.check_announcement(values["title"], values["body"], shown_from, shown_until,
                                           values["shown_from"], values["shown_until"])
    if refusals:
        return _form_page(announcement, values, errors_by_field(refusals), 400)
    before = announcement_facts(announcement) if announcement.id else None
    now = clock.now()
    announcement.title, announcement.body = values["title"], values["body"]
    announcement.port_code = values["port_code"] or None
    announcement.publisher = values["publisher"] or (announcement.port.name if announcement.port_code and announcement.port
                                                     else current_user.display_name or current_user.username)
    announcement.shown_from, announcement.shown_until = shown_from, shown_until
    announcement.pinned = values["pinned"]
    announcement.published_on = (shown_from or now).date()
    db.session.add(announcement)
    db.session.flush()
    audit(current_user, "announcement.update" if before else "announcement.create", "announcement", announcement.id,
          before, announcement_facts(announcement), announcement.port_code)
    db.session.commit()
    flash(gettext("公告已保存。"), "success")
    return redirect(url_for(".index"), code=303)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*rules.ADMIN_ROLES)
def new():
    """Write an announcement: shown from now (or a later time) until withdrawn (or an end time)."""
    if request.method == "GET":
        ports = _port_choices()
        return _form_page(Announcement(), {"port_code": ports[0][0] if ports else ""}, {})
    return _save(Announcement())


@bp.route("/<int:announcement_id>", methods=["GET", "POST"])
@role_required(*rules.ADMIN_ROLES)
def edit(announcement_id):
    """Change an announcement."""
    announcement = _editable(announcement_id)
    if request.method == "GET":
        values = announcement_facts(announcement)
        values.update(port_code=announcement.port_code or "", shown_from=_moment_text(announcement.shown_from),
                      shown_until=_moment_text(announcement.shown_until))
        return _form_page(announcement, values, {})
    return _save(announcement)


@bp.route("/<int:announcement_id>/withdraw", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def withdraw(announcement_id):
    """Withdraw an announcement from the home page (kept, and can be shown again), or show it again."""
    announcement = _editable(announcement_id)
    before = announcement_facts(announcement)
    restore = request.form.get("restore") == "1"
    announcement.withdrawn_at = None if restore else clock.now()
    audit(current_user, "announcement.restore" if restore else "announcement.withdraw", "announcement",
          announcement.id, before, announcement_facts(announcement), announcement.port_code)
    db.session.commit()
    flash(gettext("公告已重新发布。") if restore else gettext("公告已撤回。"), "success")
    return redirect(url_for(".index"), code=303)
