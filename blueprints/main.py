"""The home page and the language switch."""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

import clock
from models import ROLE_ENTERPRISE, Announcement
from web import local_path

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    """Everyone's home page: the live announcements (系统公告), pinned first, and the application menu for enterprises."""
    announcements = Announcement.live(clock.now())
    return render_template(
        "main/home.html", announcements=announcements, is_enterprise=current_user.role == ROLE_ENTERPRISE
    )


@bp.route("/lang", methods=["POST"])
def switch_language():
    """Remember the chosen language and go back to the page the user was on."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(local_path(request.form.get("next")) or url_for("main.home"), code=303)
