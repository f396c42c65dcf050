"""预约申请: the application screen, its helpers (each with a no-JS twin), uploads, submit, cancel, feedback, statement."""
import hashlib

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

import clock
import rules
from extensions import db
from forms import ApplicationForm, StatementForm
from models import (
    ROLE_ENTERPRISE,
    Application,
    Attachment,
    DeclarationNumber,
    DeclarationRecord,
    Enterprise,
    GoodsItem,
    HSCode,
    Port,
    Timetable,
    TransportMode,
    calendars_around,
    has_unfed_back,
)
from web import errors_by_field, role_required, say, send_attachment

bp = Blueprint("apply", __name__, url_prefix="/apply")

HS_PICKER_LIMIT = 50


def load_application(application_id, write=False):
    """The application if the logged-in enterprise may see it (write: only its declarant); else 404."""
    application = db.session.get(Application, application_id)
    own = current_user.enterprise_id
    if application is None or own is None:
        abort(404)
    if application.declarant_id == own:
        return application
    if not write and application.consignee_id == own and application.status not in rules.DECLARANT_ONLY_STATUSES:
        return application
    abort(404)


def build_form(application=None):
    """The form bound to the request (POST) or filled from the stored application (GET)."""
    form = ApplicationForm()
    form.set_choices(
        db.session.execute(select(Port).order_by(Port.code)).scalars(),
        db.session.execute(select(TransportMode).where(TransportMode.selectable).order_by(TransportMode.code)).scalars(),
    )
    if request.method == "GET" and application is not None:
        form.load(application)
    return form


def application_input(form, application=None, adding_files=0):
    """What the form holds, as rules.ApplicationInput."""
    consignee = Enterprise.by_code(form.consignee_code.data)
    return rules.ApplicationInput(
        declarant=(application.declarant if application else current_user.enterprise).info(),
        consignee=consignee.info() if consignee else None,
        consignee_code=(form.consignee_code.data or "").strip().upper(),
        contact_name=(form.contact_name.data or "").strip(),
        contact_mobile=(form.contact_mobile.data or "").strip(),
        declaration_port=form.declaration_port.data or "",
        entry_port=form.entry_port.data or "",
        transport_mode=form.transport_mode.data or "",
        start=form.start(),
        reason_category=form.reason_category.data or "",
        reason_text=form.reason_text.data or "",
        direction=form.direction.data or "",
        goods=form.goods_rows(),
        declaration_numbers=[n for n in form.numbers() if n],
        attachment_count=len(application.supplements if application else []) + adding_files,
    )


def start_refusals(form):
    """A typed date that is not a date would otherwise vanish silently."""
    if (form.start_date.data or "").strip() and form.start() is None:
        return [rules.Refusal(text=rules.N_("预约通关时间 %(value)s 不是有效日期，请按 YYYY-MM-DD 填写。"),
                              params={"value": form.start_date.data}, code="invalid.start", field="start")]
    return []


def deadline_preview(data):
    """R12 shown beside the time as soon as the ports and the start are chosen: the deadline, or why there is none."""
    if not (data.start and data.declaration_port and data.entry_port):
        return None
    grade = rules.application_grade(data.declarant, data.consignee)
    if grade == rules.DISHONEST:
        return None
    calendars = calendars_around([data.declaration_port], data.start)
    result = rules.submission_deadline(
        data.start, calendars[data.declaration_port], data.declaration_port == data.entry_port, grade
    )
    if isinstance(result, rules.Refusal):
        return {"refusal": say(result)}
    late = rules.check_deadline(data.start, clock.now(), calendars[data.declaration_port],
                                data.declaration_port == data.entry_port, grade)
    return {
        "explain": say(result.explain()),
        "provisional": say(rules.PROVISIONAL_NOTE) if result.provisional else None,
        "late": bool(late),
    }


def known_hs_codes(codes):
    """Which of these HS codes the catalogue has (rules.py checks each row against them)."""
    codes = {c for c in codes if rules.is_hs_code(c)}
    if not codes:
        return set()
    return set(db.session.execute(select(HSCode.code).where(HSCode.code.in_(codes))).scalars())


def hs_matches(prefix):
    """The catalogue lines under an HS prefix of 4+ digits, for the 商品列表 picker."""
    prefix = (prefix or "").strip()
    if len(prefix) < 4 or not prefix.isdigit():
        return None
    return db.session.execute(
        select(HSCode).where(HSCode.code.startswith(prefix)).order_by(HSCode.code).limit(HS_PICKER_LIMIT)
    ).scalars().all()


def run_helper(form, action):
    """Apply a helper action (add/delete/copy a row, pick an HS code ...) to the unsaved form; return refusals."""
    name, _, index = action.partition(":")
    goods, numbers = form.goods_rows(), form.numbers()
    if name == "add_goods":
        row = rules.GoodsItem(name=(form.new_goods_name.data or "").strip(), hs_code=(form.new_hs_code.data or "").strip())
        refusals = rules.check_goods_row(row, goods, known_hs_codes([row.hs_code]))
        if refusals:
            return refusals
        form.replace_goods(goods + [row])
        form.new_goods_name.data = form.new_hs_code.data = ""
    elif name in ("delete_goods", "copy_goods") and index.isdigit() and int(index) < len(goods):
        i = int(index)
        form.replace_goods(goods[:i] + goods[i + 1:] if name == "delete_goods" else goods[: i + 1] + [goods[i]] + goods[i + 1:])
    elif name == "hs_pick":
        line = db.session.get(HSCode, form.hs_choice.data or "")
        if line is None:
            return [rules.Refusal(text=rules.N_("请先在商品列表中选择一个商品。"), code="hs.none_chosen", field="goods")]
        form.new_hs_code.data, form.new_goods_name.data = line.code, line.name
    elif name == "add_number":
        number = (form.new_declaration_number.data or "").strip()
        refusals = rules.check_number_entry(number, numbers)
        if refusals:
            return refusals
        form.replace_numbers(numbers + [number])
        form.new_declaration_number.data = ""
    elif name == "delete_number" and index.isdigit() and int(index) < len(numbers):
        form.replace_numbers(numbers[: int(index)] + numbers[int(index) + 1:])
    return []


def render_form(form, application=None, refusals=(), status=200, focus=None, statement_form=None):
    """The application page with every typed value and every problem (htmx selects the part it redraws)."""
    data = application_input(form, application)
    now = clock.now()
    shown = application.shown_status if application else None
    owner = application is None or application.declarant_id == current_user.enterprise_id
    editable = owner and (application is None or rules.can_edit(application.status))
    actions = rules.allowed_actions(
        application.status if application else None,
        application.start if application else None,
        now,
        bool(application and application.approved_at),
        bool(application and application.statement_at),
        is_declarant=owner,
        may_start=application is not None or not start_refused(),
    )
    form_url = url_for("apply.edit", application_id=application.id) if application else url_for("apply.new")
    context = dict(
        form=form,
        application=application,
        shown_status=shown,
        editable=editable,
        actions=actions,
        errors=errors_by_field(list(refusals)),
        consignee=data.consignee,
        end=rules.appointment_end(data.start) if data.start else None,
        consignee_unknown=rules.is_enterprise_code(data.consignee_code) and data.consignee is None,
        deadline=deadline_preview(data),
        hs_list=hs_matches(form.new_hs_code.data),
        reason_bytes=rules.byte_length(form.reason_text.data or ""),
        timetable=timetable_for(application),
        statement_form=statement_form or StatementForm(formdata=None),
        form_url=form_url,
        owner=owner,
        # After approval the number list lives in its own form that posts to 反馈.
        numbers_url=url_for("apply.feedback", application_id=application.id) if not editable and "feedback" in actions else form_url,
        focus=focus,
    )
    # One page answers both: htmx picks the redrawn block out of it with hx-select, so its markup exists once.
    response = make_response(render_template("apply/form.html", **context), status)
    response.vary.add("HX-Request")
    return response


def timetable_for(application):
    """The entry port's published timetable for this mode and direction, shown once submitted."""
    if application is None or application.status == rules.DRAFT:
        return None
    key = rules.timetable_key(application.transport_mode, application.direction)
    if key is None or not application.entry_port:
        return None
    mode, direction = key
    return db.session.execute(
        select(Timetable).where(
            Timetable.port_code == application.entry_port, Timetable.mode == mode, Timetable.direction == direction
        )
    ).scalar_one_or_none()


def start_refused():
    """R3–R6 for the logged-in enterprise alone (新增 before any consignee is typed)."""
    enterprise = current_user.enterprise
    return rules.eligibility_to_start(enterprise.info(), None, has_unfed_back(enterprise.id), False)


@bp.route("/new", methods=["GET", "POST"])
@role_required(ROLE_ENTERPRISE)
def new():
    """新增: a blank application; saving it (暂存) gives it its YTG pre-entry number."""
    form = build_form()
    if request.method == "GET":
        refusals = start_refused()
        return render_form(form, refusals=refusals, status=403 if refusals else 200)
    return handle_post(form, None)


@bp.route("/<int:application_id>", methods=["GET", "POST"])
@role_required(ROLE_ENTERPRISE)
def edit(application_id):
    """An application: editable while 暂存 for its declarant, read-only for its consignee."""
    application = load_application(application_id, write=request.method == "POST")
    form = build_form(application)
    if request.method == "GET":
        return render_form(form, application)
    return handle_post(form, application)


def handle_post(form, application):
    """Route a POST of the form to a helper, 暂存/上传PDF or 提交."""
    action = request.form.get("action", "refresh")
    if action in ("save", "upload", "submit"):
        if application is not None and not rules.can_edit(application.status):
            flash(gettext("该申请已申报，不能再修改。"), "error")
            return redirect(url_for("apply.edit", application_id=application.id), code=303)
        return save(form, application, submit=action == "submit")
    if action.startswith("delete_file:"):
        return delete_file(form, application, action.partition(":")[2])
    refusals = run_helper(form, action) + files_not_kept([f.filename for f in uploaded_files()])
    focus = {"add_goods": "new_hs_code", "hs_pick": "new_goods_name", "add_number": "new_declaration_number"}.get(action.partition(":")[0])
    return render_form(form, application, refusals, status=400 if refusals else 200, focus=focus)


def uploaded_files(field_name="attachments"):
    """The non-empty files of a multiple file input."""
    return [f for f in request.files.getlist(field_name) if f and f.filename]


def check_uploads(files, existing, limit, field):
    """R10 for each uploaded file: return (accepted (name, bytes) pairs, refusals naming each refused file)."""
    accepted, refusals = [], []
    too_many = rules.check_attachment_count(existing, len(files), limit, field=field)
    if too_many:
        return [], [too_many]
    for upload in files:
        content = upload.read(rules.MAX_PDF_BYTES + 1)
        refusal = rules.check_pdf(upload.filename, content, field=field)
        if refusal:
            refusals.append(refusal)
        else:
            accepted.append((upload.filename, content))
    return accepted, refusals


def attach(application, files, kind):
    now = clock.now()
    for filename, content in files:
        application.attachments.append(
            Attachment(kind=kind, filename=filename, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                       uploaded_at=now, data=content)
        )


def save(form, application, submit):
    """暂存 (and the save before 提交): check, write, keep accepted uploads, then submit if asked."""
    refusals = start_refusals(form)
    if application is None:
        refusals += start_refused()
    files = uploaded_files()
    accepted, upload_refusals = check_uploads(
        files, len(application.supplements) if application else 0, rules.MAX_ATTACHMENTS, "attachments"
    )
    data = application_input(form, application, len(accepted))
    refusals += rules.validate_draft(data)
    if application is not None and form.version.data != str(application.version):
        refusals.append(stale_refusal())
    if refusals:
        if submit:
            # 提交 shows every problem at once, not only those that stop a draft.
            refusals = rules.dedupe(refusals + submission_refusals(data, current_user.enterprise))
        # Nothing is written, so the refused save loses nothing that was stored; the form keeps what was typed.
        return render_form(form, application, refusals + upload_refusals + files_not_kept([name for name, _ in accepted]), status=400)

    now = clock.now()
    if application is None:
        application = Application.start_new(current_user.enterprise, current_user, now)
    write_fields(application, data, now)
    attach(application, accepted, Attachment.KIND_SUPPLEMENT)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        return render_form(form, None if application.id is None else db.session.get(Application, application.id),
                           [stale_refusal()], status=409)

    if submit and not upload_refusals:
        submit_refusals = submission_refusals(data, application.declarant)
        if not submit_refusals:
            application.submitted_at = now
            application.application_number = application.pre_entry_number
            application.move(rules.SUBMITTED, current_user)
            db.session.commit()
            flash(gettext("申报成功，预录入编号 %(number)s，请等待海关受理。", number=application.pre_entry_number), "success")
            return redirect(url_for("apply.edit", application_id=application.id), code=303)
        db.session.commit()
        form.version.data = str(application.version)
        return render_form(form, application, submit_refusals + [draft_kept()], status=400)

    db.session.commit()
    if upload_refusals:
        form.version.data = str(application.version)
        return render_form(form, application, upload_refusals, status=400)
    flash(gettext("暂存成功，预录入编号 %(number)s。", number=application.pre_entry_number), "success")
    return redirect(url_for("apply.edit", application_id=application.id), code=303)


def files_not_kept(names, field="attachments"):
    """Browsers cannot refill a file box: say which good files were not kept, so none vanish unnoticed."""
    if not names:
        return []
    return [rules.Refusal(text=rules.N_("本次选择的文件 %(names)s 未保存，请修改上述问题后重新选择上传。"),
                          params={"names": "、".join(names)}, code="upload.not_kept", field=field)]


def stale_refusal():
    return rules.Refusal(
        text=rules.N_("该申请已在其他窗口或由其他操作员修改并保存，本次修改未保存。请先复制需要保留的内容，刷新页面后重新修改。"),
        code="stale",
    )


def draft_kept():
    return rules.Refusal(text=rules.N_("申请未申报，已暂存。请按提示修改后再次提交。"), code="submit.kept_as_draft")


def submission_refusals(data, declarant):
    """Every rule that stops 提交: R4–R6 with the consignee, then the whole form (R2, R3, R7–R14)."""
    consignee = Enterprise.by_code(data.consignee_code)
    refusals = rules.eligibility_to_start(
        declarant.info(),
        consignee.info() if consignee else None,
        has_unfed_back(declarant.id),
        bool(consignee and consignee.id != declarant.id and has_unfed_back(consignee.id)),
    )
    ports = [code for (code,) in db.session.execute(select(Port.code))]
    context = rules.SubmissionContext(
        now=clock.now(),
        calendars=calendars_around([data.declaration_port, data.entry_port], data.start) if data.start else {},
        port_codes=ports,
        transport_modes=[code for (code,) in db.session.execute(select(TransportMode.code).where(TransportMode.selectable))],
        hs_codes=known_hs_codes(g.hs_code for g in data.goods),
    )
    return refusals + rules.validate_submission(data, context)


def write_fields(application, data, now):
    """Copy the checked form values onto the stored application."""
    consignee = Enterprise.by_code(data.consignee_code)
    application.consignee = consignee
    for name in ("consignee_code", "contact_name", "contact_mobile", "transport_mode", "reason_category", "reason_text", "direction"):
        setattr(application, name, getattr(data, name))
    application.declaration_port = data.declaration_port or None
    application.entry_port = data.entry_port or None
    application.start = data.start
    application.end = rules.appointment_end(data.start) if data.start else None
    application.goods = [GoodsItem(position=i, name=g.name, hs_code=g.hs_code) for i, g in enumerate(data.goods, 1)]
    application.declaration_numbers = [
        DeclarationNumber(position=i, number=n) for i, n in enumerate(data.declaration_numbers, 1)
    ]
    application.updated_at = now


@bp.route("/<int:application_id>/delete", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def delete(application_id):
    """删除: only a draft (R15)."""
    application = load_application(application_id, write=True)
    if not rules.can_delete(application.status):
        flash(gettext("只有暂存状态的申请可以删除。"), "error")
        return redirect(url_for("apply.edit", application_id=application.id), code=303)
    number = application.pre_entry_number
    db.session.delete(application)
    db.session.commit()
    flash(gettext("已删除暂存申请 %(number)s。", number=number), "success")
    return redirect(url_for("apply.new"), code=303)


@bp.route("/<int:application_id>/cancel", methods=["GET", "POST"])
@role_required(ROLE_ENTERPRISE)
def cancel(application_id):
    """取消预约: confirm, then cancel an accepted or approved appointment before its start (R16)."""
    application = load_application(application_id, write=True)
    shown = application.shown_status
    if not rules.can_cancel(shown, application.start, clock.now()):
        flash(gettext("只有“已受理”或“预约成功”且未到预约时间的申请可以取消预约。"), "error")
        return redirect(url_for("apply.edit", application_id=application.id), code=303)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("apply/cancel_confirm.html", application=application)
    application.move(rules.CANCELLED, current_user, note=request.form.get("note", "").strip())
    db.session.commit()
    if application.approved_at:
        flash(gettext("已取消预约。预约成功后取消的，请在5天内通过“情况说明”向海关说明。"), "success")
    else:
        flash(gettext("已取消预约。"), "success")
    return redirect(url_for("apply.edit", application_id=application.id), code=303)


@bp.route("/<int:application_id>/feedback", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def feedback(application_id):
    """预约通关报关单号反馈 after approval (R17, R19, R20): valid numbers move the application to 通关完成."""
    application = load_application(application_id, write=True)
    if not rules.can_feed_back(application.shown_status):
        flash(gettext("只有预约成功的申请可以反馈报关单号。"), "error")
        return redirect(url_for("apply.edit", application_id=application.id), code=303)
    form = build_form(application)
    action = request.form.get("action", "feedback")
    if action != "feedback":
        refusals = run_helper(form, action)
        return feedback_page(application, form, refusals, 400 if refusals else 200)
    numbers = [n for n in form.numbers() if n]
    records = {
        r.number: rules.DeclarationRecord(r.number, r.consignee_code, r.declaration_port, r.entry_port, r.declared_on)
        for r in db.session.execute(select(DeclarationRecord).where(DeclarationRecord.number.in_(numbers))).scalars()
    }
    refusals = rules.check_declaration_numbers(
        numbers, application.direction, application.declaration_port, application.entry_port,
        application.consignee.info().codes if application.consignee else {application.consignee_code},
        application.submitted_at, records,
    )
    refusals += rules.check_feedback_present(numbers)
    if refusals:
        return feedback_page(application, form, refusals, 400)
    application.declaration_numbers = [DeclarationNumber(position=i, number=n) for i, n in enumerate(numbers, 1)]
    application.move(rules.CLEARED, current_user, note=", ".join(numbers))
    db.session.commit()
    flash(gettext("报关单号已反馈，申请状态为“通关完成”。"), "success")
    return redirect(url_for("apply.edit", application_id=application.id), code=303)


def feedback_page(application, numbers_form, refusals, status):
    """The read-only application with the feedback numbers as typed."""
    form = build_form(None)
    form.load(application)
    form.replace_numbers(numbers_form.numbers())
    form.new_declaration_number.data = numbers_form.new_declaration_number.data
    return render_form(form, application, refusals, status=status)


@bp.route("/<int:application_id>/statement", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def statement(application_id):
    """情况说明: text plus at most one PDF, sent once, after approval (R18)."""
    application = load_application(application_id, write=True)
    if not rules.can_send_statement(application.shown_status, application.approved_at is not None, application.statement_at is not None):
        # A second tab, or a page left open: say why nothing was sent.
        flash(gettext("情况说明只能在预约成功后发送一次；该申请现在不能发送情况说明。"), "error")
        return redirect(url_for("apply.edit", application_id=application.id), code=303)
    statement_form = StatementForm()
    text = (statement_form.statement_text.data or "").strip()
    accepted, refusals = check_uploads(uploaded_files("statement_file"), 0, rules.MAX_STATEMENT_ATTACHMENTS, "statement")
    refusals = rules.check_statement_text(text) + refusals
    if refusals:
        refusals += files_not_kept([name for name, _ in accepted], "statement")
        form = build_form(application)
        form.load(application)
        # What was typed stays in the box; the file has to be chosen again, and the message says so.
        return render_form(form, application, refusals, status=400, statement_form=statement_form)
    application.statement_text = text
    application.statement_at = clock.now()
    attach(application, accepted, Attachment.KIND_STATEMENT)
    application.move(application.status, current_user, note=gettext("发送情况说明"))
    db.session.commit()
    flash(gettext("情况说明已发送，海关将据此处理。"), "success")
    return redirect(url_for("apply.edit", application_id=application.id), code=303)


@bp.route("/<int:application_id>/files/<int:attachment_id>")
@role_required(ROLE_ENTERPRISE)
def download(application_id, attachment_id):
    """An attachment, only to the enterprises that may see the application."""
    return send_attachment(load_application(application_id), attachment_id)


def delete_file(form, application, attachment_id):
    """Remove a supplement from a draft; what was typed stays in the form, unsaved."""
    attachment = db.session.get(Attachment, int(attachment_id)) if attachment_id.isdigit() else None
    if (
        application is None
        or attachment not in application.supplements
        or not rules.can_edit(application.status)  # R15: what was submitted stays as customs saw it
    ):
        abort(404)
    db.session.delete(attachment)
    db.session.commit()
    flash(gettext("已删除附件 %(name)s。", name=attachment.filename), "success")
    return render_form(form, application)
