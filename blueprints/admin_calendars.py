"""口岸工作日历 administration: a port's year at a glance, one day or a range edited, the State Council's arrangement
(a holiday-cn file) previewed and published at several ports, a year copied to another port, a provisional year.

Every change: the administrator runs the port (web.administered_port), it is audited and bumps the reference data
(models.port_calendars is cached per process), and the applications it puts in working time are listed (R11).
"""
import calendar as month_layout
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

import clock
import holidays_cn
import refdata
import rules
from extensions import db
from web import administered_port, administered_ports, errors_by_field, parse_dates, role_required

bp = Blueprint("admin_calendars", __name__, url_prefix="/admin/calendars")

WEEKDAYS = (rules.N_("一"), rules.N_("二"), rules.N_("三"), rules.N_("四"), rules.N_("五"), rules.N_("六"),
            rules.N_("日"))
WORKING, OFF = "working", "off"
# Years an administrator may open: a calendar is kept for last year, this year and the next few.
YEARS_BACK, YEARS_AHEAD = 1, 3


def _year_or_404(year):
    this_year = clock.today().year
    if not this_year - YEARS_BACK <= year <= this_year + YEARS_AHEAD:
        abort(404)
    return year


@bp.route("")
@role_required(*rules.ADMIN_ROLES)
def index():
    """The administrator's ports with the years each calendar covers, and the form to publish an arrangement."""
    return _index_page()


def _index_page(errors=None, chosen=(), status=200):
    ports = administered_ports()
    years = {port.code: refdata.covered_years(port.code) for port in ports}
    next_year = clock.today().year + 1
    return render_template("admin/calendars/index.html", ports=ports, years=years, next_year=next_year,
                           chosen=set(chosen), errors=errors or {}), status


def _chosen_ports():
    """The ports ticked on an import form, each checked: 404 unknown, 403 another administrator's."""
    return [administered_port(code) for code in dict.fromkeys(request.form.getlist("ports"))]


@bp.route("/import", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def import_preview():
    """An uploaded holiday-cn file, checked, and what it would change at each chosen port (nothing written yet)."""
    ports = _chosen_ports()
    upload = request.files.get("file")
    raw = upload.read() if upload and upload.filename else b""
    refusals = [] if raw else [rules.Refusal(text=rules.N_("请选择国务院节假日安排文件（holiday-cn 格式的 JSON，例如 2027.json）。"),
                                             code="calendar.no_file", field="file")]
    arrangement = holidays_cn.parse(raw) if raw else None
    if isinstance(arrangement, list):
        refusals = arrangement
    if not ports:
        refusals.append(rules.Refusal(text=rules.N_("请至少勾选一个口岸。"), code="calendar.no_port", field="ports"))
    if refusals:
        return _index_page(errors_by_field(refusals), [p.code for p in ports], 400)
    return _preview_page(arrangement, raw.decode("utf-8-sig"), ports, upload.filename)


def _preview_page(arrangement, document, ports, filename, status=200):
    plans = [(port, refdata.plan_import(port.code, arrangement)) for port in ports]
    return render_template("admin/calendars/preview.html", arrangement=arrangement, document=document, plans=plans,
                           filename=filename, describe=refdata.describe_day), status


@bp.route("/import/apply", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def import_apply():
    """Publish the previewed arrangement at the chosen ports; each year is official (not 暂定) afterwards."""
    ports = _chosen_ports()
    document = request.form.get("document", "")
    filename = request.form.get("filename", "")[:100]
    arrangement = holidays_cn.parse(document)
    if isinstance(arrangement, list):
        return _index_page(errors_by_field(arrangement), [p.code for p in ports], 400)
    if not ports:
        flash(gettext("请至少勾选一个口岸。"), "error")
        return _preview_page(arrangement, document, administered_ports(), filename, 400)
    for port in ports:
        refdata.apply_import(refdata.plan_import(port.code, arrangement), current_user, filename)
    db.session.commit()
    flash(gettext("已按国务院节假日安排发布 %(year)s 年工作日历：%(ports)s。", year=arrangement.year,
                  ports="、".join(p.code for p in ports)), "success")
    _flash_listed(ports, date(arrangement.year - 1, 12, 1), date(arrangement.year, 12, 31))
    return redirect(url_for(".year", port_code=ports[0].code, year=arrangement.year), 303)


def _flash_listed(ports, first, last):
    count = sum(len(refdata.applications_in_working_time(p.code, first, last)) for p in ports)
    if count:
        flash(ngettext("有 %(num)d 份已提交的申请的预约通关时间现在落在工作时间内，见年历下方的列表，请与企业联系。",
                       "有 %(num)d 份已提交的申请的预约通关时间现在落在工作时间内，见年历下方的列表，请与企业联系。",
                       count), "error")


@bp.route("/<port_code>")
@role_required(*rules.ADMIN_ROLES)
def port(port_code):
    """A port's calendar opens at this year."""
    administered_port(port_code)
    return redirect(url_for(".year", port_code=port_code, year=clock.today().year))


@bp.route("/<port_code>/<int:year>")
@role_required(*rules.ADMIN_ROLES)
def year(port_code, year):
    """A port's year: twelve month grids, the 暂定 banner, and the forms that change it."""
    return _year_page(administered_port(port_code), _year_or_404(year))


def _year_page(port, year, errors=None, values=None, status=200, copy_target=""):
    years = refdata.covered_years(port.code)
    days = refdata.calendar_days(port.code, year)
    usual = refdata.usual_hours(port.code)
    months = []
    for month in range(1, 13):
        weeks = month_layout.Calendar().monthdatescalendar(year, month)
        months.append((month, [[days.get(d) if d.month == month else None for d in week] for week in weeks]))
    listed = refdata.applications_in_working_time(port.code, date(year, 1, 1), date(year, 12, 31)) if days else []
    targets = [p for p in administered_ports() if p.code != port.code]
    return render_template(
        "admin/calendars/year.html", port=port, year=year, years=years, covered=year in years,
        provisional=years.get(year, False), months=months, usual=usual, weekdays=WEEKDAYS, listed=listed,
        targets=targets, copy_target=copy_target, errors=errors or {}, values=values or {"first": "", "last": "", "kind": WORKING,
                                                                  "opens": f"{usual[0]:%H:%M}",
                                                                  "closes": f"{usual[1]:%H:%M}", "note": ""},
        working_days=sum(1 for d in days.values() if d.working),
        this_year=clock.today().year, years_back=YEARS_BACK, years_ahead=YEARS_AHEAD,
    ), status


def _day_from_form(day, form):
    """The day an edit form describes, or the refusals naming the boxes at fault (values kept by the caller)."""
    note = form.get("note", "").strip()
    refusals = rules.check_calendar_note(note)
    if form.get("kind") == OFF:
        return rules.CalendarDay(day, None, None, note), refusals
    if form.get("kind") != WORKING:
        return None, refusals + [rules.Refusal(text=rules.N_("请选择工作日或休息日。"), code="calendar.kind",
                                               field="kind")]
    opens, closes, hour_refusals = rules.parse_day_hours(form.get("opens", ""), form.get("closes", ""))
    return rules.CalendarDay(day, opens, closes, note), refusals + hour_refusals


@bp.route("/<port_code>/day/<day>", methods=["GET", "POST"])
@role_required(*rules.ADMIN_ROLES)
def day(port_code, day):
    """Edit one day: working (上班时间, 下班时间) or off, and a note."""
    port = administered_port(port_code)
    try:
        day = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if day.year not in refdata.covered_years(port.code):
        abort(404)
    current = refdata.calendar_days(port.code, day.year, day, day)[day]
    usual = refdata.usual_hours(port.code)
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in ("kind", "opens", "closes", "note")}
        edited, refusals = _day_from_form(day, request.form)
        if refusals:
            return _day_page(port, current, values, errors_by_field(refusals), 400)
        changed = refdata.change_days(port.code, [edited], current_user, "calendar.day")
        db.session.commit()
        flash(gettext("已保存 %(day)s。", day=day.isoformat()) if changed else gettext("%(day)s 没有变化。", day=day.isoformat()),
              "success")
        _flash_listed([port], day, day)
        return redirect(url_for(".year", port_code=port.code, year=day.year, _anchor=f"m{day.month}"), 303)
    opens, closes = (current.opens, current.closes) if current.working else usual
    values = {"kind": WORKING if current.working else OFF, "opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}",
              "note": current.note}
    return _day_page(port, current, values, {})


def _day_page(port, current, values, errors, status=200):
    return render_template("admin/calendars/day.html", port=port, current=current, values=values, errors=errors,
                           weekday=WEEKDAYS[current.day.weekday()]), status


@bp.route("/<port_code>/range", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def change_range(port_code):
    """Make every day from first to last working (with these hours) or off; a note, if given, goes on each."""
    port = administered_port(port_code)
    values = {key: request.form.get(key, "").strip() for key in ("first", "last", "kind", "opens", "closes", "note")}
    dates, refusals = parse_dates(values, ("first", "last"))
    first, last = dates["first"], dates["last"]
    year = _year_or_404(request.form.get("year", type=int) or (first or clock.today()).year)
    if not refusals:
        refusals = rules.check_calendar_range(first, last, refdata.covered_years(port.code))
    template, more = _day_from_form(first or date(year, 1, 1), request.form)
    refusals += more
    if refusals:
        return _year_page(port, year, errors_by_field(refusals), values, 400)
    current = {}
    for y in range(first.year, last.year + 1):
        current.update(refdata.calendar_days(port.code, y, max(first, date(y, 1, 1)), min(last, date(y, 12, 31))))
    # A blank note keeps each day's own note (a holiday's name stays on it).
    edited = [rules.CalendarDay(d, template.opens, template.closes, template.note or current[d].note)
              for d in sorted(current)]
    changed = refdata.change_days(port.code, edited, current_user, "calendar.range")
    db.session.commit()
    flash(ngettext("已修改 %(num)d 天。", "已修改 %(num)d 天。", len(changed)), "success")
    _flash_listed([port], first, last)
    return redirect(url_for(".year", port_code=port.code, year=first.year), 303)


@bp.route("/<port_code>/<int:year>/copy", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def copy(port_code, year):
    """Make another of the administrator's ports use this port's calendar for the year."""
    port = administered_port(port_code)
    _year_or_404(year)
    target_code = request.form.get("target", "")
    if year not in refdata.covered_years(port.code):
        refusal = rules.Refusal(text=rules.N_("口岸 %(port)s 没有 %(year)s 年的工作日历，无从复制。"),
                                params={"port": port.code, "year": year}, code="calendar.copy_missing", field="target")
        return _year_page(port, year, errors_by_field([refusal]), status=400, copy_target=target_code)
    if target_code == port.code or not target_code:
        refusal = rules.Refusal(text=rules.N_("请选择要复制到的另一个口岸。"), code="calendar.copy_target", field="target")
        return _year_page(port, year, errors_by_field([refusal]), status=400, copy_target=target_code)
    target = administered_port(target_code)
    refdata.copy_year(port.code, target.code, year, current_user)
    db.session.commit()
    flash(gettext("已将口岸 %(source)s 的 %(year)s 年工作日历复制到口岸 %(target)s。", source=port.code, year=year,
                  target=target.code), "success")
    _flash_listed([target], date(year, 1, 1), date(year, 12, 31))
    return redirect(url_for(".year", port_code=target.code, year=year), 303)


@bp.route("/<port_code>/<int:year>/generate", methods=["POST"])
@role_required(*rules.ADMIN_ROLES)
def generate(port_code, year):
    """Build a year the port has no calendar for (or only a provisional one): from the holiday table if it knows
    the year, else provisional (Mon–Fri minus the statutory holidays, 暂定)."""
    port = administered_port(port_code)
    _year_or_404(year)
    years = refdata.covered_years(port.code)
    if year in years and not years[year]:
        refusal = rules.Refusal(text=rules.N_("%(year)s 年的工作日历已按国务院安排公布，不能改回暂定日历；请逐日修改或重新导入安排文件。"),
                                params={"year": year}, code="calendar.official", field=None)
        return _year_page(port, year, errors_by_field([refusal]), status=400)
    try:
        refdata.generate_calendar(port.code, year, provisional=False, user=current_user, audited=True)
        flash(gettext("已按节假日表生成 %(year)s 年工作日历。", year=year), "success")
    except rules.UnknownCalendarYear:
        refdata.generate_calendar(port.code, year, provisional=True, user=current_user, audited=True)
        flash(gettext("已生成 %(year)s 年暂定工作日历（周一至周五，扣除法定节假日）。", year=year), "success")
    db.session.commit()
    _flash_listed([port], date(year, 1, 1), date(year, 12, 31))
    return redirect(url_for(".year", port_code=port.code, year=year), 303)

