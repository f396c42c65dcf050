"""API密钥: an enterprise operator creates (the key shown once), names, sees the last use of, and revokes API keys.

A key acts as the operator who created it, with the same permissions (`Authorization: Bearer <key>`). Only its
SHA-256 is stored, with its first characters to tell keys apart.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

import clock
import rules
from extensions import db
from models import ROLE_ENTERPRISE, ApiKey, User
from web import errors_by_field, role_required

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")

KEY_PREFIX = "yy_"
SHOWN_CHARACTERS = 11  # "yy_" and 8 more: enough to tell keys apart, far too few to guess the rest
# Writing last_used_at on every call would make every read a write; a minute is precise enough to tell use.
LAST_USE_PRECISION = timedelta(minutes=1)


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def new_key():
    """A fresh key: "yy_" and 40 random URL-safe characters."""
    return KEY_PREFIX + secrets.token_urlsafe(30)


def key_user(key):
    """The active user an unrevoked key acts as, noting its use; else None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    row = db.session.execute(select(ApiKey).where(ApiKey.key_hash == digest(key))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = clock.now()
    if row.last_used_at is None or abs(now - row.last_used_at) >= LAST_USE_PRECISION:
        row.last_used_at = now
        db.session.commit()
    return row.user


def check_name(name):
    """A key's name: something to recognise it by, one line of at most 100 characters."""
    label = rules.Message(text=rules.N_("密钥名称"))
    if not name:
        return [rules.Refusal(text=rules.N_("请填写密钥名称，例如使用它的系统。"), code="api_key.name", field="name")]
    return rules.check_typed_text(name, "name", label, ApiKey.name.property.columns[0].type.length)


def enterprise_keys():
    return db.session.execute(
        select(ApiKey).join(User, User.id == ApiKey.user_id)
        .where(User.enterprise_id == current_user.enterprise_id).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    ).scalars().all()


def show(name="", errors=None, created=None, status=200):
    return render_template("api_keys/index.html", keys=enterprise_keys(), name=name, errors=errors or {},
                           created=created), status


@bp.route("")
@role_required(ROLE_ENTERPRISE)
def index():
    """The enterprise's keys: name, first characters, creator, created, last used, revoked."""
    return show()


@bp.route("", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def create():
    """Create a key and show it once (only its hash is kept)."""
    name = (request.form.get("name") or "").strip()
    refusals = check_name(name)
    if refusals:
        return show(name, errors_by_field(refusals), status=400)
    key = new_key()
    db.session.add(ApiKey(user_id=current_user.id, name=name, prefix=key[:SHOWN_CHARACTERS], key_hash=digest(key),
                          created_at=clock.now()))
    db.session.commit()
    # Shown in this response only, never redirected to or stored: the page says so.
    return show(created={"name": name, "key": key}, status=201)


@bp.route("/<int:key_id>/revoke", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def revoke(key_id):
    """Revoke a key of this enterprise: it stops working at once."""
    row = db.session.get(ApiKey, key_id)
    if row is None or row.user.enterprise_id != current_user.enterprise_id:
        abort(404)
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        db.session.commit()
    flash(gettext("已吊销密钥“%(name)s”。", name=row.name), "success")
    return redirect(url_for("api_keys.index"), code=303)
