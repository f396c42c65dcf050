"""企业管理 (site administrator): the enterprise registry — search, add, edit, CSV import (all or nothing)."""
import csv
import io
import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, or_, select

import registry
import rules
from extensions import db
from models import ROLE_SITE_ADMIN, AuditEntry, Enterprise, audit
from web import errors_by_field, role_required, say

bp = Blueprint("admin_enterprises", __name__, url_prefix="/admin/enterprises")

PAGE_SIZE = 50
GRADE_ACTION = "enterprise.credit_grade"
MAX_CSV_BYTES = 5 * 1024 * 1024


def enterprise_facts(enterprise):
    """What the audit log keeps of an enterprise."""
    return {name: getattr(enterprise, name) for name in registry.ENTERPRISE_CSV_COLUMNS}


def _grades():
    return [(code, gettext(label)) for code, label in rules.CREDIT_GRADE_LABELS.items()]


def _taken(column, value, own_id):
    """The value if another enterprise holds it in this column, so the refusal can name it."""
    if not value:
        return set()
    found = db.session.execute(select(Enterprise.id).where(column == value)).scalar()
    return {value} if found is not None and found != own_id else set()


def _typed(form):
    values = {name: (form.get(name) or "").strip() for name in registry.ENTERPRISE_CSV_COLUMNS if name != "qualified"}
    values["qualified"] = form.get("qualified") == "y"
    return values


def write_enterprise(enterprise, entry, user):
    """Store a checked entry; a change of credit grade is kept in the audit log as its own entry (who, when, before → after)."""
    before = enterprise_facts(enterprise) if enterprise.id else None
    old_grade = enterprise.credit_grade
    for name in registry.ENTERPRISE_CSV_COLUMNS:
        setattr(enterprise, name, getattr(entry, name))
    db.session.add(enterprise)
    db.session.flush()
    audit(user, "enterprise.update" if before else "enterprise.create", "enterprise", enterprise.id, before,
          enterprise_facts(enterprise))
    if before and old_grade != enterprise.credit_grade:
        audit(user, GRADE_ACTION, "enterprise", enterprise.id, {"credit_grade": old_grade},
              {"credit_grade": enterprise.credit_grade})


@bp.route("")
@role_required(ROLE_SITE_ADMIN)
def index():
    """The registry, searchable by name or any of its codes, 50 a page."""
    q = (request.args.get("q") or "").strip()
    statement = select(Enterprise).order_by(Enterprise.customs_code)
    if q:
        like = f"%{q}%"
        statement = statement.where(or_(Enterprise.name.ilike(like), Enterprise.customs_code.ilike(like),
                                        Enterprise.uscc.ilike(like), Enterprise.inspection_code.ilike(like)))
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar()
    enterprises = db.session.execute(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_template("admin/enterprises/index.html", enterprises=enterprises, q=q, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


def _form(enterprise, values, errors, status=200):
    history = []
    if enterprise.id:
        entries = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == GRADE_ACTION, AuditEntry.target_type == "enterprise",
                                     AuditEntry.target_id == str(enterprise.id)).order_by(AuditEntry.id.desc())
        ).scalars().all()
        history = [(e, json.loads(e.before)["credit_grade"], json.loads(e.after)["credit_grade"]) for e in entries]
    return render_template("admin/enterprises/form.html", enterprise=enterprise, values=values, errors=errors,
                           grades=_grades(), grade_history=history), status


def _save(enterprise):
    values = _typed(request.form)
    entry = registry.EnterpriseEntry.from_values(values)
    refusals = registry.check_enterprise(entry, _taken(Enterprise.customs_code, entry.customs_code, enterprise.id),
                                         _taken(Enterprise.uscc, entry.uscc, enterprise.id))
    if refusals:
        return _form(enterprise, values, errors_by_field(refusals), 400)
    write_enterprise(enterprise, entry, current_user)
    db.session.commit()
    flash(gettext("企业 %(name)s 已保存。", name=enterprise.name), "success")
    return redirect(url_for(".edit", enterprise_id=enterprise.id), code=303)


@bp.route("/new", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def new():
    """Register an enterprise."""
    if request.method == "GET":
        return _form(Enterprise(), {"qualified": True, "credit_grade": rules.GENERAL_CREDIT}, {})
    return _save(Enterprise())


@bp.route("/<int:enterprise_id>", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def edit(enterprise_id):
    """Change an enterprise; its credit grade's history is listed under the form."""
    enterprise = db.session.get(Enterprise, enterprise_id) or abort(404)
    if request.method == "GET":
        return _form(enterprise, enterprise_facts(enterprise), {})
    return _save(enterprise)


def read_csv_upload(file, columns):
    """The rows of an uploaded UTF-8 CSV (header on line 1) as dicts, or ([], refusals) when it cannot be read."""
    if file is None or not file.filename:
        return None, [rules.Refusal(text=rules.N_("请选择要上传的CSV文件。"), code="required", field="file")]
    data = file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return None, [rules.Refusal(text=rules.N_("文件超过%(mb)dM，请分成几个文件上传。"), params={"mb": MAX_CSV_BYTES // 1024 // 1024},
                                    code="too_big", field="file")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [rules.Refusal(text=rules.N_("文件不是UTF-8编码的CSV，请在表格软件中另存为“CSV UTF-8”后再上传。"),
                                    code="encoding", field="file")]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = registry.missing_columns(reader.fieldnames, columns)
    if missing:
        return None, missing
    rows = [{k: (v or "").strip() if isinstance(v, str) else v for k, v in row.items()} for row in reader]
    return rows, []


@bp.route("/import", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def import_csv():
    """Import enterprises from a CSV: every line is checked first; one refused line and nothing is imported."""
    if request.method == "GET":
        return render_template("admin/enterprises/import.html", refusals=[], columns=registry.ENTERPRISE_CSV_COLUMNS)
    rows, refusals = read_csv_upload(request.files.get("file"), registry.ENTERPRISE_CSV_COLUMNS)
    if not refusals:
        existing = {e.customs_code: e for e in db.session.execute(select(Enterprise)).scalars()}
        usccs = {e.uscc: code for code, e in existing.items()}
        entries, refusals = registry.check_enterprise_csv(rows, usccs)
        if not refusals and not entries:
            refusals = [rules.Refusal(text=rules.N_("文件中没有数据行。"), code="empty", field="file")]
    if refusals:
        return render_template("admin/enterprises/import.html", refusals=[say(r) for r in refusals],
                               columns=registry.ENTERPRISE_CSV_COLUMNS), 400
    added = updated = 0
    for entry in entries:
        enterprise = existing.get(entry.customs_code)
        if enterprise is None:
            enterprise, added = Enterprise(), added + 1
        else:
            updated += 1
        write_enterprise(enterprise, entry, current_user)
    db.session.commit()
    flash(gettext("已导入：新增%(added)d家，更新%(updated)d家。", added=added, updated=updated), "success")
    return redirect(url_for(".index"), code=303)
