"""The home page and the language switch."""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

import clock
import rules
from models import ROLE_ENTERPRISE, Announcement, enterprise_agenda
from web import local_path

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
                           agenda=agenda, due=due_items(agenda, now) if agenda else [], now=now)


def due_items(agenda, now):
    """What the enterprise owes customs, soonest first (R25): numbers after approval (R17), statements after a
    cancellation of an approved appointment (公告109); each with its due time and whether it is overdue."""
    items = [{"application": a, "what": "feedback", "due": rules.feedback_due(a.start)} for a in agenda["feedback"]]
    items += [{"application": a, "what": "statement", "due": rules.statement_due(a.cancelled_at)}
              for a in agenda["statements"]]
    for item in items:
        item["overdue"] = item["due"] < now
    return sorted(items, key=lambda item: item["due"])


@bp.route("/lang", methods=["POST"])
def switch_language():
    """Remember the chosen language and go back to the page the user was on."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(local_path(request.form.get("next")) or url_for("main.home"), code=303)
