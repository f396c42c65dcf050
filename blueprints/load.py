"""预约负荷 (public): the coming 14 days' non-working hours of a port, each free, nearly full or full (R24)."""
from flask import Blueprint, render_template, request

import clock
import rules
from models import port_calendars, port_capacities, public_load, reference_data

bp = Blueprint("load", __name__)


@bp.route("/load")
def index():
    """A plain table: days down, hours across; readable without logging in, linked from the appointment time."""
    ports = reference_data().ports
    codes = [code for code, _ in ports]
    port = request.args.get("port", "").strip()
    if port not in codes:
        port = "8000" if "8000" in codes else (codes[0] if codes else "")
    rows, capacity = [], None
    if port:
        today = clock.today()
        calendar = port_calendars([port]).get(port) or rules.PortCalendar(port, {}, frozenset())
        rows = rules.load_view(calendar, public_load(port, today), today)
        capacity = port_capacities([port])[port]
    return render_template("load/index.html", ports=ports, port=port, rows=rows, capacity=capacity,
                           labels={**rules.LOAD_LABELS, rules.LOAD_WORKING: rules.N_("工作时间"),
                                   rules.LOAD_UNPUBLISHED: rules.N_("未公布")})
