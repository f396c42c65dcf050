"""口岸管理: the administrators' start page and the 操作日志. Each area of administration is its own blueprint
(`admin_*.py`), all under /admin, all behind `role_required(*rules.ADMIN_ROLES)` and `web.administered_port`."""
from flask import Blueprint, render_template

import rules
from web import administered_ports, role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("")
@role_required(*rules.ADMIN_ROLES)
def index():
    """What this administrator can run: their ports' pages, and for a site administrator the registry too."""
    return render_template("admin/index.html", ports=administered_ports())
