"""状态通知: an enterprise's webhooks (URL and secret), their delivery log with 重新发送, the address its notices are
e-mailed to, and the in-site notice list. Deliveries themselves are outbox.py's."""
import ipaddress
import re
import secrets
import socket
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy import select

import clock
import outbox
import rules
from extensions import db
from models import ROLE_ENTERPRISE, Notice, NoticeAddress, Outbox, Webhook
from web import errors_by_field, role_required

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

LOG_ROWS = 50
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_webhook(url, secret):
    """A webhook: an http(s) URL of at most 500 characters, a secret of 16 to 100 characters."""
    refusals = rules.check_typed_text(url, "url", rules.Message(text=rules.N_("接收地址")), 500)
    parts = urlsplit(url)
    if not refusals and (parts.scheme not in ("http", "https") or not parts.netloc):
        refusals.append(rules.Refusal(text=rules.N_("接收地址应以 http:// 或 https:// 开头，例如 https://erp.example.com/yuyue。"),
                                      code="webhook.url", field="url"))
    elif not refusals and not may_call(parts.hostname):
        refusals.append(rules.Refusal(text=rules.N_("接收地址 %(host)s 是内部网络地址，不能作为接收地址；请使用贵企业对外提供的地址。"),
                                      params={"host": rules.shown(parts.hostname or "")}, code="webhook.private",
                                      field="url"))
    if secret and not 16 <= len(secret) <= 100:
        refusals.append(rules.Refusal(text=rules.N_("签名密钥应为16至100个字符；留空则由系统生成。"),
                                      code="webhook.secret", field="secret"))
    return refusals + rules.check_typed_text(secret, "secret", rules.Message(text=rules.N_("签名密钥")), 100)


def may_call(host):
    """Whether the site may call this host: not one of its own or its network's addresses (loopback, private,
    link-local), unless WEBHOOK_ALLOW_PRIVATE is set or the site runs as a demo, where brokers' examples listen on
    127.0.0.1."""
    if current_app.config.get("WEBHOOK_ALLOW_PRIVATE") or current_app.config.get("DEMO_MODE"):
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return True  # not resolvable now: deliveries will fail and be retried, which the log shows
    return not any(internal(address) for address in addresses)


def internal(address):
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 address may carry its interface: fe80::1%eth0
    return ip.is_private or ip.is_loopback or ip.is_link_local


def check_email(email):
    if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        return [rules.Refusal(text=rules.N_("电子邮箱 %(value)s 格式不正确，例如 contact@example.com。"),
                              params={"value": rules.shown(email)}, code="notice.email", field="email")]
    return []


def own(model, row_id):
    row = db.session.get(model, row_id)
    if row is None or row.enterprise_id != current_user.enterprise_id:
        abort(404)
    return row


def show(typed=None, errors=None, created_secret=None, status=200):
    enterprise_id = current_user.enterprise_id
    hooks = db.session.execute(select(Webhook).where(Webhook.enterprise_id == enterprise_id)
                               .order_by(Webhook.id)).scalars().all()
    log = db.session.execute(select(Outbox).where(Outbox.enterprise_id == enterprise_id)
                             .order_by(Outbox.id.desc()).limit(LOG_ROWS)).scalars().all()
    address = db.session.get(NoticeAddress, enterprise_id)
    typed = typed or {}
    typed.setdefault("email", address.email if address else "")
    return render_template("webhooks/index.html", hooks=hooks, log=log, typed=typed, errors=errors or {},
                           created_secret=created_secret), status


@bp.route("")
@role_required(ROLE_ENTERPRISE)
def index():
    """The enterprise's webhooks, notice address and delivery log."""
    return show()


@bp.route("", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def create():
    """Register a URL; the secret typed, or one generated and shown once."""
    url, secret = (request.form.get("url") or "").strip(), (request.form.get("secret") or "").strip()
    refusals = check_webhook(url, secret)
    if refusals:
        return show({"url": url, "secret": secret}, errors_by_field(refusals), status=400)
    generated = not secret
    secret = secret or "whsec_" + secrets.token_urlsafe(24)
    db.session.add(Webhook(enterprise_id=current_user.enterprise_id, url=url, secret=secret, created_at=clock.now()))
    db.session.commit()
    return show(created_secret=secret if generated else None, status=201)


@bp.route("/<int:hook_id>/disable", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def disable(hook_id):
    """Stop calling a URL (its log stays)."""
    hook = own(Webhook, hook_id)
    hook.disabled_at = hook.disabled_at or clock.now()
    db.session.commit()
    flash(gettext("已停用接收地址 %(url)s。", url=hook.url), "success")
    return redirect(url_for("webhooks.index"), code=303)


@bp.route("/deliveries/<int:row_id>/resend", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def resend(row_id):
    """重新发送: the same event again, with the same event id, as a new line of the log."""
    outbox.resend(own(Outbox, row_id))
    db.session.commit()
    flash(gettext("已安排重新发送。"), "success")
    return redirect(url_for("webhooks.index"), code=303)


@bp.route("/email", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def email():
    """The address status notices are also e-mailed to (blank: none)."""
    typed = (request.form.get("email") or "").strip()
    refusals = check_email(typed)
    if refusals:
        return show({"email": typed}, errors_by_field(refusals), status=400)
    address = db.session.get(NoticeAddress, current_user.enterprise_id)
    if not typed and address is not None:
        db.session.delete(address)
    elif typed:
        address = address or NoticeAddress(enterprise_id=current_user.enterprise_id)
        address.email, address.updated_at = typed, clock.now()
        db.session.add(address)
    db.session.commit()
    flash(gettext("通知邮箱已保存。"), "success")
    return redirect(url_for("webhooks.index"), code=303)


@bp.route("/notices")
@role_required(ROLE_ENTERPRISE)
def notices():
    """站内通知: the enterprise's latest notices, newest first, the unread ones marked."""
    rows = db.session.execute(select(Notice).where(Notice.enterprise_id == current_user.enterprise_id)
                              .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(100)).scalars().all()
    return render_template("webhooks/notices.html", notices=rows, text=outbox.notice_text)


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def notice_read(notice_id):
    """Mark a notice read, as opening a letter does: with ``open``, go on to its application."""
    notice = own(Notice, notice_id)
    Notice.mark_read(current_user.enterprise_id, clock.now(), notice.id)
    db.session.commit()
    if request.form.get("open") and notice.application_id:
        return redirect(url_for("apply.edit", application_id=notice.application_id), code=303)
    return redirect(url_for("webhooks.notices"), code=303)


@bp.route("/notices/read", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def notices_read():
    """全部标为已读: every notice of the enterprise read."""
    marked = Notice.mark_read(current_user.enterprise_id, clock.now())
    db.session.commit()
    flash(ngettext("已将%(num)d条通知标为已读。", "已将%(num)d条通知标为已读。", marked), "success")
    return redirect(url_for("webhooks.notices"), code=303)
