"""口岸管理 › 每小时预约上限 (R24): a port administrator sets how many appointments one hour can take."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

import clock
import rules
from extensions import db
from models import ROLE_ADMIN, ROLE_SITE_ADMIN, PortCapacity, audit, port_capacities
from web import administered_port, administered_ports, errors_by_field, role_required

bp = Blueprint("admin_capacity", __name__, url_prefix="/admin/capacity")


def show(typed=None, errors=None, status=200):
    ports = administered_ports()
    return render_template("admin/capacity/index.html", ports=ports,
                           capacities=port_capacities([p.code for p in ports]), typed=typed or {},
                           errors=errors or {}), status


@bp.route("")
@role_required(ROLE_ADMIN, ROLE_SITE_ADMIN)
def index():
    """Each administered port's places per hour (blank: unlimited)."""
    return show()


@bp.route("/<port_code>", methods=["POST"])
@role_required(ROLE_ADMIN, ROLE_SITE_ADMIN)
def update(port_code):
    """Set one port's places per hour; written with its audit entry in one transaction."""
    port = administered_port(port_code)
    typed = request.form.get("per_hour", "")
    per_hour, refusals = rules.check_capacity_setting(typed)
    if refusals:
        return show({port.code: typed}, {port.code: errors_by_field(refusals).get("per_hour")}, 400)
    row = db.session.get(PortCapacity, port.code, with_for_update=True)
    before = row.per_hour if row else None
    if row is None:
        row = PortCapacity(port_code=port.code)
        db.session.add(row)
    row.per_hour, row.updated_at = per_hour, clock.now()
    audit(current_user, "capacity.update", "port", port.code, {"per_hour": before}, {"per_hour": per_hour}, port.code)
    db.session.commit()
    if per_hour is None:
        flash(gettext("口岸 %(port)s 已设为每小时不限预约数。", port=port.code), "success")
    else:
        flash(gettext("口岸 %(port)s 每小时最多 %(count)s 个预约。", port=port.code, count=per_hour), "success")
    return redirect(url_for("admin_capacity.index"), code=303)
