"""预约通关查询: an enterprise's applications as declarant (A) or consignee (B), batch delete of drafts, CSV export."""
import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

import clock
import rules
from extensions import db
from forms import column_length
from models import ROLE_ENTERPRISE, Application, application_search, deletable_drafts
from web import MAX_ROW_ID, errors_by_field, parse_dates, render_page, role_required, say

bp = Blueprint("query", __name__, url_prefix="/query")

PAGE_SIZE = 20
FILTER_NAMES = ("category", "consignee_code", "status", "applied_from", "applied_to", "appointment_from", "appointment_to", "pre_entry_number")
# The boxes typed into, each as long as the column it is compared with.
TYPED_FILTERS = (
    ("consignee_code", rules.N_("收发货人"), Application.consignee_code),
    ("pre_entry_number", rules.N_("预录入编号"), Application.pre_entry_number),
)
# The statuses a user can filter by, in the order the lifecycle runs.
STATUS_CHOICES = (
    rules.DRAFT, rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED, rules.CLEARED,
    rules.CLEARED_NO_FEEDBACK, rules.RETURNED, rules.CANCELLED,
)


def read_filters(args):
    """The query form's values as typed, with 申请时间 defaulting to today."""
    values = {name: (args.get(name) or "").strip() for name in FILTER_NAMES}
    if not any(values[name] for name in ("applied_from", "applied_to", "appointment_from", "appointment_to")) and "category" not in args:
        values["applied_from"] = values["applied_to"] = clock.today().isoformat()
    values["category"] = values["category"].upper()
    # A status the list does not offer is no filter at all.
    values["status"] = values["status"] if values["status"] in STATUS_CHOICES else ""
    values["consignee_code"] = values["consignee_code"].upper()
    return values


def checked_search(values):
    """Check the filters (as typed, then R21, R22); return (refusals, select statement or None)."""
    own = current_user.enterprise
    dates, malformed = parse_dates(values, ("applied_from", "applied_to", "appointment_from", "appointment_to"))
    for name, label, column in TYPED_FILTERS:
        malformed += rules.check_typed_text(values[name], name, rules.Message(text=label), column_length(column))
    if malformed:
        return malformed, None
    if values["pre_entry_number"]:
        # A pre-entry number names one application forever: no date range, today's default or one typed, may hide
        # it (nor be refused by R22, since it is not applied). The page says so beside the results.
        dates = dict.fromkeys(dates)
    refusals = rules.check_query(
        values["category"], (own.customs_code, own.uscc), values["consignee_code"],
        dates["applied_from"], dates["applied_to"], dates["appointment_from"], dates["appointment_to"],
    )
    if refusals:
        return refusals, None
    return [], application_search(own.id, values["category"], values["status"], values["pre_entry_number"], dates, clock.now())


def page_number(typed, pages):
    """The page asked for, as the nearest of 1..pages (a number past the end, below 1 or none at all)."""
    typed = (typed or "").strip()
    if not (typed.isascii() and typed.isdigit()):
        return 1
    # Compared as text first: a thousand digits need not become a number to be past the end.
    digits = typed.lstrip("0") or "0"
    return pages if len(digits) > len(str(pages)) else max(min(int(digits), pages), 1)


@bp.route("")
@role_required(ROLE_ENTERPRISE)
def index():
    """The query form and, once asked, one page of results (20 a page, with the total)."""
    values = read_filters(request.args)
    asked = "category" in request.args
    refusals, search = checked_search(values) if asked else ([], None)
    results, total = [], 0
    pages = 1
    if search is not None:
        total = db.session.execute(search.count).scalar()
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = page_number(request.args.get("page"), pages)
    if search is not None:
        results = db.session.execute(search.rows.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_page(
        "query/index.html",
        ("query-page",),
        400 if refusals else 200,
        values=values,
        errors=errors_by_field(refusals),
        asked=asked and not refusals,
        results=results,
        deletable={a.id for a in results if rules.can_delete(a.current_status)},
        total=total,
        page=page,
        pages=pages,
        categories=rules.QUERY_CATEGORIES,
        statuses=STATUS_CHOICES,
        own=current_user.enterprise,
        filters={name: values[name] for name in FILTER_NAMES if values[name]},
    )


@bp.route("/export.csv")
@role_required(ROLE_ENTERPRISE)
def export():
    """The current result as CSV (UTF-8 with BOM so that Excel opens it)."""
    values = read_filters(request.args)
    refusals, search = checked_search(values)
    if refusals:
        for refusal in refusals:
            flash(say(refusal), "error")
        return redirect(url_for("query.index", **values), code=303)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([gettext("预录入编号"), gettext("申报人名称"), gettext("收发货人名称"), gettext("申请时间"), gettext("预约时间"), gettext("状态")])
    for application in db.session.execute(search.rows).scalars():
        writer.writerow([
            application.pre_entry_number,
            application.declarant.name,
            application.consignee.name if application.consignee else "",
            application.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            application.start.strftime("%Y-%m-%d %H:%M:%S") if application.start else "",
            gettext(rules.STATUS_LABELS[application.current_status]),
        ])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=yuyue-{clock.today().isoformat()}.csv"},
    )


@bp.route("/delete", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def batch_delete():
    """批量删除: delete the ticked drafts, all or none (R15), then show the same query again."""
    typed = request.form.getlist("ids")
    ids = [int(v) for v in typed if v.isascii() and v.isdigit() and len(v) <= len(str(MAX_ROW_ID))]
    ids = [i for i in ids if i <= MAX_ROW_ID]
    back = {name: request.form.get(name, "") for name in FILTER_NAMES + ("page",) if request.form.get(name)}
    if not typed:
        flash(gettext("请先勾选要删除的暂存申请。"), "error")
        return redirect(url_for("query.index", **back), code=303)
    drafts = deletable_drafts(current_user.enterprise_id, ids) if len(ids) == len(typed) else []
    if not drafts or len(drafts) != len(set(ids)):
        # A crafted or stale request: someone else's, or no longer a draft. Delete nothing.
        flash(gettext("只能删除本企业申报的暂存状态申请，所选申请中有不能删除的，未删除任何申请。请刷新后重新勾选。"), "error")
        return redirect(url_for("query.index", **back), code=303)
    if request.form.get("confirm") != "yes":
        # Not asked yet (JavaScript off, or IE9/10 without htmx, whose hx-confirm asks and sends confirm=yes):
        # a page lists what would be deleted, with the button that deletes it.
        return render_template("query/confirm_delete.html", drafts=drafts, back=back)
    for application in drafts:
        db.session.delete(application)
    db.session.commit()
    flash(ngettext("已删除%(num)d项暂存申请。", "已删除%(num)d项暂存申请。", len(drafts)), "success")
    return redirect(url_for("query.index", **back), code=303)
