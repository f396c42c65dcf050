"""The outbox: webhook calls and e-mails written in the transaction of the change that causes them, delivered by
`flask worker`.

A status change (models.Application.move, whoever makes it: browser, officer, API) adds its messages to the same
transaction, so a message exists exactly when the change was committed: nothing is lost if the worker or the
receiver is down. The worker claims due rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers share the
work; SQLite: BEGIN IMMEDIATE serialises the claim), leases them (OUTBOX_LEASE_SECONDS), delivers outside any transaction and
then records the outcome. A receiver that acknowledged (2xx) and was recorded is never called again for that row;
one killed between the call and the record is called again after the lease, with the same X-Yuyue-Event-Id so it
can tell.

Signatures follow Stripe's scheme: ``X-Yuyue-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
"""
import hashlib
import hmac
import json
import os
import smtplib
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import bindparam, exists, select

import clock
import rules
from extensions import db
from models import (STATUS_LISTENERS, Application, IdempotentResponse, Notice, NoticeAddress, Outbox, Webhook,
                    plain_rows, status_is)

SIGNATURE_HEADER = "X-Yuyue-Signature"
EVENT_ID_HEADER = "X-Yuyue-Event-Id"
EVENT_STATUS_CHANGED = "application.status_changed"
# Due obligations (R25), noticed once each: declaration numbers after an approved appointment's start, the
# statement after an approved appointment was cancelled.
FEEDBACK_DUE, STATEMENT_DUE = "feedback_due", "statement_due"
OBLIGATION_SCAN_SECONDS = 60
# A retry comes within minutes or hours; a stored answer older than this is never asked for again.
IDEMPOTENCY_KEEP = timedelta(days=7)
LEASE_SECONDS = 60
BACKOFF_SECONDS = 10
TIMEOUT_SECONDS = 10
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP_AFTER = 20
SIGNATURE_TOLERANCE_SECONDS = 300


def real_now():
    """Wall time for delivery schedules: never frozen (a frozen clock would never make a retry due)."""
    return datetime.now(clock.SHANGHAI).replace(tzinfo=None)


def setting(name, default):
    """OUTBOX_LEASE_SECONDS, OUTBOX_BACKOFF_SECONDS: the app's config, else the environment, else the default."""
    value = current_app.config.get(name) or os.environ.get(name)
    return float(value) if value else default


def backoff(attempts):
    """How long to wait after the attempts made so far: 10 s, 20 s, 40 s … at most an hour."""
    base = setting("OUTBOX_BACKOFF_SECONDS", BACKOFF_SECONDS)
    return min(timedelta(seconds=base * 2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)


def sign(secret, body, timestamp=None):
    """The X-Yuyue-Signature value for this body (bytes)."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret, header, body, tolerance=SIGNATURE_TOLERANCE_SECONDS, now=None):
    """Whether an X-Yuyue-Signature header signs this body (bytes) with this secret, recently enough."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    if abs((time.time() if now is None else now) - int(parts["t"])) > tolerance:
        return False
    expected = sign(secret, body, int(parts["t"])).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


# Built once: every status change asks.
_LIVE_WEBHOOKS = select(Webhook.id, Webhook.url).where(Webhook.enterprise_id == bindparam("enterprise"),
                                                       Webhook.disabled_at.is_(None))


def status_changed(application, previous, user, at):
    """Add the notices of a status change to the current transaction: in-site notice, webhooks, e-mail."""
    enterprise_id = application.declarant_id or (application.declarant and application.declarant.id)
    if previous == application.status or not enterprise_id:
        return
    change = application.history[-1] if application.history else None
    note, message = (change.note, change.message) if change else ("", None)
    db.session.add(Notice(enterprise_id=enterprise_id, application=application,
                          pre_entry_number=application.pre_entry_number, from_status=previous,
                          to_status=application.status, note=note or "", created_at=at,
                          note_key=change.note_key if change else None,
                          note_params=change.note_params if change else None))
    Notice.added(enterprise_id)
    event_id = uuid.uuid4().hex
    payload = {
        "id": event_id,
        "type": EVENT_STATUS_CHANGED,
        "created_at": at.isoformat(),
        "data": {
            "application_id": application.id,
            "pre_entry_number": application.pre_entry_number,
            "application_number": application.application_number,
            "from_status": previous,
            "status": application.status,
            "status_label": rules.STATUS_LABELS.get(application.status, application.status),
            "start": application.start.isoformat() if application.start else None,
            "by_role": user.role if user else None,
            "note": note or "",
        },
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    now = real_now()
    for hook in plain_rows(_LIVE_WEBHOOKS, {"enterprise": enterprise_id}):
        db.session.add(Outbox(kind=Outbox.KIND_WEBHOOK, event_id=event_id, event=EVENT_STATUS_CHANGED,
                              enterprise_id=enterprise_id, webhook_id=hook.id, target=hook.url, payload=body,
                              created_at=now, attempts=0, next_attempt_at=now, last_error=""))
    address = db.session.get(NoticeAddress, enterprise_id)
    if address is not None:
        db.session.add(Outbox(kind=Outbox.KIND_EMAIL, event_id=event_id, event=EVENT_STATUS_CHANGED,
                              enterprise_id=enterprise_id, target=address.email,
                              payload=json.dumps(email_text(payload, message), ensure_ascii=False),
                              created_at=now, attempts=0, next_attempt_at=now, last_error=""))


def notice_text(pre_entry_number, status, note="", message=None):
    """One notice in the current language; ``message`` (a rules.SystemNote) words the note the system wrote."""
    if status == FEEDBACK_DUE:
        return gettext("预约申请 %(number)s 已到预约时间，请在 %(due)s 前反馈预约通关报关单号。", number=pre_entry_number,
                       due=note)
    if status == STATEMENT_DUE:
        return gettext("预约申请 %(number)s 预约成功后已取消，请在 %(due)s 前发送情况说明。", number=pre_entry_number,
                       due=note)
    text = gettext("预约申请 %(number)s 的状态已变为“%(status)s”。", number=pre_entry_number,
                   status=gettext(rules.STATUS_LABELS.get(status, status)))
    note = message.render(gettext) if message is not None else note
    return text + (" " + gettext("备注：%(note)s", note=note) if note else "")


def notice_obligations(now):
    """Write a notice (and its e-mail) for each obligation that became due and was not noticed yet; return how many."""
    noticed = exists().where(Notice.application_id == Application.id, Notice.to_status == FEEDBACK_DUE)
    feedback = select(Application).where(status_is(rules.APPROVED), Application.statement_at.is_(None),
                                         Application.start <= now, ~noticed)
    noticed = exists().where(Notice.application_id == Application.id, Notice.to_status == STATEMENT_DUE)
    statement = select(Application).where(status_is(rules.CANCELLED), Application.approved_at.isnot(None),
                                          Application.statement_at.is_(None), ~noticed)
    count = 0
    for kind, query, due in ((FEEDBACK_DUE, feedback, lambda a: rules.feedback_due(a.start)),
                             (STATEMENT_DUE, statement, lambda a: rules.statement_due(a.cancelled_at))):
        for application in db.session.execute(query).scalars().all():
            when = due(application).strftime("%Y-%m-%d %H:%M")
            db.session.add(Notice(enterprise_id=application.declarant_id, application=application,
                                  pre_entry_number=application.pre_entry_number, from_status=application.status,
                                  to_status=kind, note=when, created_at=now))
            Notice.added(application.declarant_id)
            address = db.session.get(NoticeAddress, application.declarant_id)
            if address is not None:
                payload = {"data": {"pre_entry_number": application.pre_entry_number, "status": kind, "note": when}}
                db.session.add(Outbox(kind=Outbox.KIND_EMAIL, event_id=uuid.uuid4().hex, event=kind,
                                      enterprise_id=application.declarant_id, target=address.email,
                                      payload=json.dumps(email_text(payload), ensure_ascii=False),
                                      created_at=real_now(), attempts=0, next_attempt_at=real_now(), last_error=""))
            count += 1
    db.session.commit()
    return count


def forget_old_answers(before):
    """Delete the stored answers to idempotent requests made before ``before``."""
    db.session.execute(IdempotentResponse.__table__.delete().where(IdempotentResponse.created_at < before))
    db.session.commit()


def email_text(payload, message=None):
    """Subject and body of a status e-mail, in Chinese then English (``message``: the note the system wrote)."""
    data = payload["data"]
    lines = []
    for lang in ("zh_CN", "en"):
        with force_locale(lang):
            lines.append(notice_text(data["pre_entry_number"], data["status"], data["note"], message))
    with force_locale("zh_CN"):
        subject = gettext("预约通关通知：%(number)s", number=data["pre_entry_number"])
    return {"subject": subject, "body": "\n\n".join(lines) + "\n"}


def resend(row):
    """重新发送: the same event again to the same target, as a new row of the log (a fresh set of attempts)."""
    now = real_now()
    copy = Outbox(kind=row.kind, event_id=row.event_id, event=row.event, enterprise_id=row.enterprise_id,
                  webhook_id=row.webhook_id, target=row.target, payload=row.payload, created_at=now, attempts=0,
                  next_attempt_at=now, last_error="")
    db.session.add(copy)
    return copy


def claim(batch=10):
    """Take up to ``batch`` due rows for this worker, leased (OUTBOX_LEASE_SECONDS) so that no other worker takes
    them meanwhile, and commit; return what to deliver."""
    now = real_now()
    lease = timedelta(seconds=setting("OUTBOX_LEASE_SECONDS", LEASE_SECONDS))
    due = (select(Outbox).where(Outbox.delivered_at.is_(None), Outbox.next_attempt_at <= now)
           .order_by(Outbox.next_attempt_at, Outbox.id).limit(batch))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    jobs = []
    for row in db.session.execute(due).scalars().all():
        row.attempts += 1
        row.next_attempt_at = now + lease
        hook = db.session.get(Webhook, row.webhook_id) if row.webhook_id else None
        jobs.append({"id": row.id, "kind": row.kind, "target": row.target, "payload": row.payload,
                     "event_id": row.event_id, "attempts": row.attempts, "secret": hook.secret if hook else None,
                     "removed": row.kind == Outbox.KIND_WEBHOOK and (hook is None or hook.disabled_at is not None)})
    db.session.commit()
    return jobs


def deliver(job):
    """Deliver one claimed job; return None when acknowledged, else the error."""
    if job["removed"]:
        return "webhook removed"
    try:
        if job["kind"] == Outbox.KIND_WEBHOOK:
            post_webhook(job["target"], job["secret"], job["payload"].encode(), job["event_id"])
        else:
            send_email(job["target"], json.loads(job["payload"]))
    except (OSError, smtplib.SMTPException, urllib.error.URLError, ValueError) as error:
        return f"{type(error).__name__}: {error}"[:1000]
    return None


def post_webhook(url, secret, body, event_id):
    """POST a signed body; raise unless the receiver answers 2xx."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "yuyue-webhooks/1",
        SIGNATURE_HEADER: sign(secret, body),
        EVENT_ID_HEADER: event_id,
    })
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise ValueError(f"HTTP {response.status}")


def smtp_settings():
    """SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_STARTTLS: the app's config, else the environment."""
    def setting(name, default=""):
        return current_app.config.get(name) or os.environ.get(name, default)

    return {"host": setting("SMTP_HOST"), "port": int(setting("SMTP_PORT", "25") or 25),
            "user": setting("SMTP_USER"), "password": setting("SMTP_PASSWORD"),
            "sender": setting("SMTP_FROM", "yuyue@localhost"), "starttls": setting("SMTP_STARTTLS") in ("1", True)}


def send_email(to, message_text):
    """Send one notice through the configured SMTP server."""
    settings = smtp_settings()
    if not settings["host"]:
        raise ValueError("SMTP_HOST is not set")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings["sender"], to, message_text["subject"]
    message.set_content(message_text["body"])
    with smtplib.SMTP(settings["host"], settings["port"], timeout=TIMEOUT_SECONDS) as smtp:
        if settings["starttls"]:
            smtp.starttls()
        if settings["user"]:
            smtp.login(settings["user"], settings["password"])
        smtp.send_message(message)


def record(job, error):
    """Record an attempt's outcome: delivered, or due again after the backoff (given up after GIVE_UP_AFTER)."""
    row = db.session.get(Outbox, job["id"])
    now = real_now()
    if error is None:
        row.delivered_at, row.last_error = now, ""
    else:
        row.last_error = error
        # Given up: kept in the log with its error, until someone presses 重新发送.
        row.next_attempt_at = datetime(9999, 1, 1) if job["attempts"] >= GIVE_UP_AFTER else now + backoff(job["attempts"])
    db.session.commit()


def run_once(batch=10):
    """Claim and deliver one batch; return how many were tried."""
    jobs = claim(batch)
    for job in jobs:
        record(job, deliver(job))
    return len(jobs)


def run(poll_seconds=1.0, stop=None):
    """Deliver until ``stop`` (a threading.Event) is set, or forever; notice due obligations once a minute."""
    scanned = 0.0
    while stop is None or not stop.is_set():
        try:
            if time.monotonic() - scanned > OBLIGATION_SCAN_SECONDS:
                # Two workers scanning at once could notice one obligation twice; a notice, not a decision.
                notice_obligations(clock.now())
                forget_old_answers(real_now() - IDEMPOTENCY_KEEP)
                scanned = time.monotonic()
            tried = run_once()
        except Exception:  # noqa: BLE001 - a worker must outlive a database hiccup; it logs and tries again
            db.session.rollback()
            current_app.logger.exception("outbox: delivery round failed")
            tried = 0
        if not tried:
            time.sleep(poll_seconds)


STATUS_LISTENERS.append(status_changed)
