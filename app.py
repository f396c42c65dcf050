"""The application factory."""
import logging
from pathlib import Path

from flask import Flask, session

import config as settings
from extensions import babel, csrf, db, login_manager, migrate


def select_locale():
    """The language chosen with the switch, else zh_CN."""
    from flask import current_app

    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config=None):
    """Create the site; ``config`` (a dict) wins over the environment, for tests."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)

    # pypdf narrates every flaw of a hostile upload; rules.check_pdf already turns them into one refusal.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from web import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    from blueprints import apply, auth, main, port_hours, query, review

    for module in (auth, main, apply, query, port_hours, review):
        app.register_blueprint(module.bp)

    import commands
    import web

    commands.register(app)
    web.register(app)
    return app
