"""The home page (the enterprise's day), the printouts of an application and its calendar entry, the language switch."""
import icalendar
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

import clock
import rules
from models import ROLE_ENTERPRISE, Announcement, enterprise_agenda
from blueprints.apply import load_application
from web import local_path, role_required

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    """Everyone's home page: the live announcements (系统公告), pinned first, and the application menu for enterprises."""
    now = clock.now()
    announcements = Announcement.live(now)
    is_enterprise = current_user.role == ROLE_ENTERPRISE and current_user.enterprise_id is not None
    agenda = enterprise_agenda(current_user.enterprise_id, now) if is_enterprise else None
    return render_template("main/home.html", announcements=announcements, is_enterprise=is_enterprise,
                           agenda=agenda, due=due_items(agenda, now) if agenda else [])


def due_items(agenda, now):
    """What the enterprise owes customs, soonest first (rules.obligations_due, R25), with its applications."""
    return rules.obligations_due([(a, a.start) for a in agenda["feedback"]],
                                 [(a, a.cancelled_at) for a in agenda["statements"]], now)


@bp.route("/apply/<int:application_id>/print")
@role_required(ROLE_ENTERPRISE)
def print_form(application_id):
    """The 预约通关申请单 filled from the application, laid out as 公告109's paper form, for printing (no JS)."""
    return render_template("apply/print_form.html", application=load_application(application_id))


@bp.route("/apply/<int:application_id>/receipt")
@role_required(ROLE_ENTERPRISE)
def print_receipt(application_id):
    """The 受理回执 / appointment confirmation, once customs has accepted the application."""
    application = load_application(application_id)
    if not rules.can_print_receipt(application.current_status):
        abort(404)
    return render_template("apply/print_receipt.html", application=application)


@bp.route("/apply/<int:application_id>/appointment.ics")
@role_required(ROLE_ENTERPRISE)
def calendar_entry(application_id):
    """The approved appointment as an iCalendar event (Asia/Shanghai), for the enterprise's own calendar."""
    application = load_application(application_id)
    if not rules.can_download_calendar(application.current_status):
        abort(404)
    shanghai = clock.SHANGHAI
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//yuyue//appointment//CN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"{application.pre_entry_number}@yuyue")
    event.add("dtstamp", clock.now().replace(tzinfo=shanghai))
    event.add("dtstart", application.start.replace(tzinfo=shanghai))
    event.add("dtend", application.end.replace(tzinfo=shanghai))
    event.add("summary", gettext("预约通关 %(number)s", number=application.pre_entry_number))
    event.add("location", " / ".join(filter(None, (application.declaration_port, application.entry_port))))
    event.add("description", gettext("预约申报口岸 %(declaration)s，预约进出口岸 %(entry)s。",
                                     declaration=application.declaration_port, entry=application.entry_port))
    calendar.add_component(event)
    # A VTIMEZONE for Asia/Shanghai, so calendars that do not know the zone by name still place it at UTC+8.
    calendar.add_missing_timezones()
    return Response(calendar.to_ical(), mimetype="text/calendar",
                    headers={"Content-Disposition": f"attachment; filename={application.pre_entry_number}.ics"})


@bp.route("/lang", methods=["POST"])
def switch_language():
    """Remember the chosen language and go back to the page the user was on."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(local_path(request.form.get("next")) or url_for("main.home"), code=303)
