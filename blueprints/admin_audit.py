"""操作日志: every administrative change, filtered by user, action, port and date; port administrators see their ports'."""
from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

import rules
from extensions import db
from models import ROLE_SITE_ADMIN, AuditEntry, User
from web import administered_ports, errors_by_field, parse_dates, role_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")

PAGE_SIZE = 50
FILTERS = ("user", "action", "port", "date_from", "date_to")


@bp.route("")
@role_required(*rules.ADMIN_ROLES)
def index():
    """The audit log, newest first, 50 a page; a port administrator sees only the entries of their ports."""
    values = {name: (request.args.get(name) or "").strip() for name in FILTERS}
    dates, refusals = parse_dates(values, ("date_from", "date_to"))
    where = []
    ports = [p.code for p in administered_ports()]
    if current_user.role != ROLE_SITE_ADMIN:
        where.append(AuditEntry.port_code.in_(ports))
    if values["port"]:
        where.append(AuditEntry.port_code == values["port"])
    if values["user"]:
        where.append(AuditEntry.user_id.in_(select(User.id).where(User.username == values["user"])))
    if values["action"]:
        where.append(AuditEntry.action.startswith(values["action"], autoescape=True))
    if dates.get("date_from"):
        where.append(AuditEntry.at >= dates["date_from"])
    if dates.get("date_to"):
        where.append(AuditEntry.at < dates["date_to"] + timedelta(days=1))
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(AuditEntry).where(*where)).scalar()
    entries = db.session.execute(
        select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).scalars().all()
    actions = db.session.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars().all()
    return render_template("admin/audit/index.html", entries=entries, values=values, errors=errors_by_field(refusals),
                           total=total, page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           ports=ports, actions=actions), 400 if refusals else 200
