"""Fragments and page cost (issue 14): each htmx helper gets its part alone; fast field markup equals WTForms'."""
import re

import pytest
from wtforms.fields.core import Label
from wtforms.meta import DefaultMeta

import rules
from extensions import db
from forms import ApplicationForm, StatementForm
from models import Application, reference_data
from tests.conftest import csrf_token
from tests.test_apply import form_data, stored


def hx(client, target, **data):
    """A helper request as htmx sends it: only the fields its part needs, the CSRF token in a header."""
    token = csrf_token(client, "/apply/new")
    return client.post("/apply/new", data=data,
                       headers={"HX-Request": "true", "HX-Target": target, "X-CSRFToken": token})


def test_hs_picker_htmx_answer_is_the_picker_alone(general):
    response = hx(general, "hs-picker", action="hs_search", new_hs_code="2006")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="hs-picker">')
    assert "2006001000" in body and "<html" not in body and 'name="contact_name"' not in body
    assert "HX-Target" in response.headers["Vary"]


def test_hs_picker_without_js_answers_the_whole_page(general):
    data = form_data(general, action="hs_search", new_hs_code="2006")
    body = general.post("/apply/new", data=data).get_data(as_text=True)
    assert "<html" in body and 'id="hs-picker"' in body and "2006001000" in body
    assert 'value="张三"' in body  # what was typed stays


@pytest.mark.parametrize("target, data, inside, outside", [
    ("consignee-info", {"action": "lookup", "consignee_code": "1201960456"}, "天津华映光电", 'name="contact_name"'),
    ("schedule-info", {"action": "schedule", "consignee_code": "1201960456", "declaration_port": "8000",
                       "entry_port": "8000", "start_date": "2026-11-25", "start_hour": "18"}, "2026-11-25",
     'name="consignee_code"'),
    ("goods-block", {"action": "add_goods", "new_hs_code": "2006001000", "new_goods_name": "蜜枣"}, "蜜枣",
     'name="contact_name"'),
    ("numbers-block", {"action": "add_number", "new_declaration_number": "123456789012345678"},
     "123456789012345678", 'name="contact_name"'),
])
def test_each_helper_redraws_only_its_part(general, target, data, inside, outside):
    body = hx(general, target, **data).get_data(as_text=True)
    assert re.match(rf'<(div|span|td) id="{target}"', body.lstrip())
    assert inside in body and outside not in body and "<html" not in body


def _fields(form):
    for field in form:
        if field.type == "FieldList":
            for entry in field:
                yield from (_fields(entry.form) if entry.type == "FormField" else [entry])
        else:
            yield field


@pytest.mark.parametrize("source", ["blank", "stored", "typed"])
def test_fast_field_markup_is_byte_for_byte_wtforms(app, source):
    """fieldmarkup.FastMarkup only saves time: every field, with every kind of argument, renders as WTForms does."""
    with app.test_request_context(method="POST", data={
        "consignee_code": '<b>"x"&\'', "contact_name": "张三", "declaration_port": "8000", "start_hour": "07",
        "reason_text": "a\r\n<script>", "goods-0-name": "蜜枣 & <枣>", "goods-0-hs_code": "2006001000",
        "declaration_numbers-0": "123"}):
        form = ApplicationForm(formdata=None) if source != "typed" else ApplicationForm()
        form.set_choices(reference_data())
        if source == "stored":
            form.load(db.session.execute(db.select(Application).where(Application.goods.any())).scalars().first())
        meta = DefaultMeta()
        fields = list(_fields(form)) + list(form.direction) + [StatementForm().statement_file]  # radios one by one
        for field in fields:
            for kwargs in ({}, {"readonly": True, "disabled": False, "size": 20},
                           {"hx-post": "/a?b=1&c=2", "data_enter": "x", "aria-label": "时", "autofocus": False},
                           {"type": "hidden"}):
                assert str(field(**kwargs)) == str(meta.render_field(field, kwargs)), (field.name, kwargs)
            assert str(field.label()) == str(Label.__call__(field.label)), field.name


def test_static_files_are_versioned_cached_and_compressed(client):
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("Content-Encoding") == "gzip"
    html = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/[^"]+\?v=[0-9a-f]{12})"', html).group(1)
    browser = {"Accept-Encoding": "gzip, deflate, br"}  # (files are sent as streams: Brotli, not gzip, streams)
    response = client.get(css, headers=browser)
    assert response.status_code == 200 and response.headers.get("Content-Encoding") == "br"
    assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    # A browser checking its compressed copy is told it is current, without the file again.
    again = client.get(css, headers={**browser, "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()


def test_reference_data_is_read_again_after_a_change(app):
    """Ports are cached per process until bump_reference_data(); a renamed port shows on the next request."""
    from models import Port, bump_reference_data

    with app.app_context():
        before = dict(reference_data().ports)["8000"]
        db.session.get(Port, "8000").name = "渝关（改）"
        db.session.commit()
        assert dict(reference_data().ports)["8000"] == before  # not re-read: nothing said it changed
        bump_reference_data()
        db.session.commit()
        assert dict(reference_data().ports)["8000"] == "渝关（改）"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def test_live_announcements_are_cached_yet_any_change_shows_at_once(any_app):
    """Announcement.live reads the table once per reference-data version; writing an announcement advances it."""
    from datetime import timedelta

    import clock
    from models import Announcement

    with any_app.app_context():
        now = clock.now()
        shown = [a.title for a in Announcement.live(now)]
        later = Announcement(title="明日公告", body="", publisher="海关", published_on=now.date(),
                             shown_from=now + timedelta(days=1))
        db.session.add(later)
        db.session.commit()
        assert [a.title for a in Announcement.live(now)] == shown  # scheduled: not yet shown
        assert "明日公告" in [a.title for a in Announcement.live(now + timedelta(days=2))]
        later.withdrawn_at = now
        db.session.commit()
        assert "明日公告" not in [a.title for a in Announcement.live(now + timedelta(days=2))]


def test_submit_gathers_its_facts_and_submits(general, app):
    response = general.post("/apply/new", data=form_data(general, action="submit"))
    assert response.status_code == 303
    assert stored(app).status == rules.SUBMITTED


def test_stored_statuses_go_into_sql_as_literals_and_nothing_else_does():
    """status_is writes rules' status codes into the statement (so SQLite's partial indexes apply); anything else is
    refused before it could reach SQL."""
    from models import status_is

    assert str(status_is(rules.APPROVED)) == "application.status = 'approved'"
    assert "IN ('submitted', 'accepted')" in str(status_is(rules.SUBMITTED, rules.ACCEPTED))
    with pytest.raises(ValueError):
        status_is("approved' OR 1=1 --")


def test_one_process_serves_each_language_its_own_compiled_pages(general):
    """Templates are compiled once per language with their constant strings translated: switching back and forth
    in one process shows each page in the language asked for."""
    def title():
        return re.search(r"<h1[^>]*>(.*?)</h1>", general.get("/").get_data(as_text=True), re.S).group(1).strip()

    assert title() == "首页"
    with general.session_transaction() as session:
        session["lang"] = "en"
    assert title() == "Home"
    with general.session_transaction() as session:
        session["lang"] = "zh_CN"
    assert title() == "首页"


def test_the_pages_lists_follow_changes_made_in_the_same_session(app):
    """The application page reads goods, numbers, files and history in one query and keeps them until a commit;
    what the session itself changes in between is shown as changed."""
    from models import Attachment, User

    with app.app_context():
        application = db.session.execute(db.select(Application).where(Application.status == rules.DRAFT)
                                          .order_by(Application.id)).scalars().first()
        user = db.session.execute(db.select(User).where(User.username == "demo-general")).scalar_one()
        files, history = len(application.file_lines()), len(application.history_lines())
        goods, numbers = application.goods_and_numbers()
        assert goods == [rules.GoodsRow(name=g.name, hs_code=g.hs_code) for g in application.goods]
        assert numbers == [n.number for n in application.declaration_numbers]

        application.attachments.append(Attachment(kind=Attachment.KIND_SUPPLEMENT, filename="补充.pdf", size=4,
                                                  sha256="0" * 64, uploaded_at=application.updated_at, data=b"%PDF"))
        application.record(user, "补充材料")
        assert [f.filename for f in application.file_lines()][-1] == "补充.pdf"
        assert len(application.history_lines()) == history + 1
        db.session.commit()  # expires the application: the next reading is the database's
        assert "补充.pdf" in [f.filename for f in application.file_lines()] and len(application.file_lines()) == files + 1
        assert application.history_lines()[-1].note == "补充材料"
        assert application.history_lines()[-1].username == "demo-general"


def test_precompiled_statements_read_what_the_statements_read(any_app):
    """The home page's agenda and the application page's lists run on the driver's cursor, compiled once per
    database: the rows, their times as times, are the ones SQLAlchemy reads for the statement, on SQLite and
    PostgreSQL; and whenever something listens to the statements run, they run through SQLAlchemy and are seen."""
    from datetime import datetime, timedelta

    from sqlalchemy import event

    import clock
    from models import _AGENDA, _PAGE_LISTS, Enterprise

    def through_sqlalchemy(precompiled, params):
        return [tuple(row) for row in db.session.connection().execute(precompiled.statement, params)]

    with any_app.app_context():
        now = clock.now()
        facts = {"now": now, "until": now + timedelta(days=14), "since": now - timedelta(days=14)}
        assert not db.session.connection().dispatch.before_cursor_execute  # so .rows() takes the driver's way
        read = []
        for enterprise in db.session.execute(db.select(Enterprise.id)).scalars():
            params = {**facts, "enterprise": enterprise}
            rows = _AGENDA.rows(params)
            assert [tuple(row) for row in rows] == through_sqlalchemy(_AGENDA, params)
            read += rows
        assert read and all(isinstance(row.start, datetime) for row in read if row.start is not None)
        lists = []
        for application in db.session.execute(db.select(Application.id)).scalars():
            rows = _PAGE_LISTS.rows({"application": application})
            assert [tuple(row) for row in rows] == through_sqlalchemy(_PAGE_LISTS, {"application": application})
            lists += rows
        assert any(isinstance(row.at, datetime) for row in lists)

        seen = []
        listen = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            rows = _AGENDA.rows(params)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert any("UNION ALL" in statement for statement in seen)
        assert [tuple(row) for row in rows] == through_sqlalchemy(_AGENDA, params)


def test_each_request_s_user_is_the_session_s_own_as_if_the_orm_had_loaded_it(any_app):
    """User.by_session_id reads the user and its enterprise as one row on the driver's cursor and makes them the
    session's objects: nothing to write, relationships load when read, changes are saved, the session's own object
    is returned when it has one, and a wrong token or a disabled user gets no one."""
    from sqlalchemy import inspect

    from models import Enterprise, User

    with any_app.app_context():
        customs = db.session.execute(db.select(User).where(User.username == "demo-customs")).scalar_one()
        session_id, port_codes = customs.get_id(), sorted(p.code for p in customs.ports)
        general = db.session.execute(db.select(User).where(User.username == "demo-general")).scalar_one()
        general_id, enterprise_name = general.get_id(), general.enterprise.name
        db.session.remove()

        user = User.by_session_id(general_id)
        assert inspect(user).persistent and not db.session.dirty and not db.session.new
        assert user.enterprise.name == enterprise_name and isinstance(user.enterprise, Enterprise)
        assert isinstance(user.active, bool) and isinstance(user.enterprise.qualified, bool)
        assert User.by_session_id(general_id) is user
        user_id, user.display_name = user.id, "改过的名字"
        db.session.commit()
        db.session.remove()
        assert db.session.execute(db.select(User.display_name).where(User.id == user_id)).scalar() == "改过的名字"

        officer = User.by_session_id(session_id)
        assert officer.enterprise is None and sorted(p.code for p in officer.ports) == port_codes
        assert User.by_session_id(session_id.split(":")[0] + ":wrong") is None
        officer.active = False  # the token unchanged: refused for being disabled alone
        db.session.commit()
        db.session.remove()
        assert User.by_session_id(session_id) is None


def test_the_application_a_page_shows_is_the_session_s_own_as_if_the_orm_had_loaded_it(any_app):
    """Application.by_id (pages that only show) reads the application and its consignee as one row: every column
    as the ORM reads it, the consignee set, nothing to write, and the session's own object when it has one."""
    from sqlalchemy import inspect

    with any_app.app_context():
        expected = {}
        for application in db.session.execute(db.select(Application)).scalars():
            expected[application.id] = ({column.key: getattr(application, column.key)
                                         for column in Application.__table__.columns},
                                        application.consignee.name if application.consignee else None)
        db.session.remove()
        for application_id, (columns, consignee) in expected.items():
            shown = Application.by_id(application_id)
            assert inspect(shown).persistent and not db.session.dirty and not db.session.new
            assert {key: getattr(shown, key) for key in columns} == columns
            assert "consignee" in shown.__dict__ and (shown.consignee.name if shown.consignee else None) == consignee
            assert Application.by_id(application_id) is shown
        assert Application.by_id(max(expected) + 1) is None


def test_time_filters_write_what_strftime_wrote():
    """Templates write times through web's filters: the same text strftime wrote, nothing for none, and times that
    carry a zone (or dates) still written by strftime."""
    from datetime import date, datetime, time, timedelta, timezone

    from web import clock_time, minutes, seconds

    moment = datetime(2026, 1, 5, 7, 3, 9, 120000)
    assert minutes(moment) == moment.strftime("%Y-%m-%d %H:%M") == "2026-01-05 07:03"
    assert seconds(moment) == moment.strftime("%Y-%m-%d %H:%M:%S") == "2026-01-05 07:03:09"
    assert clock_time(moment) == clock_time(time(7, 3, 9)) == "07:03"
    zoned = moment.replace(tzinfo=timezone(timedelta(hours=8)))
    assert (minutes(zoned), seconds(zoned), clock_time(zoned)) == ("2026-01-05 07:03", "2026-01-05 07:03:09", "07:03")
    assert minutes(date(2026, 1, 5)) == "2026-01-05 00:00"
    assert minutes(None) == seconds(None) == clock_time(None) == ""
