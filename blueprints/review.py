"""预约审核: the customs officers' workspace: the queue over every status, the detail with its decisions, paper
applications, the overdue lists (R25) and the statistics."""
import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

import clock
import rules
from extensions import db
from forms import PaperApplicationForm
from models import (ROLE_ADMIN, ROLE_CUSTOMS, ROLE_SITE_ADMIN, QUEUE_ACTION, Application, Enterprise, ReviewQueue,
                    declaration_facts, enter_paper_application, hour_load, obligations, port_calendars,
                    reference_data, statistics_rows, submission_context)
from web import administered_ports, errors_by_field, parse_dates, render_page, role_required, say, send_attachment

bp = Blueprint("review", __name__, url_prefix="/review")

# The officer's buttons: which move each makes.
DECISIONS = {
    "accept": (rules.ACCEPTED, rules.N_("受理")),
    "approve": (rules.APPROVED, rules.N_("预约成功")),
    "return": (rules.RETURNED, rules.N_("退单")),
}
PAGE_SIZE = 50
QUEUE_FILTERS = ("port", "status", "appointment_from", "appointment_to", "party", "pre_entry_number", "channel",
                 "overdue", "statement", "sort")
QUEUE_STATUSES = (rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED, rules.CLEARED, rules.CLEARED_NO_FEEDBACK,
                  rules.RETURNED, rules.CANCELLED)
CHANNELS = {"online": rules.N_("网上申请"), "paper": rules.N_("纸质申请")}
SORTS = {"submitted": rules.N_("按申报时间"), "start": rules.N_("按预约时间")}
# An uploaded PDF opened in the browser: the viewer may show it, nothing of it may run or reach out.
INLINE_PDF_POLICY = "default-src 'none'; object-src 'self'; plugin-types application/pdf; frame-ancestors 'self'"


def my_ports():
    return [port.code for port in current_user.ports]


def load_for_review(application_id):
    """The application if it concerns one of the officer's ports and has been submitted; else 404."""
    application = db.session.get(Application, application_id)
    if application is None or not rules.officer_may_see(
            application.status, (application.declaration_port, application.entry_port), my_ports()):
        abort(404)
    return application


def read_queue_filters(args):
    """The queue form's values as typed; a first visit opens on what needs action now."""
    values = {name: (args.get(name) or "").strip() for name in QUEUE_FILTERS}
    if "status" not in args:
        values["status"] = QUEUE_ACTION
    return values


@bp.route("")
@role_required(ROLE_CUSTOMS)
def queue():
    """The queue of the officer's ports: every status, filtered, sorted, counted by status, paged."""
    values = read_queue_filters(request.args)
    dates, refusals = parse_dates(values, ("appointment_from", "appointment_to"))
    page = min(max(request.args.get("page", 1, type=int), 1), 10 ** 6)
    search = ReviewQueue(my_ports(), values, dates, clock.now())
    total, results, counts = 0, [], {}
    if not refusals:
        total, results, counts = search.total(), search.page(page, PAGE_SIZE), search.counts()
    filters = {name: value for name, value in values.items() if value}
    return render_page(
        "review/queue.html", ("review-queue-page",), 400 if refusals else 200,
        values=values, errors=errors_by_field(refusals), results=results, total=total, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), counts=counts, filters=filters,
        ports=sorted(current_user.ports, key=lambda p: p.code), statuses=QUEUE_STATUSES, channels=CHANNELS,
        sorts=SORTS, action=QUEUE_ACTION,
    )


def submission_timing(application):
    """R12 as it stood when the application was submitted (rules.submission_timing)."""
    if not (application.declaration_port and application.entry_port and application.start):
        return None
    calendars = port_calendars([application.declaration_port])
    calendar = calendars.get(application.declaration_port) or rules.PortCalendar(application.declaration_port, {},
                                                                                 frozenset())
    grade = rules.application_grade(application.declarant.info(),
                                    application.consignee.info() if application.consignee else None)
    return rules.submission_timing(application.submitted_at, application.start, calendar,
                                   application.declaration_port == application.entry_port, grade)


def number_checks(application):
    """Each fed-back declaration number with what R19/R20 say of it (an empty list: it matches)."""
    numbers = [n.number for n in application.declaration_numbers]
    if not numbers or not application.submitted_at:
        return []
    facts = declaration_facts(numbers)
    codes = application.consignee.info().codes if application.consignee else {application.consignee_code}
    return [(number, [say(r) for r in rules.check_declaration_numbers(
        [number], application.direction, application.declaration_port, application.entry_port, codes,
        application.submitted_at, facts)], number in facts) for number in numbers]


def capacity_refusal(application):
    """R24 at 预约成功: a confirmed place must be left in every hour of the window at both ports."""
    ports = [application.declaration_port, application.entry_port]
    load = hour_load(ports, application.start, rules.CONFIRMED_STATUSES, exclude_id=application.id)
    refusals = rules.check_capacity(application.start, ports, load, port_calendars(ports)) if load.capacities else []
    return refusals[0] if refusals else None


@bp.route("/<int:application_id>", methods=["GET", "POST"])
@role_required(ROLE_CUSTOMS)
def detail(application_id):
    """One application, read-only, with everything an officer weighs, and the decision buttons."""
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
        if refusal is None and to_status == rules.APPROVED:
            refusal = capacity_refusal(application)
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
    timing = submission_timing(application)
    return render_template(
        "review/detail.html", application=application, choices=choices, error=error,
        reason=request.form.get("reason", ""), timing=timing, timing_refused=isinstance(timing, rules.Refusal),
        numbers=number_checks(application),
        feedback_due=rules.feedback_due(application.start) if application.approved_at and application.start else None,
        statement_due=rules.statement_due(application.cancelled_at) if application.approved_at
        and application.cancelled_at else None,
    ), (400 if error else 200)


@bp.route("/<int:application_id>/statement-read", methods=["POST"])
@role_required(ROLE_CUSTOMS)
def statement_read(application_id):
    """已阅: the statement no longer waits in the queue."""
    application = load_for_review(application_id)
    if application.statement_at is None:
        abort(404)
    if application.statement_read_at is None:
        application.statement_read_at = clock.now()
        application.record(current_user, rules.system_note("statement_read"))
        db.session.commit()
    flash(gettext("已将 %(number)s 的情况说明标记为已阅。", number=application.pre_entry_number), "success")
    return redirect(url_for("review.detail", application_id=application.id), code=303)


@bp.route("/<int:application_id>/files/<int:attachment_id>")
@role_required(ROLE_CUSTOMS)
def download(application_id, attachment_id):
    """An attachment of an application at the officer's ports, as a download."""
    return send_attachment(load_for_review(application_id), attachment_id)


@bp.route("/<int:application_id>/files/<int:attachment_id>/view")
@role_required(ROLE_CUSTOMS)
def view_file(application_id, attachment_id):
    """The same PDF opened in the browser (Content-Disposition: inline)."""
    response = send_attachment(load_for_review(application_id), attachment_id)
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace(
        "attachment", "inline", 1)
    response.headers["Content-Security-Policy"] = INLINE_PDF_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/overdue")
@role_required(ROLE_CUSTOMS)
def overdue():
    """R25: approved appointments whose numbers are due or overdue; approved-then-cancelled with a statement due."""
    now = clock.now()
    feedback, statements = obligations(my_ports(), now)
    return render_template(
        "review/overdue.html", now=now,
        feedback=[(a, rules.feedback_due(a.start)) for a in feedback],
        statements=[(a, rules.statement_due(a.cancelled_at or a.updated_at)) for a in statements],
    )


# Paper applications (公告109).

def paper_form():
    form = PaperApplicationForm()
    form.set_choices(reference_data())
    if request.method == "GET":
        form.paper_received_on.data = clock.today().isoformat()
        form.replace_goods([rules.GoodsRow("", "")] * 3)
    return form


def paper_checks(form, exception_reason):
    """What stops a paper application, after any exception customs records: (refusals, waived, parties, data)."""
    refusals, declarant, consignee, data = [], Enterprise.by_code(form.declarant_code.data), None, None
    if declarant is None:
        refusals.append(rules.Refusal(text=rules.N_("申报单位编码 %(code)s 未在企业名录中找到，请核对纸质申请单。"),
                                      params={"code": (form.declarant_code.data or "")[:18]},
                                      code="paper.unknown_declarant", field="declarant_code"))
    refusals += rules.check_paper_details((form.paper_reference.data or "").strip(), form.received_on(), clock.today())
    if declarant is not None:
        consignee = Enterprise.by_code(form.consignee_code.data)
        form.replace_goods([g for g in form.goods_rows() if g.name or g.hs_code])
        data = form.to_input(declarant.info(), consignee.info() if consignee else None, 0)
        refusals += form.malformed_start() + rules.validate_draft(data)
        if not any(r.field == "start" for r in refusals):
            refusals += rules.check_submission(data, submission_context(data, declarant.id, consignee))
        if not {data.declaration_port, data.entry_port} & set(my_ports()):
            refusals.append(rules.Refusal(text=rules.N_("只能录入申报口岸或进出口岸为本人所在口岸的纸质申请。"),
                                          code="paper.not_my_port", field="declaration_port"))
    refusals, waived = rules.paper_decision(rules.dedupe(refusals), exception_reason)
    return refusals, waived, (declarant, consignee), data


@bp.route("/paper", methods=["GET", "POST"])
@role_required(ROLE_CUSTOMS)
def paper():
    """纸质申请: an officer enters a stamped paper form for an enterprise; R3–R14 and R24 apply, or a recorded exception."""
    form = paper_form()
    if request.method == "GET":
        return render_template("review/paper.html", form=form, errors={})
    exception_reason = (form.exception_reason.data or "").strip()
    refusals, waived, (declarant, consignee), data = paper_checks(form, exception_reason)
    if refusals:
        return render_template("review/paper.html", form=form, errors=errors_by_field(refusals)), 400
    reference, received_on = form.paper_reference.data.strip(), form.received_on()
    note = rules.system_note("paper_entered_exception" if waived else "paper_entered", reference=reference,
                             day=received_on.isoformat(), **({"reason": exception_reason} if waived else {}))
    application = enter_paper_application(declarant, consignee, data, current_user, {
        "reference": reference, "received_on": received_on, "exception_reason": exception_reason if waived else "",
        "waived": [r.code for r in waived], "note": note,
    }, clock.now())
    db.session.commit()
    flash(gettext("纸质申请已录入，预录入编号 %(number)s，状态为“申报”。", number=application.pre_entry_number),
          "success")
    return redirect(url_for("review.detail", application_id=application.id), code=303)


# Statistics, for officers and port administrators.

def statistics_ports():
    """The ports whose statistics the user may read: an officer's own, an administrator's administered."""
    if current_user.role == ROLE_CUSTOMS:
        return sorted(p.code for p in current_user.ports)
    return [p.code for p in administered_ports()]


def statistics_table():
    now = clock.now()
    year = request.args.get("year", now.year, type=int)
    year = year if 2000 <= year <= 2100 else now.year
    months = rules.monthly_statistics(statistics_rows(statistics_ports(), year), now)
    return year, months


@bp.route("/stats")
@role_required(ROLE_CUSTOMS, ROLE_ADMIN, ROLE_SITE_ADMIN)
def stats():
    """Per port and month: counts by status, paper and online, medians to 受理 and 预约成功, cancellations, overdue."""
    year, months = statistics_table()
    peak = max([m.total for m in months] or [1])
    return render_template("review/stats.html", year=year, months=months, statuses=rules.STATISTICS_STATUSES,
                           peak=peak, ports=statistics_ports())


@bp.route("/stats.csv")
@role_required(ROLE_CUSTOMS, ROLE_ADMIN, ROLE_SITE_ADMIN)
def stats_csv():
    """The same table as CSV (UTF-8 with BOM so that Excel opens it)."""
    year, months = statistics_table()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([gettext("口岸"), gettext("月份")] + [gettext(rules.STATUS_LABELS[s]) for s in
                                                        rules.STATISTICS_STATUSES]
                    + [gettext("合计"), gettext("纸质申请"), gettext("网上申请"), gettext("申报至受理（小时，中位数）"),
                       gettext("申报至预约成功（小时，中位数）"), gettext("预约成功后取消"), gettext("逾期未反馈")])
    for m in months:
        writer.writerow([m.port, m.month] + [m.by_status[s] for s in rules.STATISTICS_STATUSES]
                        + [m.total, m.paper, m.online, m.median_to_accept if m.median_to_accept is not None else "",
                           m.median_to_approve if m.median_to_approve is not None else "",
                           m.cancelled_after_approval, m.overdue])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=yuyue-stats-{year}.csv"})

