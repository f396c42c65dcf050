"""Public pages: 口岸工作时间查询 and the ports' published operation timetables (口岸作业时间公示)."""
from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select

import clock
import rules
from extensions import db
from models import CalendarYear, Port, Timetable, WorkingDay, reference_data
from web import errors_by_field, parse_dates, render_page

bp = Blueprint("port_hours", __name__)

MODES = {"air": rules.N_("航空"), "rail": rules.N_("铁路"), "water": rules.N_("水运")}
DIRECTIONS = {"import": rules.N_("进口"), "export": rules.N_("出口")}


@bp.route("/port-hours")
def index():
    """口岸工作时间查询: a port's working days over at most 15 days (R23)."""
    today = clock.today().isoformat()
    values = {
        "port_code": request.args.get("port_code", "").strip(),
        "date_from": request.args.get("date_from", today),
        "date_to": request.args.get("date_to", today),
    }
    dates, refusals = parse_dates(values, ("date_from", "date_to"))
    date_from, date_to = dates["date_from"], dates["date_to"]
    refusals = rules.check_port_filter(values["port_code"]) + (refusals or rules.check_port_hours_range(date_from, date_to))
    rows = []
    if not refusals and "date_from" in request.args:
        query = (
            select(WorkingDay, Port.name, Port.name_verified, CalendarYear.provisional)
            .join(Port, Port.code == WorkingDay.port_code)
            .join(
                CalendarYear,
                (CalendarYear.port_code == WorkingDay.port_code)
                & (CalendarYear.year == func.extract("year", WorkingDay.day)),
                isouter=True,
            )
            .where(WorkingDay.day >= date_from, WorkingDay.day <= date_to)
            .order_by(WorkingDay.port_code, WorkingDay.day)
        )
        if values["port_code"]:
            query = query.where(WorkingDay.port_code == values["port_code"])
        rows = db.session.execute(query).all()
    ports = reference_data().port_records  # cached per process: every visit lists every port
    return render_page(
        "port_hours/index.html",
        ("port-hours-page",),
        400 if refusals else 200,
        values=values,
        errors=errors_by_field(refusals),
        rows=rows,
        any_provisional=any(row.provisional for row in rows),
        searched="date_from" in request.args and not refusals,
        ports=ports,
    )


def timetable_rows(timetable):
    """Lay a timetable's phases out as table rows with the row spans of the published table."""
    rows = []
    for phase in timetable.phases:
        phase_start = len(rows)
        for group in phase["groups"]:
            group_start = len(rows)
            for step in group["steps"]:
                parts = [step] + step.get("rows", [])
                for index, part in enumerate(parts):
                    row = {"units": part.get("units", ""), "content": part.get("content", "")}
                    if index == 0:
                        row["step"] = {"text": f"{step['no']}.{step['name']}", "span": len(parts)}
                    # A merged 完成时限/备注 cell stands on the first row it covers and spans the rows sharing it.
                    for key, shares in (("time_limit", "shares_limit_with"), ("note", "shares_note_with")):
                        if part.get(shares) and not part.get(key):
                            owner = next(r for r in reversed(rows) if key in r)
                            owner[key]["span"] += 1
                        else:
                            row[key] = {"text": part.get(key, ""), "span": 1}
                    rows.append(row)
            rows[group_start]["group"] = {"text": group["name"], "span": len(rows) - group_start}
        rows[phase_start]["phase"] = {"text": phase["name"], "span": len(rows) - phase_start}
    return rows


@bp.route("/timetables")
def timetables():
    """The ports that publish operation timetables, with each port's tables listed by mode and direction."""
    tables = db.session.execute(
        select(Timetable).order_by(Timetable.port_code, Timetable.direction.desc(), Timetable.id)
    ).scalars().all()
    by_port = {}
    for table in tables:
        by_port.setdefault(table.port, []).append(table)
    return render_template("port_hours/timetables.html", by_port=by_port, modes=MODES, directions=DIRECTIONS)


@bp.route("/timetables/<port_code>")
def port_timetables(port_code):
    """A port's published operation timetables, drawn as the published tables (seed 003)."""
    port = (db.session.get(Port, port_code) if rules.is_port_code(port_code) else None) or abort(404)
    tables = db.session.execute(
        select(Timetable).where(Timetable.port_code == port_code).order_by(Timetable.direction.desc(), Timetable.id)
    ).scalars().all()
    return render_template(
        "port_hours/port_timetables.html",
        port=port,
        tables=[(table, timetable_rows(table)) for table in tables],
        modes=MODES,
        directions=DIRECTIONS,
    )
