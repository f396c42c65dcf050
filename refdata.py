"""Reference data and working calendars: loaders shared by the `flask` commands and the demo."""
import csv
import json
from datetime import date
from pathlib import Path

from sqlalchemy import delete, insert, select, update

import rules
from extensions import db
from models import CalendarYear, DeclarationRecord, HSCode, Port, Timetable, TransportMode, WorkingDay, bump_reference_data

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


def generate_calendar(port_code, year, provisional=False):
    """(Re)build a port's working days for a year; raises rules.UnknownCalendarYear for an unknown year."""
    days = rules.generate_working_days(year, provisional=provisional)
    db.session.execute(
        delete(WorkingDay).where(
            WorkingDay.port_code == port_code, WorkingDay.day >= date(year, 1, 1), WorkingDay.day <= date(year, 12, 31)
        )
    )
    db.session.add_all(WorkingDay(port_code=port_code, day=d.day, opens=d.opens, closes=d.closes) for d in days)
    covered = db.session.get(CalendarYear, (port_code, year)) or CalendarYear(port_code=port_code, year=year)
    covered.provisional = provisional
    db.session.add(covered)
    bump_reference_data()
    return len(days)
