"""作业时间表管理 (port administrator of that port): edit a timetable's steps, totals and notice, add a mode/direction.

Saving publishes: the public page (port_hours.port_timetables) reads the same row, so it shows the new version at once.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

import clock
import registry
import rules
from blueprints.port_hours import DIRECTIONS, MODES
from extensions import db
from models import Timetable, audit
from web import administered_port, errors_by_field, role_required

bp = Blueprint("admin_timetables", __name__, url_prefix="/admin/ports/<port_code>/timetables")

# Blank rows under the grid, for steps to add (排序 puts them where they belong).
BLANK_ROWS = 5
COLUMNS = ["主要环节", "作业单位", "主要作业内容", "完成时限", "备注"]


def timetable_facts(t):
    """What the audit log keeps of a timetable."""
    return {"mode": t.mode, "direction": t.direction, "title": t.title, "phases": t.phases, "totals": t.totals,
            "total_caption": t.total_caption, "notes": t.notes, "publishers": t.publishers, "published_on": t.published_on}


def _timetable(port, timetable_id):
    timetable = db.session.get(Timetable, timetable_id)
    if timetable is None or timetable.port_code != port.code:
        abort(404)
    return timetable


@bp.route("")
@role_required(*rules.ADMIN_ROLES)
def index(port_code):
    """A port's timetables, and the form that adds a mode and direction."""
    port = administered_port(port_code)
    tables = db.session.execute(select(Timetable).where(Timetable.port_code == port.code)
                                .order_by(Timetable.direction.desc(), Timetable.id)).scalars().all()
    return _index_page(port, tables, {}, {})


def _index_page(port, tables, values, errors, status=200):
    return render_template("admin/timetables/index.html", port=port, tables=tables, values=values, errors=errors,
                           modes=[(k, gettext(v)) for k, v in MODES.items()],
                           directions=[(k, gettext(v)) for k, v in DIRECTIONS.items()]), status


@bp.route("", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def add(port_code):
    """Add a timetable for a mode and direction the port has not published yet; its steps are edited next."""
    port = administered_port(port_code)
    values = {k: (request.form.get(k) or "").strip() for k in ("mode", "direction", "title")}
    refusals = []
    if values["mode"] not in MODES or values["direction"] not in DIRECTIONS:
        refusals.append(rules.Refusal(text=rules.N_("请选择运输方式和进出口方向。"), code="required", field="mode"))
    elif db.session.execute(select(Timetable.id).where(Timetable.port_code == port.code, Timetable.mode == values["mode"],
                                                       Timetable.direction == values["direction"])).first():
        refusals.append(rules.Refusal(text=rules.N_("该运输方式和方向的时间表已存在，请直接编辑。"), code="taken", field="mode"))
    if not values["title"]:
        refusals.append(rules.Refusal(text=rules.N_("请填写时间表标题。"), code="required", field="title"))
    if refusals:
        tables = db.session.execute(select(Timetable).where(Timetable.port_code == port.code)).scalars().all()
        return _index_page(port, tables, values, errors_by_field(refusals), 400)
    timetable = Timetable(port_code=port.code, mode=values["mode"], direction=values["direction"], title=values["title"],
                          columns=COLUMNS, phases=[], notes=[], totals=[], total_caption="", publishers=port.name,
                          published_on=clock.today())
    db.session.add(timetable)
    db.session.flush()
    audit(current_user, "timetable.create", "timetable", timetable.id, None, timetable_facts(timetable), port.code)
    db.session.commit()
    flash(gettext("已新增时间表，请填写其作业步骤。"), "success")
    return redirect(url_for(".edit", port_code=port.code, timetable_id=timetable.id), code=303)


def _edit_page(port, timetable, values, grid, errors, status=200):
    grid = grid + [{"order": str(len(grid) + i + 1)} for i in range(BLANK_ROWS)]
    return render_template("admin/timetables/edit.html", port=port, timetable=timetable, values=values, grid=grid,
                           errors=errors), status


@bp.route("/<int:timetable_id>", methods=["GET", "POST"])
@role_required(*rules.ADMIN_ROLES)
def edit(port_code, timetable_id):
    """Edit a timetable as a grid of rows; saving publishes it on the public page."""
    port = administered_port(port_code)
    timetable = _timetable(port, timetable_id)
    if request.method == "GET":
        values = {"title": timetable.title, "total_caption": timetable.total_caption, "publishers": timetable.publishers,
                  "published_on": timetable.published_on.isoformat(), "notes": "\n".join(timetable.notes),
                  "totals": "\n".join(f"{t['label']} | {t['value']}" for t in timetable.totals)}
        return _edit_page(port, timetable, values, registry.timetable_grid(timetable.phases), {})
    form = request.form
    values = {k: (form.get(k) or "").strip() for k in ("title", "total_caption", "publishers", "published_on", "notes", "totals")}
    count = min(form.get("row_count", 0, type=int), 500)
    grid = [{k: form.get(f"row-{i}-{k}", "") for k in registry.TIMETABLE_ROW_FIELDS + ("shares",)} for i in range(count)]
    published_on, refusals = registry.check_timetable_header(values["title"], values["published_on"])
    kept, grid_refusals = registry.check_timetable_grid(grid)
    refusals += grid_refusals
    if refusals:
        return _edit_page(port, timetable, values, grid, errors_by_field(refusals), 400)
    before = timetable_facts(timetable)
    timetable.title, timetable.total_caption = values["title"], values["total_caption"]
    timetable.publishers, timetable.published_on = values["publishers"], published_on
    timetable.phases = registry.timetable_phases(kept)
    timetable.notes = [line.strip() for line in values["notes"].splitlines() if line.strip()]
    timetable.totals = registry.timetable_totals(values["totals"])
    audit(current_user, "timetable.update", "timetable", timetable.id, before, timetable_facts(timetable), port.code)
    db.session.commit()
    flash(gettext("时间表已公示。"), "success")
    return redirect(url_for(".edit", port_code=port.code, timetable_id=timetable.id), code=303)
