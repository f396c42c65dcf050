"""预约审核: customs officers work the queue of their ports: 受理, 预约成功, 退单 (with a reason)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import or_, select

import clock
import rules
from extensions import db
from models import ROLE_CUSTOMS, Application
from web import role_required, say, send_attachment

bp = Blueprint("review", __name__, url_prefix="/review")

# The officer's buttons: which move each makes.
DECISIONS = {
    "accept": (rules.ACCEPTED, rules.N_("受理")),
    "approve": (rules.APPROVED, rules.N_("预约成功")),
    "return": (rules.RETURNED, rules.N_("退单")),
}
QUEUE_LIMIT = 200


def my_ports():
    return [port.code for port in current_user.ports]


def at_my_ports():
    """Applications declared at, or entering through, one of the officer's ports."""
    ports = my_ports()
    return or_(Application.declaration_port.in_(ports), Application.entry_port.in_(ports))


def load_for_review(application_id):
    """The application if it concerns one of the officer's ports and has been submitted; else 404."""
    application = db.session.get(Application, application_id)
    if application is None or not rules.officer_may_see(
            application.status, (application.declaration_port, application.entry_port), my_ports()):
        abort(404)
    return application


@bp.route("")
@role_required(ROLE_CUSTOMS)
def queue():
    """The applications waiting for customs at the officer's ports, oldest first."""
    waiting = db.session.execute(
        select(Application)
        .where(at_my_ports(), Application.status.in_(tuple(rules.CUSTOMS_MOVES)))
        .order_by(Application.submitted_at, Application.id)
        .limit(QUEUE_LIMIT)
    ).scalars().all()
    return render_template("review/queue.html", waiting=waiting, ports=current_user.ports)


@bp.route("/<int:application_id>", methods=["GET", "POST"])
@role_required(ROLE_CUSTOMS)
def detail(application_id):
    """One application, read-only, with the officer's decision buttons."""
    application = load_for_review(application_id)
    error = None
    if request.method == "POST":
        decision = DECISIONS.get(request.form.get("decision", ""))
        reason = request.form.get("reason", "").strip()
        if decision is None:
            abort(400)
        to_status = decision[0]
        typed = rules.check_note(reason, "reason", rules.N_("审核意见"))
        refusal = typed[0] if typed else rules.check_customs_move(application.status, to_status, reason,
                                                                   application.start, clock.now())
        if request.form.get("version") != str(application.version):
            # Another officer decided first: never overwrite that decision silently.
            refusal = rules.Refusal(text=rules.N_("该申请刚被其他人处理过，本次操作未执行。请查看当前状态后再决定。"),
                                    code="stale")
        if refusal is None:
            if to_status == rules.RETURNED:
                application.return_reason = reason
            application.move(to_status, current_user, note=reason)
            db.session.commit()
            flash(gettext("已将 %(number)s 改为“%(status)s”。", number=application.pre_entry_number,
                          status=gettext(rules.STATUS_LABELS[to_status])), "success")
            return redirect(url_for("review.queue"), code=303)
        error = say(refusal)
    choices = {key: label for key, (to_status, label) in DECISIONS.items()
               if to_status in rules.CUSTOMS_MOVES.get(application.status, ())}
    return render_template("review/detail.html", application=application, choices=choices, error=error,
                           reason=request.form.get("reason", "")), (400 if error else 200)


@bp.route("/<int:application_id>/files/<int:attachment_id>")
@role_required(ROLE_CUSTOMS)
def download(application_id, attachment_id):
    """An attachment of an application at the officer's ports."""
    return send_attachment(load_for_review(application_id), attachment_id)
