"""Logging in and out."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

import demo
import rules
from extensions import db
from forms import column_length
from models import User
from web import local_path

bp = Blueprint("auth", __name__)

class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请输入密码"))])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        username = form.username.data.strip()
        # No account has such a name or password: not looked up (PostgreSQL cannot even compare a NUL).
        possible = (len(username) <= column_length(User.username) and not rules.control_characters(username)
                    and "\x00" not in form.password.data)
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none() if possible else None
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return redirect(local_path(request.args.get("next")) or url_for("main.home"), code=303)
        # Never say which half was wrong.
        error = gettext("用户名或密码错误，请重新输入")
    accounts = demo.DEMO_ACCOUNTS if current_app.config.get("DEMO_MODE") else {}
    return render_template("auth/login.html", form=form, error=error, demo_accounts=accounts,
                           demo_password=demo.DEMO_PASSWORD), (400 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (a POST, so that a link elsewhere cannot do it)."""
    logout_user()
    return redirect(url_for("auth.login"), code=303)
