"""The database under many users at once: SQLite set up for concurrent writers, and a retry when the database is busy.

SQLite takes one writer at a time. With pysqlite's default a transaction only begins at its first write, so the
reads a request made before it (a counter, a count of files) were not part of it; and a transaction that reads
first and writes later cannot wait for the write lock: SQLite refuses it at once ("database is locked"). So,
following SQLAlchemy's recipe for SQLite, pysqlite's own BEGIN is turned off and each transaction begins with
``BEGIN IMMEDIATE`` when the request may write (takes the write lock first, waiting up to the busy timeout), or a
plain deferred ``BEGIN`` when it only reads (WAL readers never wait for a writer).

A request may write unless it is a GET/HEAD/OPTIONS, its view is marked ``@reads_only``, or it already committed
(what follows a commit is rendering). The mark is only a hint: a transaction wrongly taken as a read that then
writes is still refused by SQLite rather than lost, and the retry below runs the request again.

"Busy" (SQLite's lock wait timed out, PostgreSQL's serialization failure or deadlock) is answered by running the
whole request once more if nothing was committed yet, else by a 503 page that keeps what was typed.
"""
import random
import sqlite3
import tempfile
import time
from contextlib import contextmanager

from flask import current_app, has_request_context, render_template, request
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.wsgi import ClosingIterator

from extensions import db

BUSY_TIMEOUT_MS = 5000
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
# PostgreSQL SQLSTATEs after which the same transaction, run again, can succeed.
RETRYABLE_SQLSTATES = frozenset(("40001", "40P01"))  # serialization_failure, deadlock_detected
# Keys in the WSGI environ shared by the retry middleware and the request it runs.
BUSY = "yuyue.database_busy"
COMMITTED = "yuyue.database_committed"
SPOOL_IN_MEMORY = 1024 * 1024


def init_app(app):
    """Set up every engine of the app, answer "busy" with one retry or a 503 page."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            _set_up_sqlite(engine, app.config.get("SQLITE_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS))
        event.listen(engine, "commit", _note_commit)
    app.register_error_handler(OperationalError, _busy_page)
    app.wsgi_app = RetryWhenBusy(app.wsgi_app, app.config)


def reads_only(view=None, *, when=None):
    """Mark a view whose POSTs only read (or only read ``when`` that returns true): no need to queue for the write lock."""

    def mark(function):
        function.reads_only = when or True
        return function

    return mark(view) if view is not None else mark


def _set_up_sqlite(engine, busy_timeout_ms):
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        # pysqlite would otherwise BEGIN only before the first write; our own BEGIN comes from on_begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        statement = "BEGIN IMMEDIATE" if _may_write() else "BEGIN"
        # Straight to the driver: every request begins a transaction, and SQLAlchemy's statement machinery cost
        # more than SQLite's BEGIN. Its errors are wrapped as SQLAlchemy would (OperationalError: "busy" pages).
        try:
            connection.connection.driver_connection.execute(statement).close()
        except sqlite3.Error as error:
            raise DBAPIError.instance(statement, (), error, sqlite3.Error, dialect=connection.dialect) from error


def _may_write():
    """Whether the transaction beginning now may write (outside a request: always)."""
    if not has_request_context():
        return True
    # After a commit a request only renders; after "busy", its error page must not queue for the lock again.
    if request.method in SAFE_METHODS or request.environ.get(COMMITTED) or request.environ.get(BUSY):
        return False
    view = current_app.view_functions.get(request.endpoint)
    hint = getattr(view, "reads_only", None)
    if callable(hint):
        try:
            return not hint()
        except Exception:  # e.g. a body too large to parse: the view will say so; meanwhile assume a write
            return True
    return not hint


def _note_commit(connection):
    if has_request_context():
        request.environ[COMMITTED] = True


def is_busy(error):
    """True for "the database is busy, try again": SQLite's lock timeout, PostgreSQL's serialization failure/deadlock."""
    original = getattr(error, "orig", error)
    if isinstance(original, sqlite3.OperationalError):
        return str(original).startswith(("database is locked", "database table is locked"))
    return getattr(original, "sqlstate", None) in RETRYABLE_SQLSTATES


def _busy_page(error):
    """503: the site is busy, nothing was saved; a form post can be sent again as typed."""
    if not is_busy(error):
        raise error
    request.environ[BUSY] = True
    db.session.rollback()
    current_app.logger.warning("Database busy on %s %s: %s", request.method, request.path, error.orig)
    resend = None
    if request.method not in SAFE_METHODS and request.mimetype in ("application/x-www-form-urlencoded",
                                                                   "multipart/form-data"):
        # A password is never written back into a page.
        resend = {"fields": [(k, v) for k, v in request.form.items(multi=True) if "password" not in k],
                  "files": [f.filename for _, f in request.files.items(multi=True) if f and f.filename]}
    response = current_app.make_response((render_template("errors/503.html", resend=resend), 503))
    response.headers["Retry-After"] = "2"
    return response


class RetryWhenBusy:
    """WSGI middleware: run a request once more when the database was busy and nothing had been committed.

    The body is kept (in a temporary file past 1 MB) so the second run reads it again; the first run's response is
    thrown away before anything of it reached the client.
    """

    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ, start_response):
        body = self._keep_body(environ)
        if body is None:
            return self.wsgi_app(environ, start_response)
        try:
            for attempt in (1, 2):
                body.seek(0)
                attempt_environ = {**environ, "wsgi.input": body}
                started = []
                result = self.wsgi_app(attempt_environ, lambda *args: started.append(args) or _no_write)
                if attempt == 1 and attempt_environ.get(BUSY) and not attempt_environ.get(COMMITTED):
                    if hasattr(result, "close"):
                        result.close()
                    time.sleep(random.uniform(0.05, 0.25))  # let the other writers finish, not all at once
                    continue
                start_response(*started[-1])
                return ClosingIterator(result, body.close)
        except BaseException:
            body.close()
            raise

    def _keep_body(self, environ):
        """The request body in a file that can be read twice, or None when it cannot be kept (then no retry)."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        limit = self.config.get("MAX_CONTENT_LENGTH")
        if length < 0 or (limit is not None and length > limit) or (
                not length and environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"):
            return None
        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        source, left = environ["wsgi.input"], length
        while left > 0:
            chunk = source.read(min(left, 64 * 1024))
            if not chunk:
                break
            body.write(chunk)
            left -= len(chunk)
        return body


def _no_write(data):
    raise RuntimeError("this application does not use the WSGI write() callable")


@contextmanager
def migration_connection(engine):
    """A connection for Alembic; on SQLite with foreign keys off while batch migrations copy and drop tables."""
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            yield connection
            return
        # PRAGMA foreign_keys is ignored inside a transaction: set it on the bare connection, before Alembic begins.
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            raw.execute("PRAGMA foreign_keys = ON")


def _sqlite_index_hint(compiler, table, text):
    """``INDEXED BY`` after the table name, as SQLite writes it (SQLAlchemy's SQLite compiler drops FROM hints)."""
    return text


# select().with_hint(Model, "INDEXED BY ix_…", "sqlite") names the index of a search SQLite would plan badly
# (models.ReviewQueue); other dialects never see the hint.
SQLiteCompiler.get_from_hint_text = _sqlite_index_hint
