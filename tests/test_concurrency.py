"""Many users at once (issue 9 items 1 and 5): numbering, lost updates, R10 under races, "busy" on SQLite and PostgreSQL."""
import io
import re
import shutil
import sqlite3
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import database
from bench.load import run_sessions, stored_submissions, summary
from extensions import db
from models import Application, Attachment, Counter, GoodsItem
from tests.conftest import Auth, make_app, serve
from tests.test_apply import form_data, small_pdf, stored

SESSIONS = 20
STALE = "已在其他窗口或由其他操作员修改并保存"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The seeded site on SQLite, then on PostgreSQL."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


@pytest.fixture()
def served(any_app):
    """(base URL, app): the site served by a threaded server, as in production several requests at a time."""
    for url in serve(any_app):
        yield url, any_app


def logged_in(app, username="demo-general"):
    client = app.test_client()
    Auth(client).login(username)
    return client


def test_concurrent_sessions_each_create_and_submit_with_unique_numbers(served):
    base_url, app = served
    flows = run_sessions(base_url, SESSIONS)
    statuses = [status for flow in flows for _, status in flow.statuses]
    assert [f.error for f in flows if f.error] == []
    assert max(statuses) < 500
    assert summary(flows, stored_submissions(app, flows)) == (0, 0, 0)  # errors, duplicates, lost
    numbers = [f.number for f in flows]
    assert len(set(numbers)) == SESSIONS
    with app.app_context():
        assert db.session.get(Counter, "pre_entry").value >= max(int(n[7:]) for n in numbers)


def test_R10_two_tabs_each_uploading_three_files_at_once_store_three(any_app):
    tabs = [logged_in(any_app), logged_in(any_app)]
    tabs[0].post("/apply/new", data=form_data(tabs[0]))
    draft = stored(any_app, contact_name="张三")
    path = f"/apply/{draft.id}"
    posts = []
    for i, tab in enumerate(tabs):
        data = form_data(tab, path=path, action="upload", version=str(draft.version))
        data["attachments"] = [(io.BytesIO(small_pdf()), f"tab{i}-{n}.pdf") for n in range(3)]
        posts.append(data)
    together, answers = threading.Barrier(2), [None, None]

    def upload(i):
        together.wait()
        answers[i] = tabs[i].post(path, data=posts[i], content_type="multipart/form-data")

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [303, 400]
    refused = next(a for a in answers if a.status_code == 400).get_data(as_text=True)
    assert "最多可上传5个PDF文件，当前共6个" in refused and STALE in refused
    with any_app.app_context():
        names = db.session.execute(select(Attachment.filename).where(Attachment.application_id == draft.id)).scalars()
        assert len({name.split("-")[0] for name in names}) == 1  # one tab's three files, not a mix
        assert db.session.execute(select(func.count()).where(Attachment.application_id == draft.id)).scalar() == 3


CHANGES = {
    "goods": {"goods-1-name": "糖渍制橄榄", "goods-1-hs_code": "2006002000"},
    "numbers": {"declaration_numbers-0": "800020261000000001"},
    "attachment": {"action": "upload", "attachments": "pdf"},
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_of_only_rows_or_files_advances_the_version_and_a_stale_tab_loses_nothing(general, app, change):
    general.post("/apply/new", data=form_data(general))
    draft = stored(app, contact_name="张三")
    path = f"/apply/{draft.id}"
    data = form_data(general, path=path, version=str(draft.version), **CHANGES[change])
    if change == "attachment":
        data["attachments"] = [(io.BytesIO(small_pdf()), "清单.pdf")]
    assert general.post(path, data=data, content_type="multipart/form-data").status_code == 303
    assert stored(app, id=draft.id).version > draft.version
    # The other tab still holds the first version: its save is refused, the first tab's rows stay.
    stale = general.post(path, data=form_data(general, path=path, version=str(draft.version), **{"goods-0-name": "蜜枣干"}))
    assert stale.status_code in (400, 409) and STALE in stale.get_data(as_text=True)
    with app.app_context():
        kept = db.session.get(Application, draft.id)
        assert [g.name for g in kept.goods] == (["蜜枣", "糖渍制橄榄"] if change == "goods" else ["蜜枣"])
        assert len(kept.attachments) == (1 if change == "attachment" else 0)
        assert [n.number for n in kept.declaration_numbers] == (["800020261000000001"] if change == "numbers" else [])


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(app):
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == database.BUSY_TIMEOUT_MS
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []  # the seed holds together


def test_sqlite_refuses_a_row_pointing_nowhere(app):
    with app.app_context():
        db.session.add(GoodsItem(application_id=999_999, position=1, name="蜜枣", hs_code="2006001000"))
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            db.session.commit()
        db.session.rollback()


def test_counter_next_starts_a_new_sequence_and_counts_on(any_app):
    with any_app.app_context():
        assert [Counter.next("test-sequence") for _ in range(3)] == [1, 2, 3]
        db.session.commit()


class WriteLock:
    """SQLite's write lock taken by another connection, as a long write elsewhere would hold it."""

    def __init__(self, app):
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self):
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self.connection.close()


@pytest.fixture()
def impatient_app(seeded_sqlite, tmp_path):
    """The site with a 50 ms lock wait, so that "busy" comes at once."""
    path = tmp_path / "site.sqlite3"
    shutil.copy(seeded_sqlite, path)
    application = make_app(f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_MS=50)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_reads_logins_and_helper_actions_do_not_wait_for_a_writer(general, app):
    lock = WriteLock(app)
    draft_id = lock.connection.execute("SELECT id FROM application WHERE status = 'draft'").fetchone()[0]
    assert general.get(f"/apply/{draft_id}").status_code == 200
    assert general.get("/query").status_code == 200
    helper = form_data(general, path=f"/apply/{draft_id}", action="hs_search", new_hs_code="2006")
    assert "蜜枣" in general.post(f"/apply/{draft_id}", data=helper).get_data(as_text=True)
    assert logged_in(app, "demo-advanced").get("/").status_code == 200
    lock.release()


def test_busy_database_gets_a_503_that_keeps_the_typed_form_and_saves_nothing(impatient_app, monkeypatch):
    monkeypatch.setattr(database.time, "sleep", lambda seconds: None)
    client = logged_in(impatient_app)
    lock = WriteLock(impatient_app)
    response = client.post("/apply/new", data=form_data(client, contact_name="李四", reason_text="冰鲜三文鱼"))
    lock.release()
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "系统繁忙" in page and "没有保存" in page
    assert 'name="contact_name" value="李四"' in page and 'name="reason_text" value="冰鲜三文鱼"' in page
    assert "重新提交" in page and 'action="/apply/new"' in page
    assert stored(impatient_app, contact_name="李四") is None
    # Sending the kept form again, once the database is free, saves it.
    resend = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    assert client.post("/apply/new", data=resend).status_code == 303
    assert stored(impatient_app, contact_name="李四").reason_text == "冰鲜三文鱼"


def test_busy_database_is_tried_once_more_before_giving_up(impatient_app, monkeypatch):
    client = logged_in(impatient_app)
    lock = WriteLock(impatient_app)
    # The first try finds the lock taken; it is free by the time the request runs again.
    monkeypatch.setattr(database.time, "sleep", lambda seconds: lock.release())
    response = client.post("/apply/new", data=form_data(client, contact_name="王五"))
    assert response.status_code == 303
    assert stored(impatient_app, contact_name="王五").status == "draft"


@pytest.mark.parametrize("sqlstate, busy", [("40001", True), ("40P01", True), ("23505", False)])
def test_postgresql_serialization_failures_and_deadlocks_count_as_busy(sqlstate, busy):
    class Error(Exception):
        pass

    error = Error()
    error.sqlstate = sqlstate
    assert database.is_busy(error) is busy


def test_other_sqlite_errors_are_not_busy():
    assert database.is_busy(sqlite3.OperationalError("database is locked"))
    assert not database.is_busy(sqlite3.OperationalError("no such table: user"))
