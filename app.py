"""The application factory."""
import logging
from functools import lru_cache
from pathlib import Path

from babel import Locale
from flask import Flask, session
from werkzeug.middleware.proxy_fix import ProxyFix

import config as settings
import database
from extensions import babel, csrf, db, login_manager, migrate


@lru_cache(maxsize=8)
def _locale(code):
    return Locale.parse(code)


def select_locale():
    """The language chosen with the switch, else zh_CN."""
    from flask import current_app

    lang = session.get("lang")
    # A parsed Locale, kept per process: parsing one costs more than the rest of a small page.
    return _locale(lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"])


def create_app(config=None):
    """Create the site; ``config`` (a dict) wins over the environment, for tests."""
    app = Flask(__name__, instance_relative_config=True)
    import security
    from web import SiteEnvironment

    app.jinja_environment = SiteEnvironment  # before anything creates app.jinja_env
    app.session_interface = security.SessionCookies()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings.from_environment(app.instance_path))
    # Refusals come from rules.py through the site's own catalogue; WTForms' stock messages are never shown, so
    # Flask-WTF need not read WTForms' catalogue from disk on every request.
    app.config["WTF_I18N_ENABLED"] = False
    if config:
        app.config.update(config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))

    if app.config.get("PROXY_COUNT"):
        # Behind nginx: the client's address (login throttling) and scheme (Secure cookie, HSTS) from its headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])

    # pypdf narrates every flaw of a hostile upload; rules.check_pdf already turns them into one refusal.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from web import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    from blueprints import (admin, admin_announcements, admin_audit, admin_calendars, admin_capacity,
                            admin_catalogue, admin_enterprises, admin_settings, admin_timetables, admin_users, api,
                            api_keys, apply, auth, load, main, port_hours, query, review, webhooks)

    for module in (auth, main, apply, query, port_hours, review, load, admin, admin_calendars, admin_capacity,
                   admin_users, admin_enterprises, admin_announcements, admin_settings, admin_timetables,
                   admin_catalogue, admin_audit, api, api_keys, webhooks):
        app.register_blueprint(module.bp)
    # The API checks CSRF itself, for cookie sessions only: a Bearer key is no ambient credential (blueprints/api.py).
    csrf.exempt(api.bp)

    import assets
    import commands
    import outbox  # noqa: F401 (registers the webhooks and e-mails of every status change)
    import web

    assets.register(app)
    commands.register(app)
    web.register(app)
    return app
