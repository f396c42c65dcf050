"""Storage: the tables of the whole domain (../shared/DOMAIN.md) and the queries views share."""
import hmac
import secrets
import time
from collections import namedtuple
from functools import cache
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import (Index, UniqueConstraint, and_, bindparam, case, cast, delete, event, false, func, inspect,
                        literal, literal_column, null, or_, select, text, true, union, union_all, update)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import deferred, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

import clock
import rules
from extensions import db
from rules import ROLE_ADMIN, ROLE_CUSTOMS, ROLE_ENTERPRISE, ROLE_SITE_ADMIN  # noqa: F401 (the roles views check)

# Who hears of every status change, in the transaction that makes it (outbox.py registers its notices here, so
# that this module need not import the one that reads its tables).
STATUS_LISTENERS = []


def status_changed(application, previous, user, at):
    """Tell every listener that ``application`` went from ``previous`` to its status now."""
    for listener in STATUS_LISTENERS:
        listener(application, previous, user, at)


class Precompiled:
    """A read-only statement of columns run on every request (the user's row) or on every showing of a page (the
    home page's agenda, the application page's lists), compiled once per database by SQLAlchemy and run on the
    driver's own cursor.

    Run through SQLAlchemy, the home page's agenda (a union of five lookups, fourteen rows) cost three times what
    SQLite took to answer it: hashing the statement's structure to find it compiled, an execution context and a
    result object on every run. Here SQLAlchemy still writes the SQL (the dialect's parameter style and casts) and
    the types' own processors convert parameters and values, as SQLAlchemy would. Whenever something listens to the
    statements run (a test, echo), it runs through SQLAlchemy instead, so that it is seen."""

    def __init__(self, statement):
        self.statement = statement
        self.row = namedtuple("Row", [selected.key for selected in statement.selected_columns])
        self._prepared = {}

    def rows(self, params):
        """The statement's rows for ``params`` (named tuples), on the session's connection, after a flush."""
        db.session.flush()
        connection = db.session.connection()
        if (connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute
                or connection.engine.echo):
            return [self.row._make(row) for row in connection.execute(self.statement, params)]
        dialect = connection.dialect
        sql, arguments, converters = self._prepare(dialect)
        values = arguments(params)
        try:
            cursor = connection.connection.driver_connection.cursor()
            try:
                cursor.execute(sql, values)
                fetched = cursor.fetchall()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as error:
            # Wrapped as SQLAlchemy wraps it: "database is busy" is then answered like anywhere else.
            raise DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
        if not converters:
            return [self.row._make(row) for row in fetched]
        rows = []
        for row in fetched:
            row = list(row)
            for index, convert in converters:
                row[index] = convert(row[index])
            rows.append(self.row._make(row))
        return rows

    def _prepare(self, dialect):
        key = (dialect.name, dialect.driver)
        if key not in self._prepared:
            compiled = self.statement.compile(dialect=dialect)
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("a statement with parameters rendered only when run cannot be precompiled")
            # Each parameter: the caller's (bindparam("now"), no value of its own) or a constant (a literal, a LIMIT),
            # converted by its type's processor for this dialect (a time, on SQLite, to SQLAlchemy's text form).
            parameters = {}
            for bind, name in compiled.bind_names.items():
                convert = bind.type.dialect_impl(dialect).bind_processor(dialect) or _unchanged
                parameters[name] = (name, convert) if bind.required else (None, convert(bind.value))

            def value(spec, params):
                name, convert = spec
                return convert(params[name]) if name is not None else convert

            if compiled.positional:
                order = [parameters[name] for name in compiled.positiontup]

                def arguments(params):
                    return [value(spec, params) for spec in order]
            else:
                def arguments(params):
                    return {name: value(spec, params) for name, spec in parameters.items()}

            converters = [(index, selected.type.dialect_impl(dialect).result_processor(dialect, None))
                          for index, selected in enumerate(self.statement.selected_columns)]
            self._prepared[key] = (compiled.string, arguments, [(i, c) for i, c in converters if c is not None])
        return self._prepared[key]


def _unchanged(value):
    return value


user_ports = db.Table(
    "user_port",
    db.Column("user_id", db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("port_code", db.ForeignKey("port.code", ondelete="CASCADE"), primary_key=True),
)


class Enterprise(db.Model):
    """A registered enterprise (企业): its four codes, credit grade and customs qualification."""

    id = db.Column(db.Integer, primary_key=True)
    customs_code = db.Column(db.String(10), nullable=False, unique=True)
    uscc = db.Column(db.String(18), nullable=False, unique=True)
    inspection_code = db.Column(db.String(10), nullable=False, default="")
    name = db.Column(db.String(200), nullable=False)
    credit_grade = db.Column(db.String(32), nullable=False)
    qualified = db.Column(db.Boolean, nullable=False, default=True)
    # How many of its in-site notices nobody has read: the header shows it with the user, loaded in the same query,
    # so no page pays a count. Changed only by one UPDATE … SET n = n ± k (Notice.added, Notice.mark_read).
    unread_notices = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    def info(self):
        """The plain view of this enterprise that rules.py works on."""
        return rules.EnterpriseInfo(
            customs_code=self.customs_code,
            uscc=self.uscc,
            inspection_code=self.inspection_code,
            name=self.name,
            credit_grade=self.credit_grade,
            qualified=self.qualified,
        )

    @classmethod
    def by_code(cls, code):
        """Find an enterprise by its 10-character customs code or its 18-character USCC."""
        code = (code or "").strip().upper()
        # Codes are 10 or 18 letters and digits; anything else is not asked for (a NUL would not even reach PostgreSQL).
        if len(code) not in (10, 18) or not (code.isascii() and code.isalnum()):
            return None
        # Statements built once: the application page and every submit look the consignee up.
        statement = _ENTERPRISE_BY_USCC if len(code) == 18 else _ENTERPRISE_BY_CUSTOMS_CODE
        return db.session.execute(statement, {"code": code}).scalar_one_or_none()


_ENTERPRISE_BY_USCC = select(Enterprise).where(Enterprise.uscc == bindparam("code"))
_ENTERPRISE_BY_CUSTOMS_CODE = select(Enterprise).where(Enterprise.customs_code == bindparam("code"))


def new_session_token():
    """A fresh random token that a user's sessions must carry (see User.get_id)."""
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    """A person who logs in: an enterprise operator, a customs officer or a port administrator."""

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, unique=True)
    password_hash = db.Column(db.String(256), nullable=False)
    display_name = db.Column(db.String(100), nullable=False, default="")
    role = db.Column(db.String(16), nullable=False)
    enterprise_id = db.Column(db.ForeignKey("enterprise.id"), nullable=True)
    # Every session carries this token in its user id; a new token ends all of them at once.
    session_token = db.Column(db.String(32), nullable=False, default=new_session_token, server_default="")
    active = db.Column(db.Boolean, nullable=False, default=True, server_default=true())
    # Set when an administrator gives the user a password: the user must choose their own before anything else.
    must_change_password = db.Column(db.Boolean, nullable=False, default=False, server_default=false())
    # Every page names the user's enterprise: load it with the user, in the same query.
    enterprise = db.relationship(Enterprise, lazy="joined")
    ports = db.relationship("Port", secondary=user_ports)

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """The id a session keeps: "<id>:<session token>", so a session outlives neither logout nor a new password."""
        return f"{self.id}:{self.session_token}"

    @classmethod
    def by_session_id(cls, session_id):
        """The active user a session's id names, if its token is still the user's; else None."""
        user_id, _, token = (session_id or "").partition(":")
        if not user_id.isdigit() or len(user_id) > 18 or not token:
            return None
        rows = _USER_ROW.rows({"user_id": int(user_id)})
        if not rows or not rows[0].active or not hmac.compare_digest(rows[0].session_token, token):
            return None
        return loaded_with(User, "enterprise", Enterprise, rows[0])

    @classmethod
    def by_username(cls, username):
        return db.session.execute(select(cls).where(cls.username == username)).scalar_one_or_none()

    def end_sessions(self):
        """End every session of this user, in every browser (logout, password change, disabling)."""
        self.session_token = new_session_token()

    def disable(self):
        """Stop this user from logging in, and end the sessions already open."""
        self.active = False
        self.end_sessions()

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class LoginFailure(db.Model):
    """A wrong password, kept for a while to throttle guessing (security.login_wait).

    Keyed by the typed user name (known or not, so the count cannot tell which names exist) and the address.
    A table rather than Flask-Limiter: every server process (gunicorn workers, several machines) already shares
    the database, whereas Flask-Limiter shares counts across processes only through an extra service
    (Redis, Memcached or MongoDB) that this site does not otherwise need.
    """

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False)
    address = db.Column(db.String(64), nullable=False)
    at = db.Column(db.DateTime, nullable=False)
    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
        Index("ix_login_failure_at", "at"),
    )

    @classmethod
    def times(cls, column, value, since):
        """When the failures for this user name or address since ``since`` happened, oldest first."""
        return db.session.execute(
            select(cls.at).where(getattr(cls, column) == value, cls.at > since).order_by(cls.at)
        ).scalars().all()

    @classmethod
    def record(cls, username, address, at, keep_since):
        """Keep one failure, and forget those older than any throttling window."""
        db.session.execute(delete(cls).where(cls.at <= keep_since))
        db.session.add(cls(username=username[:64], address=address[:64], at=at))


class Port(db.Model):
    """A customs district / port (关区), keyed by its 4-digit code."""

    code = db.Column(db.String(4), primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    name_en = db.Column(db.String(100), nullable=False, default="", server_default="")
    # Names not checked against the customs code table are shown as such.
    name_verified = db.Column(db.Boolean, nullable=False, default=False)


def as_loaded(model, values):
    """The instance of ``model`` whose table columns hold ``values`` (in the table's order), in the session as if
    the ORM had loaded it: the session's own when it has one, else one made with make_transient_to_detached, which
    SQLAlchemy provides for objects built from a row (nothing to write; relationships load when first read). None
    when the values have no primary key (an outer join that found nothing)."""
    mapper = inspect(model)
    columns = model.__table__.columns
    by_column = dict(zip(columns.keys(), values))
    key = [by_column[column.key] for column in mapper.primary_key]
    if None in key:
        return None
    existing = db.session.identity_map.get(mapper.identity_key_from_primary_key(key))
    if existing is not None:
        return existing
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update((mapper.get_property_by_column(column).key, by_column[column.key]) for column in columns)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


def loaded_with(model, relation, related, row):
    """``model``'s instance (as_loaded) from the first of ``row``'s columns, with ``relation`` set to ``related``'s
    from the others, as if loaded with it (unless it already was)."""
    count = len(model.__table__.columns)
    instance = as_loaded(model, row[:count])
    if relation not in instance.__dict__:
        set_committed_value(instance, relation, as_loaded(related, row[count:]))
    return instance


def row_with(model, related, on):
    """A Precompiled statement's select of ``model``'s table columns and ``related``'s (outer joined ``on``), for
    loaded_with."""
    others = [column.label(f"related__{column.key}") for column in related.__table__.columns]
    return select(*model.__table__.columns, *others).select_from(model.__table__.outerjoin(related.__table__, on))


# Every request loads its user and the user's enterprise (User.by_session_id): their columns in one row, run as a
# Precompiled statement and made into the session's objects by loaded_with. Loaded by the ORM, the user cost a fifth
# of the home page. (Built here, once Port, which User's ports name, is defined.)
_USER_ROW = Precompiled(row_with(User, Enterprise, User.enterprise_id == Enterprise.id).where(
    User.id == bindparam("user_id")))


class CalendarYear(db.Model):
    """A year a port's working calendar covers; provisional years were not built from the holiday table."""

    port_code = db.Column(db.ForeignKey("port.code", ondelete="CASCADE"), primary_key=True)
    year = db.Column(db.Integer, primary_key=True)
    provisional = db.Column(db.Boolean, nullable=False, default=False)


class WorkingDay(db.Model):
    """One working day of a port (口岸工作日历): its 上班时间 and 下班时间. Non-working days have no row."""

    id = db.Column(db.Integer, primary_key=True)
    port_code = db.Column(db.ForeignKey("port.code", ondelete="CASCADE"), nullable=False)
    day = db.Column(db.Date, nullable=False)
    opens = db.Column(db.Time, nullable=False)
    closes = db.Column(db.Time, nullable=False)
    port = db.relationship(Port)
    __table_args__ = (UniqueConstraint("port_code", "day", name="uq_working_day_port_day"),)


class CalendarNote(db.Model):
    """A note on one day of a port's calendar (元旦, 国庆值班), whether that day is a working day or a day off."""

    port_code = db.Column(db.ForeignKey("port.code", ondelete="CASCADE"), primary_key=True)
    day = db.Column(db.Date, primary_key=True)
    note = db.Column(db.String(100), nullable=False)


class TransportMode(db.Model):
    """An entry of the customs transport-mode table (运输方式)."""

    code = db.Column(db.String(1), primary_key=True)
    name = db.Column(db.String(50), nullable=False)
    name_en = db.Column(db.String(50), nullable=False, default="", server_default="")
    # The six modes an appointment can use; the rest of the table is kept for completeness.
    selectable = db.Column(db.Boolean, nullable=False, default=True)


class HSCode(db.Model):
    """A line of the HS catalogue (商品归类表): 商品编号, 商品名称, 备注."""

    code = db.Column(db.String(10), primary_key=True)
    name = db.Column(db.String(500), nullable=False)
    note = db.Column(db.String(500), nullable=False, default="")


class Counter(db.Model):
    """A named, never-reset sequence (pre-entry numbers are unique forever)."""

    name = db.Column(db.String(32), primary_key=True)
    value = db.Column(db.BigInteger, nullable=False, default=0)

    @classmethod
    def next(cls, name):
        """Take the next value of a sequence inside the current transaction, atomically on SQLite and PostgreSQL."""
        return db.session.execute(cls.take(name, db.session.get_bind().dialect)).scalar_one()

    @classmethod
    def take(cls, name, dialect):
        """The statement that increments sequence ``name`` and returns its new value, for ``dialect``."""
        return _take(name, dialect.name)


@cache  # one statement per sequence and kind of database, built once (every new application takes a number)
def _take(name, dialect_name):
    # One statement that increments and returns (an UPDATE … RETURNING that also creates a new sequence):
    # a read then a write would let two requests take the same value, and SQLite ignores FOR UPDATE.
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}[dialect_name]
    counter = Counter.__table__
    return insert(counter).values(name=name, value=1).on_conflict_do_update(
        index_elements=[counter.c.name], set_={"value": counter.c.value + 1}
    ).returning(counter.c.value)


# The conditions of the review queue's partial indexes, written as the queries write them (a query uses a partial
# index only when its WHERE says the same, with the values in the SQL rather than bound).
FEEDBACK_DUE = "status = 'approved' AND statement_at IS NULL"
STATEMENT_UNREAD = "statement_at IS NOT NULL AND statement_read_at IS NULL"


class Application(db.Model):
    """A 预约通关 application, from draft (暂存) to cleared (通关完成)."""

    id = db.Column(db.Integer, primary_key=True)
    pre_entry_number = db.Column(db.String(18), nullable=False, unique=True)
    application_number = db.Column(db.String(18), nullable=True)
    declarant_id = db.Column(db.ForeignKey("enterprise.id"), nullable=False)
    consignee_id = db.Column(db.ForeignKey("enterprise.id"), nullable=True)
    consignee_code = db.Column(db.String(18), nullable=False, default="")
    contact_name = db.Column(db.String(50), nullable=False, default="")
    contact_mobile = db.Column(db.String(11), nullable=False, default="")
    declaration_port = db.Column(db.ForeignKey("port.code"), nullable=True)
    entry_port = db.Column(db.ForeignKey("port.code"), nullable=True)
    transport_mode = db.Column(db.String(1), nullable=False, default="")
    start = db.Column(db.DateTime, nullable=True)
    end = db.Column(db.DateTime, nullable=True)
    reason_category = db.Column(db.String(16), nullable=False, default="")
    reason_text = db.Column(db.Text, nullable=False, default="")
    direction = db.Column(db.String(1), nullable=False, default="")
    status = db.Column(db.String(24), nullable=False, default=rules.DRAFT)
    created_at = db.Column(db.DateTime, nullable=False)
    submitted_at = db.Column(db.DateTime, nullable=True)
    updated_at = db.Column(db.DateTime, nullable=False)
    approved_at = db.Column(db.DateTime, nullable=True)
    return_reason = db.Column(db.Text, nullable=False, default="")
    statement_text = db.Column(db.Text, nullable=False, default="")
    statement_at = db.Column(db.DateTime, nullable=True)
    created_by_id = db.Column(db.ForeignKey("user.id"), nullable=True)
    accepted_at = db.Column(db.DateTime, nullable=True)
    cancelled_at = db.Column(db.DateTime, nullable=True)
    # An officer read the statement (the queue then stops offering it as waiting).
    statement_read_at = db.Column(db.DateTime, nullable=True)
    # 纸质申请 (公告109): entered by an officer from the stamped form; the exception customs granted, if any.
    paper = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    paper_reference = db.Column(db.String(64), nullable=False, default="", server_default="")
    paper_received_on = db.Column(db.Date, nullable=True)
    exception_reason = db.Column(db.Text, nullable=False, default="", server_default="")
    # Optimistic locking: a save from a stale form is refused instead of overwriting.
    version = db.Column(db.Integer, nullable=False, default=1)

    declarant = db.relationship(Enterprise, foreign_keys=[declarant_id])
    declaration_port_ref = db.relationship(Port, foreign_keys=[declaration_port], viewonly=True)
    entry_port_ref = db.relationship(Port, foreign_keys=[entry_port], viewonly=True)
    transport_mode_ref = db.relationship(TransportMode, primaryjoin="foreign(Application.transport_mode) == TransportMode.code",
                                         viewonly=True)
    consignee = db.relationship(Enterprise, foreign_keys=[consignee_id])
    goods = db.relationship("GoodsItem", order_by="GoodsItem.position", cascade="all, delete-orphan")
    declaration_numbers = db.relationship(
        "DeclarationNumber", order_by="DeclarationNumber.position", cascade="all, delete-orphan"
    )
    attachments = db.relationship("Attachment", order_by="Attachment.id", cascade="all, delete-orphan")
    history = db.relationship("StatusChange", order_by="StatusChange.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_application_declarant_created", "declarant_id", "created_at"),
        Index("ix_application_consignee_created", "consignee_id", "created_at"),
        Index("ix_application_declarant_start", "declarant_id", "start"),
        Index("ix_application_consignee_start", "consignee_id", "start"),
        # Status filters and the R6/R17 overdue check look up one enterprise's applications in one status.
        Index("ix_application_declarant_status_start", "declarant_id", "status", "start"),
        Index("ix_application_consignee_status_start", "consignee_id", "status", "start"),
        # The review queue and R24's hour counts look up one port's applications, by status and start.
        Index("ix_application_declaration_port_status_start", "declaration_port", "status", "start"),
        Index("ix_application_entry_port_status_start", "entry_port", "status", "start"),
        # The review queue at a million applications: each kind of page reads one index in order and filters the
        # ports from it (an officer's ports hold most applications), and what the opening view and overdue lists
        # look for sits in small partial indexes. ReviewQueue names the index of each search.
        Index("ix_application_status_submitted", "status", "submitted_at", "declaration_port", "entry_port", "start"),
        Index("ix_application_status_start", "status", "start", "declaration_port", "entry_port"),
        Index("ix_application_submitted_ports", "submitted_at", "declaration_port", "entry_port", "status"),
        Index("ix_application_start_ports", "start", "status", "declaration_port", "entry_port", "submitted_at"),
        Index("ix_application_feedback_due", "start", "declaration_port", "entry_port", "submitted_at", "paper",
              sqlite_where=text(FEEDBACK_DUE), postgresql_where=text(FEEDBACK_DUE)),
        Index("ix_application_statement_unread", "statement_at", "declaration_port", "entry_port",
              sqlite_where=text(STATEMENT_UNREAD), postgresql_where=text(STATEMENT_UNREAD)),
        Index("ix_application_cancelled_at", "cancelled_at", "declaration_port", "entry_port",
              sqlite_where=text("cancelled_at IS NOT NULL"), postgresql_where=text("cancelled_at IS NOT NULL")),
        Index("ix_application_paper", "submitted_at", "declaration_port", "entry_port", "status", "start",
              sqlite_where=text("paper = 1"), postgresql_where=text("paper")),
    )

    # The form's plain fields, stored as typed (rules.ApplicationInput has the same names).
    TEXT_FIELDS = ("consignee_code", "contact_name", "contact_mobile", "transport_mode", "reason_category",
                   "reason_text", "direction")
    PORT_FIELDS = ("declaration_port", "entry_port")

    @classmethod
    def start_new(cls, declarant, user, at):
        """A new application as its first 暂存 makes it: numbered (YTG…), dated, in 暂存, with its first audit entry."""
        application = cls(
            pre_entry_number=rules.pre_entry_number(at.year, Counter.next("pre_entry")),
            declarant=declarant,
            status=rules.DRAFT,
            created_at=at,
            updated_at=at,
            created_by_id=user.id if user else None,
        )
        application.history.append(
            StatusChange(from_status=None, to_status=rules.DRAFT, at=at, user_id=user.id if user else None,
                         declarant_id=declarant.id)
        )
        db.session.add(application)
        return application

    def copy_as_draft(self, user, at):
        """复制为新申请: a new draft with every field, goods row and supplement of this one (not its numbers,
        statement or history); its files were checked (R10) when first kept, so they are copied as they are."""
        copy = Application.start_new(self.declarant, user, at)
        copy.consignee = self.consignee
        for name in self.TEXT_FIELDS + self.PORT_FIELDS + ("start", "end"):
            setattr(copy, name, getattr(self, name))
        copy.goods = [GoodsItem(position=g.position, name=g.name, hs_code=g.hs_code) for g in self.goods]
        copy.attachments = [Attachment(kind=a.kind, filename=a.filename, size=a.size, sha256=a.sha256,
                                       uploaded_at=at, data=a.data) for a in self.supplements]
        return copy

    def write_draft(self, data, consignee, at):
        """Store a checked draft (rules.ApplicationInput); rows are replaced only when they changed."""
        self.consignee = consignee
        for name in self.TEXT_FIELDS:
            setattr(self, name, getattr(data, name))
        for name in self.PORT_FIELDS:
            setattr(self, name, getattr(data, name) or None)
        self.start = data.start
        self.end = rules.appointment_end(data.start) if data.start else None
        if [(g.name, g.hs_code) for g in self.goods] != [(g.name, g.hs_code) for g in data.goods]:
            self.goods = [GoodsItem(position=i, name=g.name, hs_code=g.hs_code) for i, g in enumerate(data.goods, 1)]
        self.replace_numbers(data.declaration_numbers)
        self.touch(at)

    def replace_numbers(self, numbers):
        """Store these declaration numbers (预约通关报关单号), in order, if they are not the stored ones."""
        if [n.number for n in self.declaration_numbers] != list(numbers):
            self.declaration_numbers = [DeclarationNumber(position=i, number=n) for i, n in enumerate(numbers, 1)]

    def touch(self, at):
        """Mark a change of the draft: the version advances even when only rows, files or nothing else changed."""
        self.updated_at = at
        # A change to goods, numbers or files alone would not update this row, so a stale tab could still save.
        flag_modified(self, "updated_at")

    @classmethod
    def by_id(cls, application_id, write=False):
        """The application to show, its consignee loaded with it (the page names it); or, ``write``, to change,
        its row locked to the end of the transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        writers), so that what is counted before a write (R10's files) is what the write adds to."""
        if write:  # (PostgreSQL locks no outer-joined row: writing, the consignee comes when asked)
            return db.session.get(cls, application_id, with_for_update=True)
        rows = _TO_SHOW.rows({"id": application_id})
        return loaded_with(Application, "consignee", Enterprise, rows[0]) if rows else None

    def goods_and_numbers(self):
        """The goods as rules.GoodsRow and the declaration numbers, in order, as the form shows them."""
        if "goods" in self.__dict__ or "declaration_numbers" in self.__dict__:
            return ([rules.GoodsRow(name=g.name, hs_code=g.hs_code) for g in self.goods],
                    [n.number for n in self.declaration_numbers])
        lists = self._page_lists()
        return lists.goods, lists.numbers

    def file_lines(self):
        """The attachments as the pages list them (id, kind, filename, size, sha256, uploaded_at), in the order
        kept."""
        return self.attachments if "attachments" in self.__dict__ else self._page_lists().files

    def history_lines(self):
        """The audit trail as the pages show it (HistoryLine: when, who, from, to, note), oldest first."""
        if "history" in self.__dict__:
            return [HistoryLine(h.at, h.user.username if h.user else None, h.from_status, h.to_status, h.note,
                                h.note_key, h.note_params) for h in self.history]
        return self._page_lists().history

    def _page_lists(self):
        # The four lists a page shows, read in one query the first time one is asked for and kept until the
        # session expires the application (a commit): lazy loads build their statements and cache keys anew each
        # time, and four of them cost a quarter of the application page. What this session changed it reads from
        # the objects instead (the callers above look for loaded collections first).
        lists = self.__dict__.get(_PAGE_LISTS_KEPT)
        if lists is None:
            lists = self.__dict__[_PAGE_LISTS_KEPT] = _read_page_lists(self.id)
        return lists

    @property
    def supplements(self):
        """The 随附补充材料 PDFs (not the statement's)."""
        return [a for a in self.attachments if a.kind == Attachment.KIND_SUPPLEMENT]

    @property
    def statement_files(self):
        return [a for a in self.attachments if a.kind == Attachment.KIND_STATEMENT]

    @property
    def current_status(self):
        """The status as of this moment (R17: overdue feedback shows as 通关完成未反馈 without any job)."""
        return rules.current_status(self.status, self.start, clock.now(), self.statement_at is not None)

    def move(self, to_status, user, note="", at=None):
        """Change the status as rules.TRANSITIONS allows the user's role, set its timestamps, write the audit trail."""
        at = at or clock.now()
        change = rules.transition(self.status, to_status, user.role)
        for stamp in change.stamps:
            setattr(self, stamp, at)
        if change.numbers_application:
            self.application_number = self.pre_entry_number
        self.record(user, note, at, to_status)
        previous, self.status = self.status, to_status
        status_changed(self, previous, user, at)

    def record(self, user, note, at=None, to_status=None):
        """Write an entry in the audit trail (who, when, from, to, note); the status itself changes only through move.

        A note the system writes (rules.SystemNote) is kept by its key, to be worded in each reader's language; its
        Chinese wording is kept too, for the API, webhooks and anything else that reads the text.
        """
        at = at or clock.now()
        system = note if isinstance(note, rules.SystemNote) else None
        declarant_id = self.declarant_id if self.declarant_id is not None else self.declarant.id  # (not yet written)
        self.history.append(StatusChange(from_status=self.status, to_status=to_status or self.status, at=at,
                                         user_id=user.id if user else None, declarant_id=declarant_id,
                                         note=system.render() if system else note,
                                         note_key=system.key if system else None,
                                         note_params=dict(system.params) if system else None))
        self.updated_at = at


class GoodsItem(db.Model):
    """A row of 商品名称及HS编码."""

    id = db.Column(db.Integer, primary_key=True)
    application_id = db.Column(db.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    name = db.Column(db.String(4000), nullable=False)
    hs_code = db.Column(db.String(10), nullable=False)


class DeclarationNumber(db.Model):
    """A row of 预约通关报关单号反馈."""

    id = db.Column(db.Integer, primary_key=True)
    application_id = db.Column(db.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    number = db.Column(db.String(18), nullable=False)


class Attachment(db.Model):
    """A PDF kept with an application: 随附补充材料 or the 情况说明's one file."""

    KIND_SUPPLEMENT = "supplement"
    KIND_STATEMENT = "statement"

    id = db.Column(db.Integer, primary_key=True)
    application_id = db.Column(db.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(16), nullable=False, default=KIND_SUPPLEMENT)
    filename = db.Column(db.String(255), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    uploaded_at = db.Column(db.DateTime, nullable=False)
    data = deferred(db.Column(db.LargeBinary, nullable=False))


class DeclarationRecord(db.Model):
    """A customs declaration known to the system, for the R20 checks of fed-back numbers."""

    number = db.Column(db.String(18), primary_key=True)
    consignee_code = db.Column(db.String(18), nullable=False)
    declaration_port = db.Column(db.String(4), nullable=False)
    entry_port = db.Column(db.String(4), nullable=False)
    direction = db.Column(db.String(1), nullable=False)
    declared_on = db.Column(db.Date, nullable=False)


class Timetable(db.Model):
    """A port's published operation timetable (口岸作业时间公示表) for one mode and direction."""

    id = db.Column(db.Integer, primary_key=True)
    port_code = db.Column(db.ForeignKey("port.code", ondelete="CASCADE"), nullable=False)
    mode = db.Column(db.String(8), nullable=False)
    direction = db.Column(db.String(8), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    columns = db.Column(db.JSON, nullable=False)
    phases = db.Column(db.JSON, nullable=False)
    notes = db.Column(db.JSON, nullable=False, default=list)
    totals = db.Column(db.JSON, nullable=False, default=list)
    total_caption = db.Column(db.String(500), nullable=False, default="")
    publishers = db.Column(db.String(500), nullable=False, default="")
    published_on = db.Column(db.Date, nullable=False)
    port = db.relationship(Port)
    __table_args__ = (UniqueConstraint("port_code", "mode", "direction", name="uq_timetable_port_mode_direction"),)


class Announcement(db.Model):
    """A 系统公告 shown on everyone's home page while live: published, not withdrawn, not expired."""

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    publisher = db.Column(db.String(100), nullable=False)
    published_on = db.Column(db.Date, nullable=False)
    # None: site-wide (a site administrator's); else the port whose administrators may edit it.
    port_code = db.Column(db.ForeignKey("port.code", ondelete="CASCADE"), nullable=True, index=True)
    shown_from = db.Column(db.DateTime, nullable=True)
    shown_until = db.Column(db.DateTime, nullable=True)
    pinned = db.Column(db.Boolean, nullable=False, default=False, server_default=false())
    withdrawn_at = db.Column(db.DateTime, nullable=True)
    port = db.relationship(Port)

    @classmethod
    def live(cls, now, limit=20):
        """The announcements shown now (as LiveAnnouncement), pinned first, newest first.

        Every home page shows them and they seldom change: the ones not withdrawn are read once per version of the
        reference data (every write of an announcement advances it, see _announcement_written), and which of them
        are shown at ``now`` is decided here.
        """
        key = ("announcements", _generation())
        kept = _reference_cache.get(key)
        if kept is None:
            rows = db.session.execute(select(*(getattr(cls, name) for name in LiveAnnouncement._fields)).where(
                cls.withdrawn_at.is_(None)).order_by(cls.pinned.desc(), cls.published_on.desc(), cls.id.desc()))
            kept = _reference_cache[key] = tuple(LiveAnnouncement(*row) for row in rows)
        shown = [a for a in kept if (a.shown_from is None or a.shown_from <= now)
                 and (a.shown_until is None or a.shown_until > now)]
        return shown[:limit]


# What the home page reads of a live announcement.
LiveAnnouncement = namedtuple("LiveAnnouncement",
                              "id title body publisher published_on port_code shown_from shown_until pinned")


@event.listens_for(Announcement, "after_insert")
@event.listens_for(Announcement, "after_update")
@event.listens_for(Announcement, "after_delete")
def _announcement_written(mapper, connection, target):
    # Whoever writes one (an administrator, a command, a test), Announcement.live reads them again: the reference
    # data's version advances in the same transaction (as bump_reference_data does).
    connection.execute(Counter.take(REFERENCE_GENERATION, connection.dialect))
    _generation_seen.pop(connection.engine.url, None)


class SiteSetting(db.Model):
    """One site setting (its name, the operating port's name, the contact telephone), by key."""

    key = db.Column(db.String(32), primary_key=True)
    value = db.Column(db.String(200), nullable=False, default="")


class StatusChange(db.Model):
    """The audit trail of an application's status: who, when, from, to, note."""

    # The home page's recent decisions are an enterprise's latest changes: found through (declarant_id, at), not by
    # reading every application the enterprise ever made and each one's history.
    __table_args__ = (Index("ix_status_change_declarant_id_at", "declarant_id", "at"),)

    id = db.Column(db.Integer, primary_key=True)
    application_id = db.Column(db.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True)
    # The application's declarant, copied (an application's declarant never changes).
    declarant_id = db.Column(db.ForeignKey("enterprise.id"), nullable=True)
    user_id = db.Column(db.ForeignKey("user.id"), nullable=True)
    at = db.Column(db.DateTime, nullable=False)
    from_status = db.Column(db.String(24), nullable=True)
    to_status = db.Column(db.String(24), nullable=False)
    note = db.Column(db.Text, nullable=False, default="")
    # A note the system wrote: its rules.SYSTEM_NOTES key and parameters (None: typed by a person, or written before
    # notes had keys; then `note` is shown as it is).
    note_key = db.Column(db.String(32), nullable=True)
    note_params = db.Column(db.JSON, nullable=True)
    user = db.relationship(User, lazy="joined")  # every history line names who

    @property
    def message(self):
        """The system's note as a rules.SystemNote to word in the reader's language, or None."""
        return rules.stored_note(self.note_key, self.note_params)


# The application a page shows and its consignee: one row, made into the session's objects (loaded_with).
_TO_SHOW = Precompiled(row_with(Application, Enterprise, Application.consignee_id == Enterprise.id).where(
    Application.id == bindparam("id")))


class HistoryLine(namedtuple("HistoryLine", "at username from_status to_status note note_key note_params")):
    """One line of an application's audit trail, as shown: when, who (user name), from, to, the note."""

    @property
    def message(self):
        """The system's note as a rules.SystemNote to word in the reader's language, or None (StatusChange.message)."""
        return rules.stored_note(self.note_key, self.note_params)


def plain_rows(statement, params):
    """The rows of a statement of columns, read on the session's connection: without the ORM's execution layer,
    which for a small query costs more than the query. Changes not yet written are written first, as the ORM's
    autoflush would."""
    db.session.flush()
    return db.session.connection().execute(statement, params)


FileLine = namedtuple("FileLine", "id kind filename size sha256 uploaded_at")
PageLists = namedtuple("PageLists", "goods numbers files history")
_PAGE_LISTS_KEPT = "_yuyue_page_lists"  # in the instance's __dict__, beside (never among) its mapped attributes


@event.listens_for(Application, "expire")
def _forget_page_lists(target, attrs):
    target.__dict__.pop(_PAGE_LISTS_KEPT, None)


def _page_lists_statement():
    """One UNION ALL of an application's goods, declaration numbers, attachments and history (with who), in the
    columns (list, seq, text_a, text_b, text_c, note, note_key, note_params, size, at), ordered by list and seq."""
    def typed_null(column):
        return cast(null(), column.type)  # PostgreSQL unites typed columns only; SQLite then reads them typed too

    application = bindparam("application")
    goods = select(
        literal(0).label("list"), GoodsItem.position.label("seq"), GoodsItem.name.label("text_a"),
        GoodsItem.hs_code.label("text_b"), typed_null(StatusChange.to_status).label("text_c"),
        typed_null(StatusChange.note).label("note"), typed_null(StatusChange.note_key).label("note_key"),
        typed_null(StatusChange.note_params).label("note_params"), typed_null(Attachment.size).label("size"),
        typed_null(StatusChange.at).label("at"),
    ).where(GoodsItem.application_id == application)
    numbers = select(literal(1), DeclarationNumber.position, DeclarationNumber.number, null(), null(), null(), null(),
                     null(), null(), null()).where(DeclarationNumber.application_id == application)
    files = select(literal(2), Attachment.id, Attachment.filename, Attachment.kind, Attachment.sha256, null(), null(),
                   null(), Attachment.size, Attachment.uploaded_at).where(Attachment.application_id == application)
    history = select(literal(3), StatusChange.id, User.username, StatusChange.from_status, StatusChange.to_status,
                     StatusChange.note, StatusChange.note_key, StatusChange.note_params, null(), StatusChange.at,
                     ).outerjoin(User, StatusChange.user_id == User.id).where(
        StatusChange.application_id == application)
    return union_all(goods, numbers, files, history).order_by("list", "seq")


_PAGE_LISTS = Precompiled(_page_lists_statement())


def _read_page_lists(application_id):
    lists = PageLists([], [], [], [])
    for row in _PAGE_LISTS.rows({"application": application_id}):
        if row.list == 0:
            lists.goods.append(rules.GoodsRow(name=row.text_a, hs_code=row.text_b))
        elif row.list == 1:
            lists.numbers.append(row.text_a)
        elif row.list == 2:
            lists.files.append(FileLine(row.seq, row.text_b, row.text_a, row.size, row.text_c, row.at))
        else:
            lists.history.append(HistoryLine(row.at, row.text_a, row.text_b, row.text_c, row.note, row.note_key,
                                             row.note_params))
    return lists


def port_calendars(port_codes):
    """The ports' whole working calendars (rules.PortCalendar), kept per process until bump_reference_data()."""
    key = _generation()
    calendars = {}
    for code in sorted({code for code in port_codes if code}):
        if not rules.is_port_code(code):
            # Not a port's code (a NUL would not even reach PostgreSQL): it has no working days.
            calendars[code] = rules.PortCalendar(port_code=code, days={}, covered_years=frozenset(),
                                                 provisional_years=frozenset())
            continue
        if (key, code) not in _calendar_cache:
            _calendar_cache[(key, code)] = _read_calendar(code)
        calendars[code] = _calendar_cache[(key, code)]
    return calendars


def _read_calendar(code):
    # One query per port, all its years: a port has a few hundred working days a year, rules read a few of them.
    years = db.session.execute(
        select(CalendarYear.year, CalendarYear.provisional).where(CalendarYear.port_code == code)).all()
    days = db.session.execute(
        select(WorkingDay.day, WorkingDay.opens, WorkingDay.closes).where(WorkingDay.port_code == code)).all()
    return rules.PortCalendar(
        port_code=code,
        days={d.day: rules.OpeningHours(d.day, d.opens, d.closes) for d in days},
        covered_years=frozenset(y.year for y in years),
        provisional_years=frozenset(y.year for y in years if y.provisional),
    )


def has_unfed_back(enterprise_id, limit=5):
    """The applications (rows of id, pre_entry_number, start; oldest first, at most ``limit``) of which the
    enterprise is declarant or consignee that are overdue for feedback (R6, R17): empty when none, so it reads as a
    truth value too."""
    statement = _UNFED_BACK.get(limit)
    if statement is None:
        # Built once per limit: every application page and submit asks, and building it cost more than running it.
        statement = _UNFED_BACK[limit] = select(Application.id, Application.pre_entry_number, Application.start).where(
            _overdue(bindparam("overdue_before")),
            (Application.declarant_id == bindparam("enterprise")) | (Application.consignee_id == bindparam("enterprise")),
        ).order_by(Application.start, Application.id).limit(limit)
    facts = {"enterprise": enterprise_id, "overdue_before": rules.overdue_before(clock.now())}
    return plain_rows(statement, facts).all()


_UNFED_BACK = {}


def status_is(*statuses, column=None):
    """SQL for a stored status (the application's, or ``column``'s) among these (rules' constants), written as
    literals: with a bound status, SQLite cannot tell which partial indexes apply when it prepares the statement,
    so it prepares it again on every run (0.4 ms for the home page's agenda) and never uses them."""
    if not set(statuses) <= rules.STATUS_LABELS.keys():
        # Only rules' own codes are ever written into SQL.
        raise ValueError(f"not a status: {statuses!r}")
    column = Application.status if column is None else column
    values = [literal_column(f"'{status}'") for status in statuses]
    return column == values[0] if len(values) == 1 else column.in_(values)


UPCOMING_DAYS = 14
RECENT_DECISION_DAYS = 14
# The moves by which customs decides on an application (its recent decisions on the home page).
DECISION_STATUSES = (rules.ACCEPTED, rules.APPROVED, rules.RETURNED)


def enterprise_agenda(enterprise_id, now):
    """An enterprise's day (home page, R25): upcoming appointments, what is due, drafts, customs' recent decisions.
    Each list holds AgendaEntry rows, in the order the page shows them (AGENDA_ORDER)."""
    facts = {"enterprise": enterprise_id, "now": now, "until": now + timedelta(days=UPCOMING_DAYS),
             "since": now - timedelta(days=RECENT_DECISION_DAYS)}
    agenda = {name: [] for name in AGENDA_ORDER}
    names = tuple(AGENDA_ORDER)
    for row in _AGENDA.rows(facts):
        agenda[names[row[0]]].append(AgendaEntry(*row[1:], now=now))
    for name, (key, newest_first) in AGENDA_ORDER.items():
        # Sorted here, not by the query: SQLite sorting each list in the query cost as much as finding them.
        agenda[name].sort(key=key, reverse=newest_first)
    return agenda


class AgendaEntry(namedtuple("AgendaEntry", "id pre_entry_number start end declaration_port entry_port status "
                                            "statement_at cancelled_at updated_at return_reason at to_status "
                                            "change_id now")):
    """An application as the home page lists it (with, for a decision, the change's time, status and id)."""

    @property
    def current_status(self):
        return rules.current_status(self.status, self.start, self.now, self.statement_at is not None)


def _by(*fields):
    # A sort key of AgendaEntry fields, none before any value.
    indexes = [AgendaEntry._fields.index(field) for field in fields]
    return lambda entry: tuple((entry[i] is not None, entry[i]) for i in indexes)


# Each list's order (sort key, newest first or not): the drafts and decisions shown are the first 20 of it.
AGENDA_ORDER = {
    "upcoming": (_by("start", "id"), False),
    "feedback": (_by("start", "id"), False),
    "statements": (_by("cancelled_at", "id"), False),
    "drafts": (_by("updated_at", "id"), True),
    "decisions": (_by("at", "change_id"), True),
}


def _agenda_statement():
    # One query for the five lists (each its own indexed lookup), columns only: five queries loading whole
    # applications were a third of the home page's cost.
    enterprise, now = bindparam("enterprise"), bindparam("now")
    mine = (Application.declarant_id == enterprise) | (
        (Application.consignee_id == enterprise) & ~status_is(*rules.DECLARANT_ONLY_STATUSES))
    own = Application.declarant_id == enterprise
    columns = (Application.id, Application.pre_entry_number, Application.start, Application.end,
               Application.declaration_port, Application.entry_port, Application.status, Application.statement_at,
               Application.cancelled_at, Application.updated_at, Application.return_reason)
    # Typed NULLs: PostgreSQL unites a time only with a time, and SQLite's rows then read as times too.
    no_change = (cast(null(), StatusChange.at.type).label("at"),
                 cast(null(), StatusChange.to_status.type).label("to_status"),
                 cast(null(), StatusChange.id.type).label("change_id"))

    def part(name, *where, changes=None, limit_by=None):
        statement = select(literal(tuple(AGENDA_ORDER).index(name)).label("list"), *columns,
                           *(changes or no_change)).where(*where)
        if changes is not None:
            statement = statement.select_from(StatusChange).join(Application,
                                                                StatusChange.application_id == Application.id)
        if limit_by is not None:
            # The first 20 in the list's order (AGENDA_ORDER), newest first.
            statement = statement.order_by(*(column.desc() for column in limit_by)).limit(20)
            return select(statement.subquery())
        return statement

    return union_all(
        part("upcoming", mine, status_is(rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED),
             Application.start >= now, Application.start < bindparam("until")),
        part("feedback", own, status_is(rules.APPROVED), Application.statement_at.is_(None), Application.start <= now),
        part("statements", own, status_is(rules.CANCELLED), Application.approved_at.isnot(None),
             Application.statement_at.is_(None)),
        part("drafts", own, status_is(rules.DRAFT), limit_by=(Application.updated_at, Application.id)),
        part("decisions", StatusChange.declarant_id == enterprise,
             status_is(*DECISION_STATUSES, column=StatusChange.to_status),
             StatusChange.from_status != StatusChange.to_status, StatusChange.at >= bindparam("since"),
             changes=(StatusChange.at, StatusChange.to_status, StatusChange.id.label("change_id")),
             limit_by=(StatusChange.at, StatusChange.id)),
    )


# Built once with parameters (building it cost as much as running it, on every home page), compiled once.
_AGENDA = Precompiled(_agenda_statement())


def known_hs_codes(codes):
    """Which of these HS codes the catalogue has (rules.py checks each goods row against them)."""
    codes = {c for c in codes if rules.is_hs_code(c)}
    if not codes:
        return set()
    return set(plain_rows(_KNOWN_HS_CODES, {"codes": sorted(codes)}).scalars())


# Built once (every submit checks its goods): the codes go in as one expanding parameter.
_KNOWN_HS_CODES = select(HSCode.code).where(HSCode.code.in_(bindparam("codes", expanding=True)))


def feedback_refusals(application, numbers):
    """R17, R19, R20 for the declaration numbers fed back on an approved application, with the records they name."""
    return rules.check_declaration_numbers(
        numbers, application.direction, application.declaration_port, application.entry_port,
        application.consignee.info().codes if application.consignee else {application.consignee_code},
        application.submitted_at, declaration_facts(numbers),
    ) + rules.check_feedback_present(numbers)


def declaration_facts(numbers):
    """What the system knows of these declaration numbers, as rules.DeclarationFacts by number (R20)."""
    numbers = [n for n in numbers if rules.is_declaration_number(n)]
    records = db.session.execute(select(DeclarationRecord).where(DeclarationRecord.number.in_(numbers))).scalars()
    return {r.number: rules.DeclarationFacts(r.number, r.consignee_code, r.declaration_port, r.entry_port, r.declared_on)
            for r in records}


def hs_lines(prefix):
    """The catalogue lines under an HS prefix (rules.hs_prefix), first rules.HS_PICKER_LINES of them."""
    # Plain named tuples: a template finds a Row's fields only after normal attribute lookup fails (its __getattr__),
    # which took the picker's fifty lines twice as long to render.
    return [HSLine(*row) for row in plain_rows(_HS_LINES, {"low": prefix, "high": prefix + "~"})]


HSLine = namedtuple("HSLine", "code name note")

# A range, not LIKE: SQLite uses the primary key's index for it, and codes are digits, all below "~". Built once:
# the picker answers keystrokes, and building the statement cost as much as running it.
_HS_LINES = (select(HSCode.code, HSCode.name, HSCode.note)
             .where(HSCode.code >= bindparam("low"), HSCode.code < bindparam("high"))
             .order_by(HSCode.code).limit(rules.HS_PICKER_LINES))


def submission_context(data, declarant_id, consignee):
    """Everything rules.check_submission needs besides the form, each looked up once."""
    codes = reference_data()
    return rules.SubmissionContext(
        now=clock.now(),
        calendars=port_calendars([data.declaration_port, data.entry_port]) if data.start else {},
        port_codes=codes.port_codes,
        transport_modes=codes.mode_codes,
        hs_codes=known_hs_codes(g.hs_code for g in data.goods),
        declarant_unfed=tuple(a.pre_entry_number for a in has_unfed_back(declarant_id)),
        consignee_unfed=tuple(a.pre_entry_number for a in has_unfed_back(consignee.id))
        if consignee and consignee.id != declarant_id else (),
        # R24: counted in this transaction, the capacity rows locked until it ends (see hour_load).
        load=hour_load([data.declaration_port, data.entry_port], data.start) if data.start else None,
    )


class ReferenceData:
    """Ports and transport modes as plain tuples, kept per process until the tables change."""

    def __init__(self, ports, modes, english_names=None):
        self.ports = ports
        self.modes = modes
        self.port_codes = frozenset(code for code, _ in ports)
        self.mode_codes = frozenset(code for code, _ in modes)
        # (table, code) -> English name, for those that have one.
        self.english_names = english_names or {}
        # The ports as records a template reads like Port rows (code, name, name_en), for lists of every port.
        self.port_records = tuple(PortRecord(code, name, self.english_names.get(("port", code), ""))
                                  for code, name in ports)

    def named(self, english):
        """(ports, modes) as (code, name) pairs in the page's language: English names where a port or mode has one."""
        if not english:
            return self.ports, self.modes
        return tuple(tuple((code, self.english_names.get((table, code)) or name) for code, name in rows)
                     for table, rows in (("port", self.ports), ("mode", self.modes)))


PortRecord = namedtuple("PortRecord", "code name name_en")
_reference_cache = {}
_calendar_cache = {}
_cached_generation = [None]
_generation_seen = {}
GENERATION_TTL_SECONDS = 1.0
REFERENCE_GENERATION = "reference_data"


def _generation():
    """Which version of the reference tables this process sees: (database, generation), read at most once a second.

    Ports, transport modes and working calendars change only when an administrator or a command changes them, and
    each such change calls bump_reference_data(): this process sees it at once, other processes within a second,
    and no request pays a query to find out that nothing changed.
    """
    url = db.engine.url
    seen = _generation_seen.get(url)
    if seen is None or time.monotonic() - seen[1] > GENERATION_TTL_SECONDS:
        value = db.session.execute(select(Counter.value).where(Counter.name == REFERENCE_GENERATION)).scalar() or 0
        seen = _generation_seen[url] = ((url, value), time.monotonic())
        if _cached_generation[0] != seen[0]:
            # What was read for another version is never asked for again: let it go.
            _reference_cache.clear()
            _calendar_cache.clear()
            _cached_generation[0] = seen[0]
    return seen[0]


def reference_data():
    """The ports and the selectable transport modes, read again only after bump_reference_data()."""
    key = _generation()
    if key not in _reference_cache:
        ports = tuple(db.session.execute(select(Port.code, Port.name).order_by(Port.code)).tuples())
        modes = tuple(db.session.execute(
            select(TransportMode.code, TransportMode.name).where(TransportMode.selectable).order_by(TransportMode.code)
        ).tuples())
        english = {("port", code): name for code, name in db.session.execute(
            select(Port.code, Port.name_en).where(Port.name_en != "")).tuples()}
        english.update({("mode", code): name for code, name in db.session.execute(
            select(TransportMode.code, TransportMode.name_en).where(TransportMode.name_en != "")).tuples()})
        _reference_cache[key] = ReferenceData(ports, modes, english)
    return _reference_cache[key]


def site_settings():
    """The stored site settings by key, read again only after bump_reference_data()."""
    key = ("settings", _generation())
    if key not in _reference_cache:
        _reference_cache[key] = dict(db.session.execute(select(SiteSetting.key, SiteSetting.value)).tuples().all())
    return _reference_cache[key]


def bump_reference_data():
    """Tell every process that ports, transport modes or calendars changed (in the transaction that changed them)."""
    Counter.next(REFERENCE_GENERATION)
    _generation_seen.pop(db.engine.url, None)


class ApplicationSearch:
    """The select statements of one 预约通关查询: its rows (newest first) and its count."""

    def __init__(self, where, sort_after=False):
        newest_first = (Application.created_at.desc(), Application.id.desc())
        if sort_after:
            # OFFSET 0 fences the subquery: without it PostgreSQL walks the created_at index back from today
            # hoping to meet 20 matches soon, which an appointment range months ago makes a scan of a year.
            matches = select(Application.id).where(*where).offset(0).scalar_subquery()
            self.rows = select(Application).where(Application.id.in_(matches)).order_by(*newest_first)
        else:
            self.rows = select(Application).where(*where).order_by(*newest_first)
        # count(*), not count(id): PostgreSQL can then answer from the index alone.
        self.count = select(func.count()).select_from(Application).where(*where)


def _overdue(before):
    """SQL for R17's 通关完成未反馈: approved, no statement sent, starting before ``before`` (rules.overdue_before)."""
    # The status as a literal, so that ix_application_feedback_due serves it (FEEDBACK_DUE).
    return status_is(rules.APPROVED) & Application.statement_at.is_(None) & (Application.start < before)


def _status_condition(status, now):
    """SQL for a status as shown now: R17's 通关完成未反馈 is computed, never stored."""
    overdue = _overdue(rules.overdue_before(now))
    if status == rules.CLEARED_NO_FEEDBACK:
        return overdue
    if status == rules.APPROVED:
        return status_is(rules.APPROVED) & ~overdue
    return status_is(status)


def application_search(enterprise_id, category, status, pre_entry_number, dates, now):
    """Build the 预约通关查询 of an enterprise: as declarant (A) or consignee (B), with the form's filters."""
    if category == rules.QUERY_APPLICANT:
        where = [Application.declarant_id == enterprise_id]
    else:
        where = [Application.consignee_id == enterprise_id, ~status_is(*rules.DECLARANT_ONLY_STATUSES)]
    if status in rules.STATUS_LABELS:
        where.append(_status_condition(status, now))
    if pre_entry_number:
        where.append(Application.pre_entry_number == pre_entry_number.upper())
    ranges = {}
    for name, column in (("applied", Application.created_at), ("appointment", Application.start)):
        first, last = dates.get(f"{name}_from"), dates.get(f"{name}_to")
        if first and last:
            where += [column >= first, column < last + timedelta(days=1)]
            ranges[name] = True
    # Newest first walks the created_at index, which an applied range already narrows; an appointment
    # range alone does not, so its few matches are found first and sorted after.
    return ApplicationSearch(where, sort_after=ranges.get("appointment") and not ranges.get("applied"))


def deletable_drafts(enterprise_id, ids):
    """The applications among ``ids`` that this enterprise declared and that are still drafts (R15)."""
    found = db.session.execute(
        select(Application).where(
            Application.id.in_(ids), Application.declarant_id == enterprise_id, status_is(rules.DRAFT)
        )
    ).scalars().all()
    return [a for a in found if rules.can_delete(a.status)]


class AuditEntry(db.Model):
    """操作日志: one administrative change — who, when, what, and the values before and after (JSON text)."""

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime, nullable=False, index=True)
    user_id = db.Column(db.ForeignKey("user.id"), nullable=True)
    action = db.Column(db.String(64), nullable=False)
    target_type = db.Column(db.String(32), nullable=False, default="")
    target_id = db.Column(db.String(64), nullable=False, default="")
    port_code = db.Column(db.String(4), nullable=True, index=True)
    before = db.Column(db.Text, nullable=False, default="")
    after = db.Column(db.Text, nullable=False, default="")
    user = db.relationship(User, lazy="joined")  # every audit line names who


def audit(user, action, target_type="", target_id="", before=None, after=None, port_code=None):
    """Record an administrative change in the same transaction as the change itself."""
    import json

    def as_text(value):
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    db.session.add(AuditEntry(at=clock.now(), user_id=user.id if user else None, action=action,
                              target_type=target_type, target_id=str(target_id), port_code=port_code,
                              before=as_text(before), after=as_text(after)))


class StatusCount(db.Model):
    """How many applications (drafts aside) each pair of ports holds in each stored status, online and on paper.

    Kept by database triggers (migration cust0002) in the transaction of every insert, status change and delete,
    whichever code or tool makes it, so the review queue counts a port's million applications from a few rows.
    A later migration that rebuilds the application table on SQLite (alembic's batch mode) drops those triggers
    and must create them again (tests/test_review_queue_scale.py fails otherwise).
    """

    declaration_port = db.Column(db.String(4), primary_key=True)
    entry_port = db.Column(db.String(4), primary_key=True)
    status = db.Column(db.String(24), primary_key=True)
    paper = db.Column(db.Boolean, primary_key=True)
    n = db.Column(db.BigInteger, nullable=False, default=0)


class PortCapacity(db.Model):
    """R24: how many appointments one hour at a port can take; no row (or no number) is unlimited."""

    port_code = db.Column(db.ForeignKey("port.code", ondelete="CASCADE"), primary_key=True)
    per_hour = db.Column(db.Integer, nullable=True)
    updated_at = db.Column(db.DateTime, nullable=False)


def hour_load(ports, start, statuses=rules.HOLDING_STATUSES, exclude_id=None, days=rules.LOAD_VIEW_DAYS, lock=True):
    """rules.HourLoad of these ports from the window's first hour to ``days`` later (R24).

    With ``lock``, the limited ports' capacity rows stay locked to the end of the transaction (PostgreSQL's
    FOR UPDATE; SQLite's BEGIN IMMEDIATE already serialises writers), so two requests racing for the last place
    count one after the other and exactly one of them takes it.
    """
    ports = sorted({p for p in ports if p})
    # A start no calendar covers is refused by R13 anyway; counting around it could pass the calendar's end.
    if not ports or start is None or not 2000 <= start.year <= 9000:
        return rules.HourLoad({}, {})
    limits = dict(plain_rows(_CAPACITIES[lock], {"ports": ports}).all())
    if not limits:
        return rules.HourLoad({}, {})
    first = start.replace(minute=0, second=0, microsecond=0) - rules.WINDOW
    last = first + timedelta(days=days, hours=6)
    return rules.HourLoad(limits, _taken(list(limits), first, last, statuses, exclude_id))


def _capacities():
    # Built once (every submit counts): the limited ones among some ports, and the same locking their rows.
    statement = select(PortCapacity.port_code, PortCapacity.per_hour).where(
        PortCapacity.port_code.in_(bindparam("ports", expanding=True)), PortCapacity.per_hour.isnot(None),
    ).order_by(PortCapacity.port_code)
    return {False: statement, True: statement.with_for_update()}


_CAPACITIES = _capacities()


def _taken(ports, first, last, statuses, exclude_id=None):
    """Places taken by (port, hour) between ``first`` and ``last`` by applications in ``statuses``."""
    rows = db.session.execute(
        select(Application.declaration_port, Application.entry_port, Application.start, Application.end).where(
            status_is(*statuses), Application.start < last, Application.end > first,
            or_(Application.declaration_port.in_(ports), Application.entry_port.in_(ports)),
            Application.id != (exclude_id or 0))
    ).all()
    taken = {}
    for declaration_port, entry_port, start, end in rows:
        for port in {declaration_port, entry_port} & set(ports):
            for hour in rules.window_hours(start, end):
                taken[(port, hour)] = taken.get((port, hour), 0) + 1
    return taken


def port_capacities(ports):
    """Places per hour by port code (None: unlimited)."""
    rows = dict(db.session.execute(
        select(PortCapacity.port_code, PortCapacity.per_hour).where(PortCapacity.port_code.in_(ports))).all())
    return {code: rows.get(code) for code in ports}


def public_load(port_code, first_day):
    """rules.HourLoad of one port for the load view's days, without locking anything."""
    limits = {k: v for k, v in port_capacities([port_code]).items() if v is not None}
    if not limits:
        return rules.HourLoad({}, {})
    first = datetime.combine(first_day, datetime.min.time())
    return rules.HourLoad(limits, _taken([port_code], first - rules.WINDOW,
                                         first + timedelta(days=rules.LOAD_VIEW_DAYS), rules.HOLDING_STATUSES))


# The review queue (预约审核).

QUEUE_ACTION = "action"
QUEUE_SORTS = {
    "submitted": (Application.submitted_at, Application.id),
    "start": (Application.start, Application.id),
}
RECENT_CANCELLATIONS = timedelta(days=1)


def officer_ports_condition(ports):
    """Applications declared at, or entering through, one of these ports (rules.officer_may_see), never drafts."""
    return and_(~status_is(rules.DRAFT),
                or_(Application.declaration_port.in_(ports), Application.entry_port.in_(ports)))


def needs_action_conditions(now):
    """What an officer has to act on now, each with the index that finds it: 申报 to accept, 已受理 to decide,
    statements to read, tonight's approved appointments, cancellations of the last day."""
    today = datetime.combine(now.date(), datetime.min.time())
    return (
        (status_is(rules.SUBMITTED, rules.ACCEPTED), "ix_application_status_submitted"),
        (Application.statement_at.isnot(None) & Application.statement_read_at.is_(None),
         "ix_application_statement_unread"),
        (status_is(rules.APPROVED) & (Application.start >= today)
         & (Application.start < today + timedelta(days=1, hours=12)), "ix_application_status_start"),
        (status_is(rules.CANCELLED) & (Application.cancelled_at >= now - RECENT_CANCELLATIONS),
         "ix_application_cancelled_at"),
    )


def _party_ids(typed):
    """Enterprise ids whose name contains, or whose customs code or USCC is, what was typed."""
    typed = typed.strip()
    return select(Enterprise.id).where(or_(Enterprise.name.contains(typed, autoescape=True),
                                           Enterprise.customs_code == typed.upper(), Enterprise.uscc == typed.upper()))


# SQLite's planner weighs neither ORDER BY … LIMIT against the share of the table an officer's ports hold, nor a
# partial index behind an OR: each kind of search names its index there (PostgreSQL plans by its statistics).
PLANNER = "planner"
PAGE_INDEXES = {
    (True, "submitted"): "ix_application_status_submitted", (True, "start"): "ix_application_status_start",
    (False, "submitted"): "ix_application_submitted_ports", (False, "start"): "ix_application_start_ports",
}


def _indexed(statement, index):
    return statement if index in (None, PLANNER) else statement.with_hint(Application, f"INDEXED BY {index}", "sqlite")


class ReviewQueue:
    """The officer's queue as filtered: a page of rows sorted as asked, the number found, the counts by status."""

    def __init__(self, ports, filters, dates, now):
        if filters.get("port") in ports:
            ports = [filters["port"]]
        self.ports, self.now, self.status = ports, now, filters.get("status")
        self.sort = filters.get("sort") if filters.get("sort") in QUEUE_SORTS else "submitted"
        self.paper = {"paper": True, "online": False}.get(filters.get("channel"))
        self.overdue_only = bool(filters.get("overdue"))
        # What narrows the search beyond ports, status and channel (without it the counts come from StatusCount),
        # and the index that answers it: the narrowest condition given names it, so they come widest first.
        self.narrowing, self.index = [], None
        if dates.get("appointment_from"):
            self._narrow(Application.start >= dates["appointment_from"], "ix_application_start_ports")
        if dates.get("appointment_to"):
            self._narrow(Application.start < dates["appointment_to"] + timedelta(days=1), "ix_application_start_ports")
        if filters.get("overdue"):
            self._narrow(_status_condition(rules.CLEARED_NO_FEEDBACK, now), "ix_application_feedback_due")
        if filters.get("party"):
            parties = _party_ids(filters["party"])
            # Its applications as declarant and as consignee, each from its own index, then read by id.
            self._narrow(Application.id.in_(union(select(Application.id).where(Application.declarant_id.in_(parties)),
                                                  select(Application.id).where(Application.consignee_id.in_(parties)))),
                         PLANNER)
        if filters.get("statement"):
            self._narrow(Application.statement_at.isnot(None) & Application.statement_read_at.is_(None),
                         "ix_application_statement_unread")
        if filters.get("pre_entry_number"):
            self._narrow(Application.pre_entry_number == filters["pre_entry_number"].strip().upper(), PLANNER)
        self._counts = self._action = None

    def _narrow(self, condition, index):
        self.narrowing.append(condition)
        self.index = index

    def _where(self, *conditions):
        channel = () if self.paper is None else (Application.paper if self.paper else ~Application.paper,)
        return and_(officer_ports_condition(self.ports), *channel, *self.narrowing, *conditions)

    def _sorted_ids(self, found):
        """The ids of a search (a subquery of id, submitted_at, start), in the queue's order."""
        found = found.subquery()
        order = {"submitted": found.c.submitted_at, "start": found.c.start}[self.sort]
        return select(found.c.id).order_by(order, found.c.id)

    def _action_ids(self):
        """The ids of the opening view (what needs action now), sorted; taken once, a few thousand at most."""
        if self._action is None:
            # One indexed lookup per kind of action, joined: an OR of them would read every application of the
            # ports. Each lookup carries its sort keys, so the sort reads no application.
            found = union(*(_indexed(select(Application.id, Application.submitted_at, Application.start)
                                     .where(self._where(condition)), self.index or index)
                            for condition, index in needs_action_conditions(self.now)))
            self._action = db.session.execute(self._sorted_ids(found)).scalars().all()
        return self._action

    def page(self, number, size):
        """The applications of one page, sorted."""
        first = (number - 1) * size
        stored = self.status in rules.STATUS_LABELS
        where = self._where(_status_condition(self.status, self.now)) if stored else self._where()
        index = self.index or ("ix_application_paper" if self.paper else
                               "ix_application_feedback_due" if self.status == rules.CLEARED_NO_FEEDBACK else
                               PAGE_INDEXES[stored, self.sort])
        if self.status == QUEUE_ACTION:
            ids = self._action_ids()[first:first + size]
        elif self.narrowing or self.paper or self.status == rules.CLEARED_NO_FEEDBACK:
            # A narrow search: its ids and sort keys first, from its index, then one page of them sorted. Asked for
            # the page at once, PostgreSQL walks the whole submitted_at index hoping to meet the few soon (OFFSET 0
            # keeps the search apart, as in ApplicationSearch).
            found = _indexed(select(Application.id, Application.submitted_at, Application.start).where(where),
                             index).offset(0)
            ids = db.session.execute(self._sorted_ids(found).limit(size).offset(first)).scalars().all()
        else:
            ids = None  # most of the ports' applications: read in order from the index, filtered as they come
        rows = (_indexed(select(Application).where(where), index).limit(size).offset(first) if ids is None
                else select(Application).where(Application.id.in_(ids)))
        rows = rows.order_by(*QUEUE_SORTS[self.sort]).options(selectinload(Application.declarant),
                                                              selectinload(Application.consignee))
        return db.session.execute(rows).scalars().all()

    def counts(self):
        """How many applications the filters find in each status as shown (R17's 通关完成未反馈 apart)."""
        if self._counts is not None:
            return self._counts
        if self.overdue_only:
            # Every application an overdue search finds is 预约成功 and overdue: one count from its index.
            overdue = db.session.execute(_indexed(select(func.count()).select_from(Application)
                                                  .where(self._where()), self.index)).scalar()
            counts = {rules.APPROVED: overdue}
        else:
            if self.narrowing:
                stored = _indexed(select(Application.status, func.count()).where(self._where())
                                  .group_by(Application.status), self.index)
            else:
                counted = or_(StatusCount.declaration_port.in_(self.ports), StatusCount.entry_port.in_(self.ports))
                channel = () if self.paper is None else (StatusCount.paper.is_(self.paper),)
                stored = (select(StatusCount.status, func.sum(StatusCount.n)).where(counted, *channel)
                          .group_by(StatusCount.status))
            counts = {status: int(number) for status, number in db.session.execute(stored).all()}
            # Overdue feedback is a matter of the clock, never stored: counted apart and taken from 预约成功.
            overdue = db.session.execute(_indexed(select(func.count()).select_from(Application).where(
                self._where(_status_condition(rules.CLEARED_NO_FEEDBACK, self.now))),
                # An appointment range reads its few overdue ones from the feedback index (it has start).
                "ix_application_feedback_due" if self.index in (None, "ix_application_start_ports") else self.index)
            ).scalar()
        counts[rules.APPROVED] = counts.get(rules.APPROVED, 0) - overdue
        counts[rules.CLEARED_NO_FEEDBACK] = overdue
        self._counts = {status: number for status, number in counts.items() if number}
        return self._counts

    def total(self):
        """How many applications the whole search finds (every page)."""
        if self.status == QUEUE_ACTION:
            return len(self._action_ids())
        if self.status in rules.STATUS_LABELS:
            return self.counts().get(self.status, 0)
        return sum(self.counts().values())


def obligations(ports, now):
    """R25 lists: approved appointments with numbers due or overdue, approved-then-cancelled ones with a statement due."""
    mine = officer_ports_condition(ports)
    feedback = select(Application).where(
        mine, status_is(rules.APPROVED), Application.statement_at.is_(None), Application.start <= now,
    ).order_by(Application.start, Application.id)
    statements = select(Application).where(
        mine, status_is(rules.CANCELLED), Application.approved_at.isnot(None),
        Application.statement_at.is_(None),
    ).order_by(Application.cancelled_at, Application.id)
    return db.session.execute(feedback).scalars().all(), db.session.execute(statements).scalars().all()


def statistics_rows(ports, year):
    """Every submitted application declared at these ports in that year: the facts the statistics count."""
    first = datetime(year, 1, 1)
    return db.session.execute(
        select(Application.declaration_port, Application.submitted_at, Application.accepted_at,
               Application.approved_at, Application.cancelled_at, Application.status, Application.start,
               Application.statement_at, Application.paper)
        .where(Application.declaration_port.in_(ports), Application.submitted_at >= first,
               Application.submitted_at < datetime(year + 1, 1, 1))
    ).all()


def enter_paper_application(declarant, consignee, data, officer, paper, at):
    """A paper application as the officer enters it: numbered, 申报 at once, the officer named in its trail."""
    application = Application.start_new(declarant, officer, at)
    application.write_draft(data, consignee, at)
    application.paper = True
    application.paper_reference = paper["reference"]
    application.paper_received_on = paper["received_on"]
    application.exception_reason = paper["exception_reason"]
    # 提交 is the enterprise's move (rules.TRANSITIONS); on paper the enterprise made it by handing in the form.
    change = rules.TRANSITIONS[(rules.DRAFT, rules.SUBMITTED)]
    for stamp in change.stamps:
        setattr(application, stamp, at)
    application.application_number = application.pre_entry_number
    application.record(officer, paper["note"], at, rules.SUBMITTED)
    application.status = rules.SUBMITTED
    db.session.flush()
    status_changed(application, rules.DRAFT, officer, at)  # the one status change that does not go through move
    audit(officer, "paper_application", "application", application.pre_entry_number,
          after={"reference": paper["reference"], "received_on": paper["received_on"],
                 "exception_reason": paper["exception_reason"], "waived": paper["waived"]},
          port_code=application.declaration_port)
    return application


# Brokers' systems (issue 13): API keys, idempotent retries, the outbox, webhooks, in-site notices.

class ApiKey(db.Model):
    """An enterprise operator's API key: it acts as its user. Only a SHA-256 of the key is kept, and its prefix to show."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(100), nullable=False)
    prefix = db.Column(db.String(16), nullable=False)
    key_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False)
    last_used_at = db.Column(db.DateTime, nullable=True)
    revoked_at = db.Column(db.DateTime, nullable=True)
    user = db.relationship(User, lazy="joined")


class IdempotentResponse(db.Model):
    """The response once given to a create or submit that carried an Idempotency-Key, replayed on a retry."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(200), nullable=False)
    request = db.Column(db.String(200), nullable=False)
    status = db.Column(db.Integer, nullable=False)
    body = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotent_response_user_key"),)


class Webhook(db.Model):
    """A URL of an enterprise that receives its applications' status changes, signed with its secret."""

    id = db.Column(db.Integer, primary_key=True)
    enterprise_id = db.Column(db.ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=False, index=True)
    url = db.Column(db.String(500), nullable=False)
    secret = db.Column(db.String(100), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False)
    disabled_at = db.Column(db.DateTime, nullable=True)


class Outbox(db.Model):
    """A message to deliver (a webhook call or an e-mail), written in the transaction of the change that causes it."""

    KIND_WEBHOOK, KIND_EMAIL = "webhook", "email"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    event_id = db.Column(db.String(40), nullable=False)
    event = db.Column(db.String(64), nullable=False)
    enterprise_id = db.Column(db.ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=True, index=True)
    webhook_id = db.Column(db.ForeignKey("webhook.id", ondelete="SET NULL"), nullable=True)
    target = db.Column(db.String(500), nullable=False)
    payload = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime, nullable=False)
    delivered_at = db.Column(db.DateTime, nullable=True)
    last_error = db.Column(db.Text, nullable=False, default="")
    __table_args__ = (Index("ix_outbox_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),)


class Notice(db.Model):
    """An in-site notice to an enterprise, also sent by e-mail when it gave an address: a status change of one of
    its applications. Kept as facts (number, statuses), worded in the reader's language when shown."""

    id = db.Column(db.Integer, primary_key=True)
    enterprise_id = db.Column(db.ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=False)
    application_id = db.Column(db.ForeignKey("application.id", ondelete="CASCADE"), nullable=True)
    pre_entry_number = db.Column(db.String(18), nullable=False)
    from_status = db.Column(db.String(24), nullable=True)
    to_status = db.Column(db.String(24), nullable=False)
    note = db.Column(db.Text, nullable=False, default="")
    # The status change's note when the system wrote it (StatusChange.note_key), worded when shown.
    note_key = db.Column(db.String(32), nullable=True)
    note_params = db.Column(db.JSON, nullable=True)
    created_at = db.Column(db.DateTime, nullable=False)
    read_at = db.Column(db.DateTime, nullable=True)
    application = db.relationship(Application)
    __table_args__ = (Index("ix_notice_enterprise_id_created_at", "enterprise_id", "created_at"),)

    @property
    def message(self):
        return rules.stored_note(self.note_key, self.note_params)

    @classmethod
    def added(cls, enterprise_id, count=1):
        """Count notices just added for an enterprise as unread (in the same transaction as the notices)."""
        # One UPDATE … SET n = n + k: two transactions adding notices at once both count, whatever they read before.
        # On the connection, as a statement built once: the ORM's UPDATE would first flush everything pending (the
        # commit does that anyway) and then mend the objects in memory, together a sixth of a submit.
        db.session.connection().execute(_COUNT_UNREAD, {"enterprise": enterprise_id, "count": count})

    @classmethod
    def mark_read(cls, enterprise_id, at, notice_id=None):
        """Mark one of an enterprise's notices (or, without ``notice_id``, all of them) read; return how many were
        unread until now, which the enterprise's unread count loses."""
        which = [cls.enterprise_id == enterprise_id, cls.read_at.is_(None)]
        if notice_id is not None:
            which.append(cls.id == notice_id)
        marked = db.session.execute(update(cls).where(*which).values(read_at=at)
                                    .execution_options(synchronize_session=False)).rowcount
        if marked:
            left = Enterprise.unread_notices - marked
            db.session.execute(update(Enterprise).where(Enterprise.id == enterprise_id)
                               .values(unread_notices=case((left > 0, left), else_=0)))
        return marked


_COUNT_UNREAD = update(Enterprise).where(Enterprise.id == bindparam("enterprise")).values(
    unread_notices=Enterprise.unread_notices + bindparam("count"))


class NoticeAddress(db.Model):
    """Where an enterprise's notices are also e-mailed (its contact's address)."""

    enterprise_id = db.Column(db.ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True)
    email = db.Column(db.String(254), nullable=False)
    updated_at = db.Column(db.DateTime, nullable=False)
