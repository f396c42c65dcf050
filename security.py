"""Account security: login throttling, the same work for unknown user names, and sessions that end.

Times here are real time, not clock.now(): FROZEN_NOW freezes the domain's clock for a class, and a frozen clock
would never let a throttled account (or a whole classroom behind one address) in again, nor let a session end.
"""
import secrets
from datetime import datetime, timedelta, timezone
from functools import cache

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from models import LoginFailure

# How often a session's "last seen" is rewritten: idle time is measured to the minute, and an unchanged
# session is not sent back as a new cookie on every request.
TOUCH_EVERY = 60


def utcnow():
    """Real time as a naive UTC datetime (tests move it with monkeypatch)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _seconds(moment):
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


def client_address():
    """The address a request came from (behind a proxy, PROXY_COUNT makes this the client's, not the proxy's)."""
    return request.remote_addr or ""


def wait_for(times, limits, now):
    """How long until one more try is allowed after failures at ``times`` (oldest first), under (count, seconds)
    limits; zero when it is allowed now."""
    wait = timedelta(0)
    for count, seconds in limits:
        window = timedelta(seconds=seconds)
        recent = [t for t in times if t > now - window]
        if len(recent) >= count:
            # Allowed again once enough failures have left the window that fewer than ``count`` remain in it.
            wait = max(wait, recent[len(recent) - count] + window - now)
    return wait


def _longest_window():
    config = current_app.config
    return timedelta(seconds=max(s for _, s in config["LOGIN_LIMITS_PER_ACCOUNT"] + config["LOGIN_LIMITS_PER_ADDRESS"]))


def login_wait(username, address):
    """How long this user name and this address must wait before a password is checked again (zero: not at all)."""
    now = utcnow()
    since = now - _longest_window()
    config = current_app.config
    return max(wait_for(LoginFailure.times("username", username, since), config["LOGIN_LIMITS_PER_ACCOUNT"], now),
               wait_for(LoginFailure.times("address", address, since), config["LOGIN_LIMITS_PER_ADDRESS"], now))


def record_failure(username, address):
    """Count a wrong password against the user name and the address (the caller commits)."""
    now = utcnow()
    LoginFailure.record(username, address, now, keep_since=now - _longest_window())


@cache
def _dummy_hash():
    # Made with the same method and cost as real passwords, once, on the first unknown user name.
    return generate_password_hash(secrets.token_hex(16))


def password_matches(user, password):
    """Whether ``password`` is ``user``'s; an unknown user (None) costs the same hash, so time tells no names."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)


def _fresh_session(keep=("lang",)):
    kept = {key: session[key] for key in keep if key in session}
    session.clear()
    session.update(kept)
    if "csrf_token" not in kept:
        # Flask-WTF keeps the request's token in g too; dropping both makes the next form get a new one.
        g.pop("csrf_token", None)


def start_session(user):
    """Log ``user`` in on a fresh session: only the language survives from before, and the CSRF token is new."""
    _fresh_session()
    login_user(user)
    session["auth_at"] = session["seen_at"] = _seconds(utcnow())


def end_session(keep_csrf_token=False):
    """Log out of this session and forget everything in it but the language (and, when a session times out,
    the CSRF token: the form the user sends next then reaches the login page, not a CSRF refusal)."""
    logout_user()
    _fresh_session(("lang", "csrf_token") if keep_csrf_token else ("lang",))


def session_ended(state, now, idle_minutes, lifetime_hours):
    """Why a logged-in session's time is up ("idle" or "lifetime"), or None while it is alive."""
    auth_at, seen_at = state.get("auth_at"), state.get("seen_at")
    if not isinstance(auth_at, int) or not isinstance(seen_at, int) or now - auth_at >= lifetime_hours * 3600:
        return "lifetime"
    if now - seen_at >= idle_minutes * 60:
        return "idle"
    return None


def check_session():
    """End this request's session if it idled or lived too long (returning why), else note that it was used."""
    now = _seconds(utcnow())
    config = current_app.config
    ended = session_ended(session, now, config["SESSION_IDLE_MINUTES"], config["SESSION_LIFETIME_HOURS"])
    if ended:
        end_session(keep_csrf_token=True)
    elif now - session["seen_at"] >= TOUCH_EVERY:
        session["seen_at"] = now
    return ended


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, its signing serializer made once per secret key rather than on every request
    (every page opens the session)."""

    def __init__(self):
        self._serializers = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer
