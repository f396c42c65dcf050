"""Command-line tools: reference data, working calendars, the HS catalogue, users, the demo, translations."""
import os
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

import demo
import holidays_cn
import rules
from extensions import db
from models import Enterprise, Port, User, audit
from refdata import apply_import, describe_day, generate_calendar, import_hs, load_reference_data, plan_import

calendar_cli = AppGroup("calendar", help="Port working calendars (口岸工作日历).")
hs_cli = AppGroup("hs", help="The HS catalogue (商品归类表).")
refdata_cli = AppGroup("refdata", help="Reference data shipped in data/.")
translate_cli = AppGroup("translate", help="Translations (pybabel around babel.cfg).")
user_cli = AppGroup("user", help="Users, e.g. the first site administrator of a new database.")
PASSWORD_VARIABLE = "YUYUE_ADMIN_PASSWORD"


@calendar_cli.command("generate")
@click.option("--port", "port_code", required=True, help="4-digit port code, e.g. 0400.")
@click.option("--year", type=int, required=True)
@click.option("--provisional", is_flag=True,
              help="For a year the holiday table does not know yet: Mon–Fri minus the statutory holidays, "
                   "no adjusted working weekends, marked provisional (暂定).")
def calendar_generate(port_code, year, provisional):
    """Build a port's working calendar for a year: Mon–Fri 09:00–16:30, holidays off, 调休 weekends on."""
    if db.session.get(Port, port_code) is None:
        raise click.ClickException(f"Unknown port {port_code}: load the ports first (flask refdata load).")
    try:
        count = generate_calendar(port_code, year, provisional, audited=True)
    except rules.UnknownCalendarYear:
        raise click.ClickException(
            f"The holiday table (chinesecalendar) does not cover {year}, so its holidays and adjusted working "
            f"days are unknown. Run again with --provisional for a Monday–Friday calendar marked provisional, "
            f"and regenerate it once the State Council publishes {year}'s holidays."
        )
    db.session.commit()
    click.echo(f"{port_code} {year}: {count} working days{' (provisional)' if provisional else ''}.")


@calendar_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--port", "port_codes", required=True, multiple=True, help="4-digit port code; repeat for several ports.")
def calendar_import(path, port_codes):
    """Publish a year from the State Council's arrangement in holiday-cn format (e.g. 2027.json) at these ports."""
    arrangement = holidays_cn.parse(Path(path).read_bytes())
    if isinstance(arrangement, list):
        raise click.ClickException(f"{path} was not imported:\n" + "\n".join(r.render() for r in arrangement))
    unknown = [code for code in port_codes if db.session.get(Port, code) is None]
    if unknown:
        raise click.ClickException(f"Unknown port {', '.join(unknown)}: load the ports first (flask refdata load).")
    for code in dict.fromkeys(port_codes):
        plan = plan_import(code, arrangement)
        apply_import(plan, source=Path(path).name)
        state = "new year" if plan.new_year else f"{len(plan.changes)} days changed"
        click.echo(f"{code} {plan.year}: {plan.working_days} working days ({state}).")
        for _, after in plan.december_changes:
            click.echo(f"  {describe_day(after)}")
        if plan.december_skipped:
            click.echo(f"  {code} has no {plan.year - 1} calendar: skipped "
                       + ", ".join(d.isoformat() for d in plan.december_skipped), err=True)
    db.session.commit()


@hs_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def hs_import(path):
    """Load a port's HS catalogue from a CSV file with the columns code,name,note."""
    loaded, rejected = import_hs(path)
    db.session.commit()
    click.echo(f"{loaded} HS codes loaded.")
    if rejected:
        click.echo(f"Skipped {len(rejected)} rows without a 10-digit code and a name: lines {rejected[:20]}", err=True)


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([rules.ROLE_SITE_ADMIN, rules.ROLE_ADMIN, rules.ROLE_CUSTOMS, rules.ROLE_ENTERPRISE]),
              required=True)
@click.option("--port", "port_codes", multiple=True, help="A port the officer or port administrator works for (repeatable).")
@click.option("--enterprise", "enterprise_code", default="", help="The operator's enterprise: customs code or USCC.")
@click.option("--name", "display_name", default="", help="The name shown for the user.")
def user_create(username, role, port_codes, enterprise_code, display_name):
    """Create a user; the password comes from $YUYUE_ADMIN_PASSWORD, else it is asked for (twice)."""
    import registry

    password = os.environ.get(PASSWORD_VARIABLE) or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    enterprise = Enterprise.by_code(enterprise_code) if role == rules.ROLE_ENTERPRISE else None
    ports = [db.session.get(Port, code) for code in port_codes]
    if None in ports:
        raise click.ClickException(f"Unknown port among {', '.join(port_codes)}: load the ports first (flask refdata load).")
    refusals = registry.check_new_user(username, role, password, enterprise is not None,
                                       [p.code for p in ports], User.by_username(username) is not None)
    if refusals:
        raise click.ClickException(" ".join(r.render() for r in refusals))
    user = User(username=username, display_name=display_name or username, role=role, enterprise=enterprise,
                ports=ports if role in (rules.ROLE_CUSTOMS, rules.ROLE_ADMIN) else [])
    user.set_password(password)
    db.session.add(user)
    audit(None, "user.create", "user", username, None, {"username": username, "role": role, "via": "flask user create"})
    db.session.commit()
    click.echo(f"User {username} ({role}) created.")


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
    if if_empty and db.session.execute(select(Port).limit(1)).first() is not None:
        click.echo("Database already has data; demo not reseeded (use flask demo --reset).")
        return
    if reset:
        demo.wipe()
    demo.seed()
    db.session.commit()
    click.echo("Demo data ready. Accounts: " + ", ".join(demo.DEMO_ACCOUNTS) + f" (password {demo.DEMO_PASSWORD}).")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds to wait when nothing is due.")
def worker_command(once, poll):
    """Deliver the outbox (webhooks, e-mails) until stopped; several workers may run against PostgreSQL."""
    import outbox

    if once:
        while outbox.run_once():
            pass
        return
    click.echo("Outbox worker running (Ctrl+C to stop).")
    outbox.run(poll_seconds=poll)


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
    for command in (calendar_cli, hs_cli, refdata_cli, translate_cli, user_cli, demo_command, worker_command):
        app.cli.add_command(command)
