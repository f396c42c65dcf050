"""Command-line tools: reference data, working calendars, the HS catalogue, the demo, translations."""
import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import delete, select

import rules
from extensions import db
from models import CalendarYear, HSCode, Port, Timetable, TransportMode, WorkingDay

DATA_DIR = Path(__file__).resolve().parent / "data"

calendar_cli = AppGroup("calendar", help="Port working calendars (口岸工作日历).")
hs_cli = AppGroup("hs", help="The HS catalogue (商品归类表).")
refdata_cli = AppGroup("refdata", help="Reference data shipped in data/.")
translate_cli = AppGroup("translate", help="Translations (pybabel around babel.cfg).")


def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def load_ports(path=DATA_DIR / "ports.csv"):
    """Insert or update the ports of a CSV file (code,name,verified)."""
    for row in _read_csv(path):
        port = db.session.get(Port, row["code"]) or Port(code=row["code"])
        port.name, port.name_verified = row["name"], row["verified"] == "yes"
        db.session.add(port)


def load_transport_modes(path=DATA_DIR / "transport_modes.csv"):
    """Insert or update the transport-mode table (code,name,selectable)."""
    for row in _read_csv(path):
        mode = db.session.get(TransportMode, row["code"]) or TransportMode(code=row["code"])
        mode.name, mode.selectable = row["name"], row["selectable"] == "yes"
        db.session.add(mode)


def import_hs(path):
    """Insert or update HS catalogue lines from a CSV (code,name,note); return (loaded, rejected rows)."""
    loaded, rejected = 0, []
    existing = {line.code: line for line in db.session.execute(select(HSCode)).scalars()}
    for number, row in enumerate(_read_csv(path), start=2):
        code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        if not rules.is_hs_code(code) or not name:
            rejected.append(number)
            continue
        line = existing.get(code)
        if line is None:
            line = existing[code] = HSCode(code=code)
            db.session.add(line)
        line.name, line.note = name, (row.get("note") or "").strip()
        loaded += 1
    return loaded, rejected


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
    return len(days)


@calendar_cli.command("generate")
@click.option("--port", "port_code", required=True, help="4-digit port code, e.g. 0400.")
@click.option("--year", type=int, required=True)
@click.option("--provisional", is_flag=True, help="For a year the holiday table does not know yet: Mon–Fri only, marked provisional.")
def calendar_generate(port_code, year, provisional):
    """Build a port's working calendar for a year: Mon–Fri 09:00–16:30, holidays off, 调休 weekends on."""
    if db.session.get(Port, port_code) is None:
        raise click.ClickException(f"Unknown port {port_code}: load the ports first (flask refdata load).")
    try:
        count = generate_calendar(port_code, year, provisional)
    except rules.UnknownCalendarYear:
        raise click.ClickException(
            f"The holiday table (chinesecalendar) does not cover {year}, so its holidays and adjusted working "
            f"days are unknown. Run again with --provisional for a Monday–Friday calendar marked provisional, "
            f"and regenerate it once the State Council publishes {year}'s holidays."
        )
    db.session.commit()
    click.echo(f"{port_code} {year}: {count} working days{' (provisional)' if provisional else ''}.")


@hs_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def hs_import(path):
    """Load a port's HS catalogue from a CSV file with the columns code,name,note."""
    loaded, rejected = import_hs(path)
    db.session.commit()
    click.echo(f"{loaded} HS codes loaded.")
    if rejected:
        click.echo(f"Skipped {len(rejected)} rows without a 10-digit code and a name: lines {rejected[:20]}", err=True)


@refdata_cli.command("load")
def refdata_load():
    """Load the reference data files in data/."""
    load_reference_data()
    db.session.commit()
    click.echo("Reference data loaded.")


@click.command("demo")
@with_appcontext
@click.option("--reset", is_flag=True, help="Wipe all data and bring the demo back to its starting state.")
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no ports yet (used by make run).")
def demo_command(reset, if_empty):
    """Create the demo site: ports with calendars, enterprises of every grade, demo users and applications."""
    import demo

    if if_empty and db.session.execute(select(Port).limit(1)).first() is not None:
        click.echo("Database already has data; demo not reseeded (use flask demo --reset).")
        return
    if reset:
        demo.wipe()
    demo.seed()
    db.session.commit()
    click.echo("Demo data ready. Accounts: " + ", ".join(demo.DEMO_USERS) + f" (password {demo.DEMO_PASSWORD}).")


def _pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)


def _extract(root):
    """Write messages.pot from the code and templates (N_ marks rules.py's messages)."""
    _pybabel(
        "extract", "-F", str(root / "babel.cfg"), "-k", "_l", "-k", "N_", "--no-location",
        "--ignore-dirs", ".venv .git instance tests bench node_modules", "-o", str(root / "messages.pot"), str(root),
    )


@translate_cli.command("update")
def translate_update():
    """Extract the messages and merge them into every language's catalogue."""
    root = Path(current_app.root_path)
    _extract(root)
    _pybabel("update", "-i", str(root / "messages.pot"), "-d", str(root / "translations"), "--no-fuzzy-matching")
    (root / "messages.pot").unlink()


@translate_cli.command("compile")
def translate_compile():
    """Compile the catalogues so the site can use them."""
    _pybabel("compile", "-d", str(Path(current_app.root_path) / "translations"))


@translate_cli.command("init")
@click.argument("lang")
def translate_init(lang):
    """Start the catalogue of a new language."""
    root = Path(current_app.root_path)
    _extract(root)
    _pybabel("init", "-i", str(root / "messages.pot"), "-d", str(root / "translations"), "-l", lang)
    (root / "messages.pot").unlink()


def register(app):
    """Add the command groups to ``flask``."""
    for command in (calendar_cli, hs_cli, refdata_cli, translate_cli, demo_command):
        app.cli.add_command(command)
