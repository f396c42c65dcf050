"""站点设置 (site administrator): the site's name, the operating port's name and the contact telephone.

Also gives every template the settings (``site``) and the names of ports and transport modes in the page's language.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

import registry
from extensions import db
from models import ROLE_SITE_ADMIN, SiteSetting, audit, bump_reference_data, site_settings
from web import errors_by_field, role_required

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")


class Site:
    """The settings as a template reads them: names in the page's language, the neutral default when unset."""

    def __init__(self, values, english):
        self.values = values
        self.english = english

    def _pick(self, key):
        return (self.english and self.values.get(key + "_en")) or self.values.get(key) or ""

    @property
    def name(self):
        return self._pick("site_name") or gettext(registry.DEFAULT_SITE_NAME)

    @property
    def port_name(self):
        return self._pick("port_name")

    @property
    def contact_phone(self):
        return self.values.get("contact_phone") or ""


def _english():
    from flask_babel import get_locale

    return str(get_locale() or "").startswith("en")


@bp.app_context_processor
def site_globals():
    english = _english()

    def named(thing):
        """A port's or transport mode's name in the page's language (English when it has one)."""
        return (english and getattr(thing, "name_en", "")) or thing.name

    return {"site": Site(site_settings(), english), "port_name": named, "mode_name": named}


@bp.route("", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def edit():
    """Show and change the site settings; every page shows them at once (cached per process, see models)."""
    stored = site_settings()
    if request.method == "GET":
        return render_template("admin/settings/edit.html", values=dict(stored), errors={},
                               labels=registry.SETTING_LABELS)
    values = {key: (request.form.get(key) or "").strip() for key in registry.SETTING_LABELS}
    refusals = registry.check_settings(values)
    if refusals:
        return render_template("admin/settings/edit.html", values=values, errors=errors_by_field(refusals),
                               labels=registry.SETTING_LABELS), 400
    rows = {row.key: row for row in db.session.execute(select(SiteSetting)).scalars()}
    for key, value in values.items():
        row = rows.get(key) or SiteSetting(key=key)
        row.value = value
        db.session.add(row)
    audit(current_user, "settings.update", "settings", "site", dict(stored), values)
    bump_reference_data()
    db.session.commit()
    flash(gettext("站点设置已保存。"), "success")
    return redirect(url_for(".edit"), code=303)
