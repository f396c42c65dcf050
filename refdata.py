"""Reference data and working calendars: loaders and writers shared by the `flask` commands, the admin pages and
the demo."""
import csv
import json
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, or_, select, update

import rules
from extensions import db
from models import (Application, CalendarNote, CalendarYear, DeclarationRecord, HSCode, Port, Timetable,
                    TransportMode, WorkingDay, audit, bump_reference_data, port_calendars, status_is)

DATA_DIR = Path(__file__).resolve().parent / "data"

def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def load_ports(path=DATA_DIR / "ports.csv"):
    """Insert or update the ports of a CSV file (code,name,verified)."""
    for row in _read_csv(path):
        port = db.session.get(Port, row["code"]) or Port(code=row["code"])
        port.name, port.name_verified = row["name"], row["verified"] == "yes"
        port.name_en = row.get("name_en") or port.name_en or ""
        db.session.add(port)


def load_transport_modes(path=DATA_DIR / "transport_modes.csv"):
    """Insert or update the transport-mode table (code,name,selectable)."""
    for row in _read_csv(path):
        mode = db.session.get(TransportMode, row["code"]) or TransportMode(code=row["code"])
        mode.name, mode.selectable = row["name"], row["selectable"] == "yes"
        mode.name_en = row.get("name_en") or mode.name_en or ""
        db.session.add(mode)


def import_hs(path):
    """Insert or update HS catalogue lines from a CSV (code,name,note), skipping bad lines: (loaded, their line numbers)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    lines, refused = check_hs_rows(rows)
    added, updated = write_hs_lines(lines)
    return added + updated, [line for line, _ in refused]


def check_hs_rows(rows):
    """Check HS catalogue rows (line 1 is the header): ([(code, name, note)], [(line number, refusals)])."""
    import registry

    lines, refused = [], []
    for number, row in enumerate(rows, start=2):
        code, name, note = ((row.get(k) or "").strip() for k in registry.HS_COLUMNS)
        problems = registry.check_hs_line(code, name, note)
        if problems:
            refused.append((number, problems))
        else:
            lines.append((code, name, note))
    return lines, refused


def write_hs_lines(lines):
    """Insert new HS lines and update changed ones in bulk (10,000 lines in well under a second): (added, updated)."""
    existing = dict(((code, (name, note)) for code, name, note in db.session.execute(select(HSCode.code, HSCode.name, HSCode.note))))
    latest = {code: (name, note) for code, name, note in lines}
    new = [{"code": c, "name": n, "note": t} for c, (n, t) in latest.items() if c not in existing]
    changed = [{"code": c, "name": n, "note": t} for c, (n, t) in latest.items() if c in existing and existing[c] != (n, t)]
    if new:
        db.session.execute(insert(HSCode), new)
    if changed:
        db.session.execute(update(HSCode), changed)
    return len(new), len(changed)


def write_declaration_records(records):
    """Insert or replace declaration records (R20's facts) in bulk: (added, updated)."""
    existing = set(db.session.execute(select(DeclarationRecord.number)).scalars())
    latest = {r["number"]: r for r in records}
    new = [r for n, r in latest.items() if n not in existing]
    changed = [r for n, r in latest.items() if n in existing]
    if new:
        db.session.execute(insert(DeclarationRecord), new)
    if changed:
        db.session.execute(update(DeclarationRecord), changed)
    return len(new), len(changed)


def load_timetables(path=DATA_DIR / "timetables_chongqing.json"):
    """Insert or replace the operation timetables of a structured file (see data/README.md)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    published_on = date.fromisoformat(document["notice"]["date"])
    for table in document["timetables"]:
        old = db.session.execute(
            select(Timetable).where(
                Timetable.port_code == document["port_code"],
                Timetable.mode == table["mode"],
                Timetable.direction == table["direction"],
            )
        ).scalar_one_or_none()
        timetable = old or Timetable(port_code=document["port_code"], mode=table["mode"], direction=table["direction"])
        timetable.title = table["title"]
        timetable.columns = table["columns"]
        timetable.phases = table["phases"]
        timetable.notes = table.get("notes", [])
        timetable.totals = table.get("totals", [])
        timetable.total_caption = table.get("total_caption", "")
        timetable.publishers = table.get("publishers", "")
        timetable.published_on = published_on
        db.session.add(timetable)


def load_reference_data():
    """Load everything in data/: ports, transport modes, the sample HS catalogue, the Chongqing timetables."""
    load_ports()
    load_transport_modes()
    db.session.flush()
    import_hs(DATA_DIR / "hs_sample.csv")
    load_timetables()
    bump_reference_data()


def generate_calendar(port_code, year, provisional=False, user=None, audited=False):
    """(Re)build a port's working days for a year; raises rules.UnknownCalendarYear for an unknown year.

    A provisional year unknown to the holiday table is Mon–Fri minus the statutory holidays, each named in its note.
    """
    opens, closes = usual_hours(port_code)
    working = {d.day: d for d in rules.generate_working_days(year, provisional=provisional, opens=opens, closes=closes)}
    names = rules.statutory_holidays(year) if provisional else {}
    days = {}
    for day in rules.days_of_year(year):
        hours = working.get(day)
        days[day] = rules.CalendarDay(day, hours and hours.opens, hours and hours.closes, names.get(day, ""))
    before = calendar_days(port_code, year)
    replace_year(port_code, year, days, provisional)
    if audited:  # the demo seed builds calendars too; only an administrator's or a command's change is logged
        audit(user, "calendar.generate", "calendar", f"{port_code}/{year}", _summary(before),
              {"provisional": provisional, "working_days": len(working)}, port_code)
    return len(working)


def covered_years(port_code):
    """The years a port's calendar covers: {year: provisional}."""
    rows = db.session.execute(select(CalendarYear.year, CalendarYear.provisional)
                              .where(CalendarYear.port_code == port_code).order_by(CalendarYear.year)).all()
    return {row.year: row.provisional for row in rows}


def usual_hours(port_code):
    """The port's most common (上班时间, 下班时间), for days an import or a generated year makes working."""
    rows = db.session.execute(select(WorkingDay.opens, WorkingDay.closes).where(WorkingDay.port_code == port_code)).all()
    tally = Tally((row.opens, row.closes) for row in rows)
    return tally.most_common(1)[0][0] if tally else (rules.DEFAULT_OPENS, rules.DEFAULT_CLOSES)


def calendar_days(port_code, year, first=None, last=None):
    """Every day of a covered year (or of first..last within it) as rules.CalendarDay; {} for an uncovered year."""
    if year not in covered_years(port_code):
        return {}
    first, last = first or date(year, 1, 1), last or date(year, 12, 31)
    working = db.session.execute(select(WorkingDay.day, WorkingDay.opens, WorkingDay.closes).where(
        WorkingDay.port_code == port_code, WorkingDay.day >= first, WorkingDay.day <= last)).all()
    notes = {row.day: row.note for row in db.session.execute(select(CalendarNote.day, CalendarNote.note).where(
        CalendarNote.port_code == port_code, CalendarNote.day >= first, CalendarNote.day <= last))}
    hours = {row.day: (row.opens, row.closes) for row in working}
    days, day = {}, first
    while day <= last:
        opens, closes = hours.get(day, (None, None))
        days[day] = rules.CalendarDay(day, opens, closes, notes.get(day, ""))
        day += timedelta(days=1)
    return days


def write_days(port_code, days):
    """Store these days of a port's calendar as given (working with hours, or off), notes included."""
    days = list(days)
    if not days:
        return
    dates = [d.day for d in days]
    db.session.execute(delete(WorkingDay).where(WorkingDay.port_code == port_code, WorkingDay.day.in_(dates)))
    db.session.execute(delete(CalendarNote).where(CalendarNote.port_code == port_code, CalendarNote.day.in_(dates)))
    db.session.add_all(WorkingDay(port_code=port_code, day=d.day, opens=d.opens, closes=d.closes)
                       for d in days if d.working)
    db.session.add_all(CalendarNote(port_code=port_code, day=d.day, note=d.note) for d in days if d.note)
    bump_reference_data()


def replace_year(port_code, year, days, provisional):
    """Make ``days`` (every day of the year) the port's calendar for that year."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    for model in (WorkingDay, CalendarNote):
        db.session.execute(delete(model).where(model.port_code == port_code, model.day >= first, model.day <= last))
    db.session.flush()
    db.session.add_all(WorkingDay(port_code=port_code, day=d.day, opens=d.opens, closes=d.closes)
                       for d in days.values() if d.working)
    db.session.add_all(CalendarNote(port_code=port_code, day=d.day, note=d.note) for d in days.values() if d.note)
    covered = db.session.get(CalendarYear, (port_code, year)) or CalendarYear(port_code=port_code, year=year)
    covered.provisional = provisional
    db.session.add(covered)
    bump_reference_data()


def describe_day(day):
    """One day as the audit log and the previews show it: "2027-01-01 休 元旦" or "2027-01-04 09:00-16:30"."""
    if day is None:
        return ""
    state = f"{day.opens:%H:%M}-{day.closes:%H:%M}" if day.working else "休"
    return " ".join(part for part in (day.day.isoformat(), state, day.note) if part)


def _summary(days, **extra):
    return {"working_days": sum(1 for d in days.values() if d.working), **extra} if days else None


def change_days(port_code, changes, user, action):
    """Write edited days (rules.CalendarDay) of covered years, audited as before → after; returns the changes."""
    if not changes:
        return []
    first, last = min(d.day for d in changes), max(d.day for d in changes)
    before = {}
    for year in range(first.year, last.year + 1):
        before.update(calendar_days(port_code, year, max(first, date(year, 1, 1)), min(last, date(year, 12, 31))))
    changed = rules.calendar_changes(before, {d.day: d for d in changes})
    write_days(port_code, [after for _, after in changed])
    audit(user, action, "calendar", f"{port_code}/{first.isoformat()}..{last.isoformat()}",
          [describe_day(b) for b, _ in changed], [describe_day(a) for _, a in changed], port_code)
    return changed


@dataclass
class ImportPlan:
    """What importing an arrangement would change at one port: the file's year, and the previous December."""

    port_code: str
    year: int
    new_year: bool
    was_provisional: bool
    year_days: dict
    changes: list
    december_changes: list = field(default_factory=list)
    december_skipped: list = field(default_factory=list)

    @property
    def working_days(self):
        return sum(1 for d in self.year_days.values() if d.working)


def plan_import(port_code, arrangement):
    """Preview of importing a holiday-cn arrangement at a port, computed without writing anything."""
    year, years = arrangement.year, covered_years(port_code)
    before = calendar_days(port_code, year)
    kept = {d.day: (d.opens, d.closes) for d in before.values() if d.working}
    after = rules.arranged_year(year, arrangement.in_year(year), usual_hours(port_code), kept)
    plan = ImportPlan(port_code, year, year not in years, years.get(year, False), after,
                      rules.calendar_changes(before, after) if before else [])
    december = arrangement.in_year(year - 1)
    if december and (year - 1) in years:
        current = calendar_days(port_code, year - 1, min(december), max(december))
        opens, closes = usual_hours(port_code)
        wanted = {day: rules.CalendarDay(day, None if e.off else (current[day].opens or opens),
                                         None if e.off else (current[day].closes or closes), e.name)
                  for day, e in december.items()}
        plan.december_changes = rules.calendar_changes(current, wanted)
    elif december:
        plan.december_skipped = sorted(december)
    return plan


def apply_import(plan, user=None, source=""):
    """Publish an arrangement at a port as planned: the year is official (not provisional) afterwards."""
    replace_year(plan.port_code, plan.year, plan.year_days, provisional=False)
    write_days(plan.port_code, [after for _, after in plan.december_changes])
    audit(user, "calendar.import", "calendar", f"{plan.port_code}/{plan.year}",
          {"provisional": plan.was_provisional, "covered": not plan.new_year,
           "days": [describe_day(b) for b, _ in plan.changes + plan.december_changes]},
          {"provisional": False, "source": source, "working_days": plan.working_days,
           "days": [describe_day(a) for _, a in plan.changes + plan.december_changes]}, plan.port_code)


def copy_year(source_code, target_code, year, user=None):
    """Make the target port's calendar for a year a copy of the source port's (hours, days off, notes, 暂定)."""
    years = covered_years(source_code)
    days = calendar_days(source_code, year)
    before = calendar_days(target_code, year)
    replace_year(target_code, year, days, years[year])
    audit(user, "calendar.copy", "calendar", f"{target_code}/{year}", _summary(before),
          _summary(days, source=source_code, provisional=years[year]), target_code)
    return len(rules.calendar_changes(before, days)) if before else len(days)


LISTED_STATUSES = (rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED)


def applications_in_working_time(port_code, first, last):
    """Applications already submitted (申报, 已受理, 预约成功) at a port with a window on first..last that the
    current calendars put in working time (R11): listed for the administrator, never changed silently."""
    found = db.session.execute(select(Application).where(
        status_is(*LISTED_STATUSES),
        or_(Application.declaration_port == port_code, Application.entry_port == port_code),
        Application.start >= datetime.combine(first, datetime.min.time()) - rules.WINDOW,
        Application.start < datetime.combine(last + timedelta(days=1), datetime.min.time()),
    ).order_by(Application.start)).scalars().all()
    listed = []
    for application in found:
        calendars = port_calendars([application.declaration_port, application.entry_port]).values()
        conflicts = rules.working_time_conflicts(application.start, application.end or application.start + rules.WINDOW,
                                                 calendars)
        if conflicts:
            listed.append((application, conflicts))
    return listed
