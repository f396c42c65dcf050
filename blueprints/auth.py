"""Logging in and out, changing one's password, and ending sessions that idled or lived too long."""
import math
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

import database
import demo
import security
from extensions import db, login_manager
from models import User
from web import local_path

bp = Blueprint("auth", __name__)

# The column's width; a longer name cannot exist, so it is refused before any lookup.
MAX_USERNAME = 64
# Hashing is the costly part of a login: a bound keeps one request's work bounded.
MAX_PASSWORD = 1024
MIN_NEW_PASSWORD = 8

SESSION_ENDED = {
    "idle": _l("您已较长时间未操作，为保护账户安全已自动退出，请重新登录。"),
    "lifetime": _l("登录时间已超过上限，为保护账户安全已自动退出，请重新登录。"),
}


def no_control_characters(form, field):
    if any(ord(c) < 32 or ord(c) == 127 for c in field.data or ""):
        raise ValidationError(_l("用户名不能包含控制字符（例如空字符），请重新输入。"))


def no_nul(form, field):
    # scrypt ignores a password's trailing NUL bytes, so "secret\0" would open "secret": refuse any NUL.
    if "\x00" in (field.data or ""):
        raise ValidationError(_l("密码不能包含空字符，请重新输入。"))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), filters=[_strip], validators=[
        DataRequired(message=_l("请输入用户名")),
        Length(max=MAX_USERNAME, message=_l("用户名不能超过%(max)d个字符，请重新输入。")),
        no_control_characters,
    ])
    password = PasswordField(_l("密码"), validators=[
        DataRequired(message=_l("请输入密码")),
        Length(max=MAX_PASSWORD, message=_l("密码不能超过%(max)d个字符。")),
        no_nul,
    ])


class PasswordForm(FlaskForm):
    old_password = PasswordField(_l("旧密码"), validators=[
        DataRequired(message=_l("请输入旧密码")),
        Length(max=MAX_PASSWORD, message=_l("密码不能超过%(max)d个字符。")),
        no_nul,
    ])
    new_password = PasswordField(_l("新密码"), validators=[
        DataRequired(message=_l("请输入新密码")),
        Length(min=MIN_NEW_PASSWORD, max=MAX_PASSWORD, message=_l("新密码长度应为%(min)d至%(max)d个字符。")),
        no_nul,
    ])
    confirm = PasswordField(_l("确认新密码"), validators=[
        DataRequired(message=_l("请再次输入新密码")),
        EqualTo("new_password", message=_l("两次输入的新密码不一致，请重新输入。")),
    ])

    def validate_new_password(self, field):
        if field.data and field.data == self.old_password.data:
            raise ValidationError(_l("新密码不能与旧密码相同。"))


def too_many_failures(wait):
    """The refusal of a throttled login, saying when to try again."""
    return gettext("登录失败次数过多，请在 %(minutes)d 分钟后再试。", minutes=max(1, math.ceil(wait.total_seconds() / 60)))


@login_manager.user_loader
def load_user(session_id):
    return User.by_session_id(session_id)


@login_manager.unauthorized_handler
def login_first():
    """Send someone who is not (or no longer) logged in to the login page, then back to where they were."""
    if request.headers.get("HX-Request") == "true":
        # An htmx request would swap the login page into a part of the page: have htmx load it as a whole page.
        back = local_path(_path_of(request.headers.get("HX-Current-URL")))
        return "", 401, {"HX-Redirect": url_for("auth.login", next=back)}
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _path_of(url):
    parts = urlsplit(url or "")
    return parts.path + ("?" + parts.query if parts.query else "")


@bp.before_app_request
def end_expired_session():
    """A session ends after SESSION_IDLE_MINUTES without a request and SESSION_LIFETIME_HOURS after login."""
    if request.endpoint == "static" or "_user_id" not in session:
        return
    ended = security.check_session()
    if ended:
        flash(str(SESSION_ENDED[ended]), "error")


# What a user whose password an administrator set may still reach before choosing their own.
BEFORE_OWN_PASSWORD = {"auth.change_password", "auth.logout", "main.switch_language", "static"}


@bp.before_app_request
def own_password_first():
    """A user given a password by an administrator (User.must_change_password) chooses their own before anything else."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in BEFORE_OWN_PASSWORD):
        if request.headers.get("HX-Request") == "true":
            return "", 200, {"HX-Redirect": url_for("auth.change_password")}
        return redirect(url_for("auth.change_password"), code=303)


def _page(template, status, wait, **context):
    response = current_app.make_response((render_template(template, **context), status))
    if wait is not None:
        response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response


def _login_page(form, error=None, status=200, wait=None):
    accounts = demo.DEMO_ACCOUNTS if current_app.config.get("DEMO_MODE") else {}
    return _page("auth/login.html", status, wait, form=form, error=error, demo_accounts=accounts,
                 demo_password=demo.DEMO_PASSWORD)


def _password_page(form, status=200, wait=None):
    return _page("auth/password.html", status, wait, form=form, min_length=MIN_NEW_PASSWORD,
                 must_change=current_user.must_change_password)


@bp.route("/login", methods=["GET", "POST"])
@database.reads_only  # the password check takes 0.1 s: never while holding SQLite's write lock
def login():
    """Show the login form and log the user in; too many wrong passwords are refused without checking (429)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, status=400 if form.is_submitted() else 200)
    username, address = form.username.data, security.client_address()
    wait = security.login_wait(username, address)
    if wait:
        return _login_page(form, too_many_failures(wait), 429, wait)
    user = User.by_username(username)
    if not security.password_matches(user, form.password.data):
        security.record_failure(username, address)
        db.session.commit()
        # Never say which half was wrong.
        return _login_page(form, gettext("用户名或密码错误，请重新输入"), 400)
    if not user.active:
        return _login_page(form, gettext("该账户已停用，请联系管理员。"), 403)
    if not user.session_token:  # a user from before sessions carried tokens (migration sec0001)
        user.end_sessions()
        db.session.commit()
    security.start_session(user)
    if user.must_change_password:
        return redirect(url_for("auth.change_password"), code=303)
    return redirect(local_path(request.args.get("next")) or url_for("main.home"), code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (a POST, so that a link elsewhere cannot do it), ending this user's sessions in every browser."""
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    security.end_session()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the user ends, this one goes on."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _password_page(form, 400 if form.is_submitted() else 200)
    user = current_user._get_current_object()
    address = security.client_address()
    # The old password is a password guess like any other: the same throttle counts it.
    wait = security.login_wait(user.username, address)
    if wait:
        form.old_password.errors.append(too_many_failures(wait))
        return _password_page(form, 429, wait)
    if not user.check_password(form.old_password.data):
        security.record_failure(user.username, address)
        db.session.commit()
        form.old_password.errors.append(gettext("旧密码不正确，请重新输入。"))
        return _password_page(form, 400)
    user.set_password(form.new_password.data)
    user.must_change_password = False
    user.end_sessions()
    db.session.commit()
    security.start_session(user)
    flash(gettext("密码已修改。其他浏览器或设备上的登录已退出。"), "success")
    return redirect(url_for("main.home"), code=303)
