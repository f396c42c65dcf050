"""The JSON API under /api/v1, for brokers' systems: the screens' rules and refusals, over JSON.

Every route is declared once with ``api_route``: that registers the Flask view, parses its body and query with
the api_schemas models, dumps its answer through its response model, and adds it to the OpenAPI document
(``/api/v1/openapi.json``), so the document describes exactly what the code does.

Authentication: ``Authorization: Bearer <API key>`` (the key acts as the operator who created it), or the
browser's own session; CSRF is waived only for Bearer requests (a cookie session still needs its token).
Each write runs in one transaction committed by ``api_route``, after its Idempotency-Key's response is stored
with it, so a retried create or submit is answered from the stored response and never acts twice.

The views reuse the screens' code: the same form (ApplicationForm, filled from the JSON), ApplicationPage,
rules.validate_draft / rules.check_submission with models.submission_context, Application.write_draft and
Application.move, blueprints.query's filters, and apply's refusals.
"""
import json
from functools import wraps

from flask import Blueprint, Response, g, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

import api_schemas as schemas
import clock
import outbox
import rules
from application_page import ApplicationPage
from blueprints import apply
from blueprints import query as query_screen
from blueprints.api_keys import key_user
from extensions import csrf, db, login_manager
from forms import ApplicationForm, column_length
from models import (ROLE_ENTERPRISE, Attachment, CalendarYear, DeclarationNumber, IdempotentResponse, Port, Timetable,
                    WorkingDay, feedback_refusals, hs_lines, port_calendars, port_capacities, public_load,
                    reference_data, submission_context)
from uploads import attach, check_uploads, uploaded_files
from web import parse_dates, say

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ROUTES = []
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
LANGUAGES = ("zh_CN", "en")
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200
# The form's plain fields, as api_schemas.Draft names them.
FORM_FIELDS = ("consignee_code", "contact_name", "contact_mobile", "declaration_port", "entry_port", "transport_mode",
               "start_date", "start_hour", "reason_category", "reason_text", "direction")


class ApiError(Exception):
    """A refused request: its HTTP status and the refusals (rules.Refusal) to explain it."""

    def __init__(self, status, refusals):
        super().__init__(status)
        self.status, self.refusals = status, list(refusals)


def refusal(text, code, field=None, **params):
    return rules.Refusal(text=text, code=code, field=field, params=params)


def refused(status, refusals):
    """The JSON of refusals, each with its code, field and message in the asked language."""
    body = schemas.Refusals(errors=[schemas.Refusal(code=r.code, field=r.field, message=say(r)) for r in refusals])
    return Response(body.model_dump_json(), status, mimetype="application/json")


def asked_language():
    """zh_CN or en from Accept-Language (Chinese unless English is preferred)."""
    best = request.accept_languages.best_match(("zh", "zh-CN", "en"), default="zh")
    return "en" if best.startswith("en") else "zh_CN"


@bp.before_request
def authenticate():
    """A Bearer key acts as its user; a cookie session passes CSRF first; anyone else is refused."""
    g.api_language = asked_language()
    if request.endpoint == "api.openapi":
        return None
    with force_locale(g.api_language):
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, key = header.partition(" ")
            user = key_user(key.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                return refused(401, [refusal(rules.N_("API密钥无效或已吊销，请在“API密钥”页面创建新密钥。"), "auth.key")])
            # For this request only (flask-login's own request-loader step): no session is written, no cookie set.
            login_manager._update_request_context_with_user(user)
        elif current_user.is_authenticated:
            if request.method not in SAFE_METHODS:
                csrf.protect()
        else:
            return refused(401, [refusal(rules.N_("请在请求头 Authorization: Bearer 中提供API密钥。"), "auth.missing")])
        if current_user.role != ROLE_ENTERPRISE or current_user.must_change_password:
            return refused(403, [refusal(rules.N_("该接口仅供企业操作员使用。"), "auth.role")])
    return None


@bp.errorhandler(ApiError)
def api_error(error):
    db.session.rollback()
    with force_locale(getattr(g, "api_language", "zh_CN")):
        return refused(error.status, error.refusals)


def http_error(error):
    db.session.rollback()
    messages = {
        404: (rules.N_("未找到该申请，或无权查看。"), "not_found"),
        403: (rules.N_("无权进行此操作。"), "forbidden"),
        400: (rules.N_("请求格式不正确（例如缺少CSRF令牌）。"), "bad_request"),
    }
    text, code = messages.get(error.code, (rules.N_("请求格式不正确（例如缺少CSRF令牌）。"), f"http.{error.code}"))
    with force_locale(getattr(g, "api_language", "zh_CN")):
        return refused(error.code, [refusal(text, code)])


# By code: the site's own 404/403 pages are registered by code, and a code's handler is found before a class's.
for _code in (400, 403, 404, 405, 413):
    bp.register_error_handler(_code, http_error)


def validation_refusals(error, where):
    """pydantic's complaints as refusals: one per field, code invalid.<field>."""
    refusals = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or where
        refusals.append(refusal(rules.N_("%(field)s 不符合接口说明：%(reason)s"), f"invalid.{field.split('.')[0]}", field,
                                field=field, reason=item["msg"]))
    return refusals


def parse(model, values, where):
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ApiError(422, validation_refusals(error, where)) from None


def api_route(path, method, *, summary, response, body=None, query_model=None, status=200, errors=(),
              idempotent=False, public=False, tag="applications", multipart=None):
    """Declare one operation: the Flask route, its parsing, its answer and its entry in the OpenAPI document."""
    flask_path = path.replace("{application_id}", "<int:application_id>")

    def decorator(view):
        ROUTES.append({"path": path, "method": method.lower(), "summary": summary, "doc": (view.__doc__ or "").strip(),
                       "response": response, "body": body, "query": query_model, "status": status,
                       "errors": sorted(set(errors) | ({422} if body or query_model else set()) | (set() if public else {401, 403})),
                       "idempotent": idempotent, "public": public, "tag": tag, "name": view.__name__,
                       "multipart": multipart})

        @wraps(view)
        def wrapped(**kwargs):
            with force_locale(g.api_language):
                if body is not None:
                    payload = request.get_json(silent=True)
                    kwargs["body"] = parse(body, payload if isinstance(payload, dict) else None, "body")
                if query_model is not None:
                    kwargs["query"] = parse(query_model, request.args.to_dict(), "query")
                if method in SAFE_METHODS:
                    return answer(view(**kwargs), status)
                return write(view, kwargs, status, idempotent)

        bp.add_url_rule(flask_path, view.__name__, wrapped, methods=[method])
        return wrapped

    return decorator


def answer(result, status):
    return Response(result.model_dump_json(), status, mimetype="application/json")


def write(view, kwargs, status, idempotent):
    """Run a writing view in one transaction, storing its answer under the Idempotency-Key if one was sent."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip() if idempotent else ""
    scope = f"{request.method} {request.path}"
    if key:
        if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
            raise ApiError(422, [refusal(rules.N_("Idempotency-Key 应为不超过200个可打印字符。"), "idempotency.key")])
        stored = stored_response(key, scope)
        if stored is not None:
            return stored
    try:
        result = view(**kwargs)
        body = result.model_dump_json()
        if key:
            db.session.add(IdempotentResponse(user_id=current_user.id, key=key, request=scope, status=status, body=body,
                                              created_at=outbox.real_now()))  # kept by wall time, never frozen
        db.session.commit()
    except StaleDataError:
        raise ApiError(409, [rules.STALE_DRAFT]) from None
    except IntegrityError:
        # The same key, committed meanwhile by a concurrent retry: answer as it was answered.
        db.session.rollback()
        stored = stored_response(key, scope) if key else None
        if stored is None:
            raise
        return stored
    return Response(body, status, mimetype="application/json")


def stored_response(key, scope):
    row = db.session.execute(select(IdempotentResponse).where(IdempotentResponse.user_id == current_user.id,
                                                              IdempotentResponse.key == key)).scalar_one_or_none()
    if row is None:
        return None
    if row.request != scope:
        raise ApiError(422, [refusal(rules.N_("该 Idempotency-Key 已用于另一个请求（%(request)s），请为每个新请求使用新的键。"),
                                     "idempotency.reused", request=row.request)])
    response = Response(row.body, row.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


# What an application looks like through the API.

def as_schema(application):
    """The application as api_schemas.Application, with the actions the caller may take now."""
    a, now = application, clock.now()

    def party(enterprise):
        return enterprise and schemas.Party(customs_code=enterprise.customs_code, uscc=enterprise.uscc, name=enterprise.name)

    def at(moment):
        # Domain times are Shanghai wall times (clock.py); the document promises RFC 3339, offset included.
        return moment and moment.replace(tzinfo=clock.SHANGHAI)

    status = a.current_status
    actions = rules.allowed_actions(a.status, a.start, now, bool(a.approved_at), bool(a.statement_at),
                                    is_declarant=a.declarant_id == current_user.enterprise_id)
    return schemas.Application(
        id=a.id, pre_entry_number=a.pre_entry_number, application_number=a.application_number, status=status,
        status_label=gettext(rules.STATUS_LABELS.get(status, status)), declarant=party(a.declarant),
        consignee=party(a.consignee), consignee_code=a.consignee_code, contact_name=a.contact_name,
        contact_mobile=a.contact_mobile, declaration_port=a.declaration_port, entry_port=a.entry_port,
        transport_mode=a.transport_mode, start=at(a.start), end=at(a.end), reason_category=a.reason_category,
        reason_text=a.reason_text, direction=a.direction,
        goods=[schemas.GoodsRow(name=g.name, hs_code=g.hs_code) for g in a.goods],
        declaration_numbers=[n.number for n in a.declaration_numbers],
        attachments=[f.filename for f in a.supplements], created_at=at(a.created_at),
        submitted_at=at(a.submitted_at), accepted_at=at(a.accepted_at), approved_at=at(a.approved_at),
        cancelled_at=at(a.cancelled_at), return_reason=a.return_reason, statement_text=a.statement_text,
        statement_at=at(a.statement_at), version=a.version, actions=sorted(actions - {"new", "close"}),
    )


def draft_form(draft):
    """The application form filled from JSON, as if the browser had posted it (no CSRF: checked above)."""
    data = MultiDict({name: getattr(draft, name) for name in FORM_FIELDS})
    for i, row in enumerate(draft.goods):
        data[f"goods-{i}-name"], data[f"goods-{i}-hs_code"] = row.name, row.hs_code
    for i, number in enumerate(draft.declaration_numbers):
        data[f"declaration_numbers-{i}"] = number
    form = ApplicationForm(formdata=data, meta={"csrf": False})
    form.set_choices(reference_data())
    return form


def stored_form(application):
    form = ApplicationForm(formdata=None, meta={"csrf": False})
    form.set_choices(reference_data())
    form.load(application)
    return form


def not_a_draft():
    return refusal(rules.N_("该申请已申报，不能再修改。"), "not_draft")


def check_version(application, version):
    if version is not None and version != application.version:
        raise ApiError(409, [rules.STALE_DRAFT])


def checked_draft(form, page):
    """The form as rules.ApplicationInput, or ApiError with the refusals 暂存 gives (malformed first, then R3–R10)."""
    malformed = form.malformed()
    if malformed:
        raise ApiError(400, malformed)
    data = page.input_with(0)
    refusals = rules.validate_draft(data)
    if refusals:
        raise ApiError(400, refusals)
    return data


# The operations.

@api_route("/applications", "GET", summary="预约通关查询: list applications", response=schemas.ApplicationPage,
           query_model=schemas.ListQuery, errors=(400,))
def list_applications(query):
    """The query screen's filters and rules (R21, R22: each date range at most 15 days); newest first, 20 a page.
    With no dates and no category, today's applications."""
    args = request.args.to_dict()
    if not any(args.get(name) for name in ("applied_from", "applied_to", "appointment_from", "appointment_to")):
        args["applied_from"] = args["applied_to"] = clock.today().isoformat()  # the screen's default
    values = query_screen.read_filters({**args, "category": query.category})
    refusals, search = query_screen.checked_search(values)
    if refusals:
        raise ApiError(400, refusals)
    total = db.session.execute(search.count).scalar()
    pages = max((total + query_screen.PAGE_SIZE - 1) // query_screen.PAGE_SIZE, 1)
    page = min(query.page, pages)
    rows = db.session.execute(search.rows.limit(query_screen.PAGE_SIZE).offset((page - 1) * query_screen.PAGE_SIZE)).scalars()
    return schemas.ApplicationPage(items=[as_schema(a) for a in rows], total=total, page=page, pages=pages)



@api_route("/applications/{application_id}", "GET", summary="Read an application", response=schemas.Application,
           errors=(404,))
def read_application(application_id):
    """An application the caller's enterprise declared, or receives as consignee once submitted."""
    return as_schema(apply.load_application(application_id))


@api_route("/applications", "POST", summary="新增 and 暂存: create a draft", response=schemas.Application,
           body=schemas.Draft, status=201, errors=(400, 403), idempotent=True)
def create_application(body):
    """暂存 of a new application: R3–R6 for the declarant (403), then what a draft must hold (400). Send an
    Idempotency-Key so that a retry returns the same draft instead of a second one."""
    form = draft_form(body)
    page = ApplicationPage(form, None, current_user)
    if page.may_start:
        raise ApiError(403, page.may_start)
    data = checked_draft(form, page)
    return as_schema(apply.write_draft(page, data, []))


@api_route("/applications/{application_id}", "PUT", summary="暂存: update a draft", response=schemas.Application,
           body=schemas.DraftUpdate, errors=(400, 404, 409))
def update_application(application_id, body):
    """Replace a draft's fields; ``version`` must be the one read (409 if it changed meanwhile, or if it is no
    longer a draft)."""
    application = apply.load_application(application_id, write=True)
    if not rules.can_edit(application.status):
        raise ApiError(409, [not_a_draft()])
    check_version(application, body.version)
    form = draft_form(body)
    page = ApplicationPage(form, application, current_user)
    data = checked_draft(form, page)
    return as_schema(apply.write_draft(page, data, []))


@api_route("/applications/{application_id}/submit", "POST", summary="提交: submit a draft", response=schemas.Application,
           body=schemas.Version, errors=(400, 404, 409), idempotent=True)
def submit_application(application_id, body):
    """Every rule 提交 applies (R2–R14, R24), as on the screen; refused, the draft stays as it was."""
    application = apply.load_application(application_id, write=True)
    if not rules.can_edit(application.status):
        raise ApiError(409, [not_a_draft()])
    check_version(application, body.version)
    page = ApplicationPage(stored_form(application), application, current_user)
    refusals = rules.check_submission(page.data, submission_context(page.data, application.declarant_id, page.consignee))
    if refusals:
        raise ApiError(400, refusals)
    application.move(rules.SUBMITTED, current_user)
    db.session.flush()
    return as_schema(application)


@api_route("/applications/{application_id}/attachments", "POST", summary="上传PDF: add supplementary PDFs to a draft",
           response=schemas.Application, errors=(400, 404, 409, 413, 422), multipart={
               "type": "object", "required": ["attachments"],
               "properties": {"attachments": {"type": "array", "items": {"type": "string", "format": "binary"},
                                              "description": "One or more PDFs (R10)"},
                              "version": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}})
def add_attachments(application_id):
    """随附补充材料: each PDF checked as on the screen (R10: size, count, a readable PDF); all kept or none."""
    version = request.form.get("version", "").strip()
    if version and not (version.isascii() and version.isdigit() and len(version) < 11):
        raise ApiError(422, [refusal(rules.N_("%(field)s 不符合接口说明：%(reason)s"), "invalid.version", "version",
                                     field="version", reason="integer")])
    files = uploaded_files()
    if not files:
        raise ApiError(400, [refusal(rules.N_("请选择要上传的PDF文件。"), "upload.none", "attachments")])
    application = apply.load_application(application_id, write=True)
    if not rules.can_edit(application.status):
        raise ApiError(409, [not_a_draft()])
    accepted, refusals = check_uploads(files, len(application.supplements), rules.MAX_ATTACHMENTS, "attachments")
    if refusals:
        raise ApiError(400, refusals)
    # check_uploads ended the transaction while the PDFs were read: read the draft again, locked, and recount.
    application = apply.load_application(application_id, write=True)
    check_version(application, int(version) if version else None)
    too_many = rules.check_attachment_count(len(application.supplements), len(accepted), rules.MAX_ATTACHMENTS,
                                            field="attachments")
    if not rules.can_edit(application.status) or too_many:
        raise ApiError(409, [too_many or not_a_draft()])
    attach(application, accepted, Attachment.KIND_SUPPLEMENT)
    application.touch(clock.now())
    db.session.flush()
    return as_schema(application)


@api_route("/applications/{application_id}/cancel", "POST", summary="取消预约: cancel", response=schemas.Application,
           body=schemas.Cancel, errors=(400, 404, 409))
def cancel_application(application_id, body):
    """Cancel an accepted or approved appointment before its start (R16)."""
    application = apply.load_application(application_id, write=True)
    if not rules.can_cancel(application.current_status, application.start, clock.now()):
        raise ApiError(409, [refusal(rules.N_("只有“已受理”或“预约成功”且未到预约时间的申请可以取消预约。"), "R16.cancel")])
    note = body.note.strip()
    refusals = rules.check_note(note, "note", rules.N_("取消原因"))
    if refusals:
        raise ApiError(400, refusals)
    application.move(rules.CANCELLED, current_user, note=note)
    db.session.flush()
    return as_schema(application)


@api_route("/applications/{application_id}/feedback", "POST", summary="预约通关报关单号反馈",
           response=schemas.Application, body=schemas.Feedback, errors=(400, 404, 409))
def feed_back(application_id, body):
    """Feed back the declaration numbers of an approved appointment (R17, R19, R20): 通关完成."""
    application = apply.load_application(application_id, write=True)
    if not rules.can_feed_back(application.current_status):
        raise ApiError(409, [refusal(rules.N_("只有预约成功的申请可以反馈报关单号。"), "R17.not_approved")])
    numbers = [n.strip() for n in body.declaration_numbers if n.strip()]
    malformed = []
    for item, number in enumerate(numbers, 1):
        malformed += rules.check_typed_text(number, "declaration_numbers",
                                            rules.Message(text=rules.N_("第%(item)s个预约通关报关单号"), params={"item": item}),
                                            column_length(DeclarationNumber.number))
    if malformed:
        raise ApiError(400, malformed)
    refusals = feedback_refusals(application, numbers)
    if refusals:
        raise ApiError(400, refusals)
    application.replace_numbers(numbers)
    application.move(rules.CLEARED, current_user, note=", ".join(numbers))
    db.session.flush()
    return as_schema(application)


@api_route("/applications/{application_id}/statement", "POST", summary="情况说明: send the statement",
           response=schemas.Application, body=schemas.Statement, errors=(400, 404, 409))
def send_statement(application_id, body):
    """The situation statement, once, after approval (R18); text only through the API."""
    application = apply.load_application(application_id, write=True)
    if not rules.can_send_statement(application.current_status, application.approved_at is not None,
                                    application.statement_at is not None):
        raise ApiError(409, [refusal(rules.N_("情况说明只能在预约成功后发送一次；该申请现在不能发送情况说明。"), "R18.not_now")])
    text = body.text.strip()
    refusals = rules.check_statement_text(text)
    if refusals:
        raise ApiError(400, refusals)
    application.statement_text, application.statement_at = text, clock.now()
    application.record(current_user, rules.system_note("statement_sent"))
    db.session.flush()
    return as_schema(application)


@api_route("/hs", "GET", summary="商品归类表: HS codes under a prefix", response=schemas.HSLines,
           query_model=schemas.HSQuery, errors=(400,), tag="reference")
def hs_search(query):
    """The catalogue lines whose code starts with ``prefix`` (at least 4 digits), first 50."""
    prefix = rules.hs_prefix(query.prefix)
    if prefix is None:
        raise ApiError(400, [refusal(rules.N_("请至少输入商品HS编码的前%(digits)s位数字。"), "hs.prefix", "prefix",
                                     digits=rules.HS_PREFIX_DIGITS)])
    return schemas.HSLines(items=[schemas.HSLine(code=c, name=n, note=note) for c, n, note in hs_lines(prefix)])


@api_route("/port-hours", "GET", summary="口岸工作时间查询: working hours", response=schemas.WorkingDays,
           query_model=schemas.PortHoursQuery, errors=(400,), tag="reference")
def port_hours(query):
    """A port's (or every port's) working days between two dates, at most 15 days (R23)."""
    values = {"date_from": query.date_from, "date_to": query.date_to}
    dates, refusals = parse_dates(values, ("date_from", "date_to"))
    port_code = query.port_code.strip()
    refusals = rules.check_port_filter(port_code) + (refusals or rules.check_port_hours_range(dates["date_from"],
                                                                                               dates["date_to"]))
    if refusals:
        raise ApiError(400, refusals)
    rows = (select(WorkingDay, Port.name, CalendarYear.provisional).join(Port, Port.code == WorkingDay.port_code)
            .join(CalendarYear, (CalendarYear.port_code == WorkingDay.port_code)
                  & (CalendarYear.year == func.extract("year", WorkingDay.day)), isouter=True)
            .where(WorkingDay.day >= dates["date_from"], WorkingDay.day <= dates["date_to"])
            .order_by(WorkingDay.port_code, WorkingDay.day))
    if port_code:
        rows = rows.where(WorkingDay.port_code == port_code)
    return schemas.WorkingDays(items=[
        schemas.WorkingDay(port_code=day.port_code, port_name=name, day=day.day, opens=day.opens.strftime("%H:%M"),
                           closes=day.closes.strftime("%H:%M"), provisional=bool(provisional))
        for day, name, provisional in db.session.execute(rows).all()])


@api_route("/timetables", "GET", summary="口岸作业时间公示: operation timetables", response=schemas.Timetables,
           query_model=schemas.TimetableQuery, errors=(400,), tag="reference")
def timetables(query):
    """The published operation timetables of a port (or of every port)."""
    port_code = query.port_code.strip()
    refusals = rules.check_port_filter(port_code)
    if refusals:
        raise ApiError(400, refusals)
    rows = select(Timetable).order_by(Timetable.port_code, Timetable.direction.desc(), Timetable.id)
    if port_code:
        rows = rows.where(Timetable.port_code == port_code)
    return schemas.Timetables(items=[schemas.Timetable(
        port_code=t.port_code, mode=t.mode, direction=t.direction, title=t.title, columns=t.columns, phases=t.phases,
        notes=t.notes, totals=t.totals, total_caption=t.total_caption, publishers=t.publishers,
        published_on=t.published_on) for t in db.session.execute(rows).scalars()])


@api_route("/load", "GET", summary="预约负荷: a port's hours, free or full (R24)", response=schemas.Load,
           query_model=schemas.LoadQuery, errors=(400,), tag="reference")
def load(query):
    """The coming days of a port, hour by hour, as the public load view shows them."""
    port_code = query.port_code.strip()
    refusals = rules.check_port_filter(port_code) or ([] if port_code in reference_data().port_codes else [
        refusal(rules.N_("没有代码为 %(port)s 的口岸，请核对口岸代码。"), "unknown.port", "port_code", port=rules.shown(port_code))])
    if refusals:
        raise ApiError(400, refusals)
    today = clock.today()
    calendar = port_calendars([port_code])[port_code]
    return schemas.Load(port_code=port_code, per_hour=port_capacities([port_code])[port_code],
                        days=[schemas.LoadDay(day=day, hours=states)
                              for day, states in rules.load_view(calendar, public_load(port_code, today), today)])


# The document.

def _query_parameters(model):
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop,
             **({"description": prop["description"]} if "description" in prop else {})}
            for name, prop in schema["properties"].items()]


def _component_schemas():
    from pydantic.json_schema import models_json_schema

    models = {schemas.Refusals}
    for r in ROUTES:
        models |= {m for m in (r["response"], r["body"]) if m is not None}
    _, document = models_json_schema([(m, "serialization" if m in {r["response"] for r in ROUTES} | {schemas.Refusals}
                                       else "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                     ref_template="#/components/schemas/{model}")
    return document.get("$defs", {})


def openapi_document():
    """The OpenAPI 3.1 document of every api_route, from the same pydantic models that parse and answer."""
    paths = {}
    refusals = {"description": "Refused: each refusal's code, field and message (Accept-Language: zh or en)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refusals"}}}}
    for r in ROUTES:
        operation = {"operationId": r["name"], "summary": r["summary"], "description": r["doc"], "tags": [r["tag"]],
                     "parameters": [], "responses": {
                         str(r["status"]): {"description": "OK", "content": {"application/json": {
                             "schema": {"$ref": f"#/components/schemas/{r['response'].__name__}"}}}}}}
        if "{application_id}" in r["path"]:
            operation["parameters"].append({"name": "application_id", "in": "path", "required": True,
                                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}})
        if r["query"] is not None:
            operation["parameters"] += _query_parameters(r["query"])
        if r["idempotent"]:
            operation["parameters"].append({"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                                            "description": "A retry with the same key returns the first answer",
                                            "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY}})
        if r["body"] is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{r['body'].__name__}"}}}}
        if r["multipart"] is not None:
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": r["multipart"]}}}
        for code in r["errors"]:
            operation["responses"][str(code)] = refusals
        paths.setdefault(r["path"], {})[r["method"]] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "预约通关 API", "version": "1.0.0",
                 "description": "The same rules and refusals as the site's screens. Webhooks: every status change is "
                                "POSTed as JSON signed with `X-Yuyue-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
                                "\"<t>.<body>\" with the webhook's secret>`, event id in `X-Yuyue-Event-Id`."},
        "servers": [{"url": url_for("api.openapi", _external=False).rsplit("/", 1)[0]}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": _component_schemas(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "An API key from the API密钥 page"}}},
    }


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document (public)."""
    return Response(json.dumps(openapi_document(), ensure_ascii=False, indent=1), mimetype="application/json")
