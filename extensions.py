"""Extension objects, created once and bound to the app in create_app()."""
from functools import cached_property

from flask.globals import _cv_app
from flask_babel import Babel, Domain
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class PageDomain(Domain):
    """Flask-Babel's message domain, finding the request's catalogue once rather than for each of a page's hundred
    strings (every gettext, lazy label and template string asks for it: about a tenth of the application page)."""

    def get_translations(self):
        context = _cv_app.get(None)  # the app context itself, not through the g proxy (a hundred calls a page)
        if context is None:
            return super().get_translations()
        state = getattr(context.g, "_flask_babel", None)
        kept = getattr(state, "page_translations", None)
        # Kept while the locale object is the same one: refresh() and force_locale() replace it.
        if kept is not None and kept[0] is self and kept[1] is not None and kept[1] is getattr(state, "babel_locale", None):
            return kept[2]
        translations = super().get_translations()
        state = context.g._flask_babel  # made by the lookup above
        state.page_translations = (self, getattr(state, "babel_locale", None), translations)
        return translations


class SiteBabel(Babel):
    """Flask-Babel with PageDomain as its messages' domain."""

    @cached_property
    def domain_instance(self):
        return PageDomain(domain=self.domain)


babel = SiteBabel()
