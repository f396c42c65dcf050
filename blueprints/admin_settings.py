"""站点设置 (site administrator): the site's name, the operating port's name and the contact telephone.

Also gives every template the settings (``site``) and the names of ports and transport modes in the page's language.
"""
from functools import cached_property

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

import registry
import rules
from extensions import db
from models import ROLE_SITE_ADMIN, Port, SiteSetting, TransportMode, audit, bump_reference_data, site_settings
from web import errors_by_field, role_required

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")


class Site:
    """The settings as a template reads them: names in the page's language, the neutral default when unset.
    (Made for each page, which shows its names more than once: each is worked out once.)"""

    def __init__(self, values, english):
        self.values = values
        self.english = english

    def _pick(self, key):
        return (self.english and self.values.get(key + "_en")) or self.values.get(key) or ""

    @cached_property
    def name(self):
        return self._pick("site_name") or gettext(registry.DEFAULT_SITE_NAME)

    @cached_property
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


@bp.route("/names", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def names():
    """The English names of ports and transport modes, shown in the English interface (empty: the Chinese name)."""
    ports = db.session.execute(select(Port).order_by(Port.code)).scalars().all()
    modes = db.session.execute(select(TransportMode).order_by(TransportMode.code)).scalars().all()
    if request.method == "GET":
        return render_template("admin/settings/names.html", ports=ports, modes=modes, typed={}, errors={})
    typed = {key: (request.form.get(key) or "").strip() for key in request.form if key.startswith(("port-", "mode-"))}
    too_long = [key for key, value in typed.items() if len(value) > (100 if key.startswith("port-") else 50)]
    if too_long:
        refusal = rules.Refusal(text=rules.N_("英文名称过长：口岸名称不超过100个字符，运输方式不超过50个字符。"),
                                code="too_long", field=None)
        return render_template("admin/settings/names.html", ports=ports, modes=modes, typed=typed,
                               errors=errors_by_field([refusal]), marked=set(too_long)), 400
    for prefix, rows in (("port-", ports), ("mode-", modes)):
        for row in rows:
            value = typed.get(prefix + row.code)
            if value is not None and value != row.name_en:
                audit(current_user, "names.update", prefix.rstrip("-"), row.code, {"name_en": row.name_en},
                      {"name_en": value}, row.code if prefix == "port-" else None)
                row.name_en = value
    bump_reference_data()
    db.session.commit()
    flash(gettext("英文名称已保存。"), "success")
    return redirect(url_for(".names"), code=303)
