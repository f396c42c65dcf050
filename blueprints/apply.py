"""预约申请: the application screen, its helpers (each with a no-JS twin), uploads, 暂存, 提交, cancel, feedback, statement.

暂存 and 提交: `save` checks the draft (rules.validate_draft) and writes it (`write_draft`); `submit` then asks
rules.check_submission (facts from models.submission_context) and moves the draft to 申报 (Application.move)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

import clock
import database
import rules
from application_page import HELPERS, REDRAWN_PARTS, ApplicationPage, parse_action, run_helper
from extensions import db
from forms import ApplicationForm, StatementForm
from models import ROLE_ENTERPRISE, Application, Attachment, feedback_refusals, reference_data, submission_context
from uploads import attach, check_uploads, files_not_kept, uploaded_files
from web import render_page, role_required, say, send_attachment

bp = Blueprint("apply", __name__, url_prefix="/apply")


def load_application(application_id, write=False):
    """The application if the logged-in enterprise may read it (write: change it, as its declarant); else 404."""
    application = Application.by_id(application_id, write)
    own = current_user.enterprise_id
    access = application and own and rules.enterprise_access(
        application.status, is_declarant=application.declarant_id == own, is_consignee=application.consignee_id == own)
    if not access or (write and access != rules.WRITE):
        abort(404)
    return application


def build_form(application=None, bound=True):
    """The form bound to the request (a POST, unless not ``bound``) or filled from the stored application."""
    form = ApplicationForm() if bound else ApplicationForm(formdata=None)
    form.set_choices(reference_data())
    if application is not None and (request.method == "GET" or not bound):
        form.load(application)
    return form


def show(page, status=200):
    """The application page, or the part of it that htmx asked for."""
    return render_page("apply/form.html", REDRAWN_PARTS, status, page=page, form=page.form,
                       application=page.application, helpers=HELPERS)


def redirect_to(application):
    return redirect(url_for("apply.edit", application_id=application.id), code=303)


def helper_action():
    """Whether the POST is a helper action, which changes only the unsaved form (database.reads_only)."""
    return parse_action(request.form.get("action"))[0] in HELPERS


@bp.route("/new", methods=["GET", "POST"])
@database.reads_only(when=helper_action)
@role_required(ROLE_ENTERPRISE)
def new():
    """新增: a blank application; saving it (暂存) gives it its YTG pre-entry number."""
    form = build_form()
    if request.method == "POST":
        return handle_post(form, None)
    page = ApplicationPage(form, None, current_user)
    page.refusals = page.may_start
    return show(page, 403 if page.refusals else 200)


@bp.route("/<int:application_id>", methods=["GET", "POST"])
@database.reads_only(when=helper_action)
@role_required(ROLE_ENTERPRISE)
def edit(application_id):
    """An application: editable while 暂存 for its declarant, read-only for its consignee."""
    application = load_application(application_id, write=request.method == "POST")
    form = build_form(application)
    if request.method == "POST":
        return handle_post(form, application)
    return show(ApplicationPage(form, application, current_user))


def handle_post(form, application):
    """Route a POST of the form: 暂存/上传PDF, 提交, deleting a file, or a helper action."""
    name, number = parse_action(request.form.get("action"))
    if application is not None and name in ("delete", "cancel", "copy"):
        # The toolbar's buttons are in this one form (IE has no form= attribute): each goes on to its own view.
        return {"delete": delete, "cancel": cancel, "copy": copy}[name](application.id)
    if name in ("save", "upload", "submit"):
        if application is not None and not rules.can_edit(application.status):
            flash(gettext("该申请已申报，不能再修改。"), "error")
            return redirect_to(application)
        return save(form, application, submit=name == "submit")
    if name == "delete_file":
        return delete_file(form, application, number)
    helper, refusals = run_helper(form, name, number)
    refusals += files_not_kept([f.filename for f in uploaded_files()])
    page = ApplicationPage(form, application, current_user, refusals, focus=helper.focus)
    return show(page, 400 if refusals else 200)


def save(form, application, submit):
    """暂存 (and the save before 提交): check the draft and the uploads, write both, then submit if asked."""
    page = ApplicationPage(form, application, current_user)
    malformed = form.malformed()
    if malformed:
        # Nothing a rule could read, look up or store: refused as typed before anything else is done with it.
        page.refusals = malformed + files_not_kept([f.filename for f in uploaded_files()])
        return show(page, 400)
    accepted, upload_refusals = check_uploads(uploaded_files(), len(application.supplements) if application else 0,
                                              rules.MAX_ATTACHMENTS, "attachments")
    data = page.input_with(len(accepted))
    refusals = ([] if application else page.may_start) + rules.validate_draft(data)
    if application is not None and form.version.data != str(application.version):
        refusals.append(rules.STALE_DRAFT)
    if refusals:
        if submit:
            # 提交 shows every problem at once, not only those that stop a draft.
            context = submission_context(data, page.declarant.id, page.consignee)
            refusals = rules.dedupe(refusals + rules.check_submission(data, context))
        # Nothing is written, so the refused save loses nothing that was stored; the form keeps what was typed.
        page.refusals = refusals + upload_refusals + files_not_kept([name for name, _ in accepted])
        return show(page, 400)
    try:
        application = write_draft(page, data, accepted)
    except StaleDataError:
        db.session.rollback()
        stored = application and db.session.get(Application, application.id)
        return show(ApplicationPage(form, stored, current_user, [rules.STALE_DRAFT], consignee=page.consignee), 409)
    if submit and not upload_refusals:
        return submit_draft(page, application, data)
    db.session.commit()
    if upload_refusals:
        form.version.data = str(application.version)
        return show(ApplicationPage(form, application, current_user, upload_refusals, consignee=page.consignee), 400)
    flash(gettext("暂存成功，预录入编号 %(number)s。", number=application.pre_entry_number), "success")
    return redirect_to(application)


def write_draft(page, data, files):
    """Write the checked draft and its accepted files (numbering a new one); flush so a stale version shows now."""
    now = clock.now()
    application = page.application or Application.start_new(current_user.enterprise, current_user, now)
    application.write_draft(data, page.consignee, now)
    attach(application, files, Attachment.KIND_SUPPLEMENT)
    db.session.flush()
    return application


def submit_draft(page, application, data):
    """提交 a saved draft: every rule that stops it (R3–R14), else 申报; refused, the draft stays saved."""
    refusals = rules.check_submission(data, submission_context(data, application.declarant_id, page.consignee))
    if refusals:
        db.session.commit()
        page.form.version.data = str(application.version)
        return show(ApplicationPage(page.form, application, current_user, refusals + [rules.KEPT_AS_DRAFT],
                                    consignee=page.consignee), 400)
    application.move(rules.SUBMITTED, current_user)
    number, response = application.pre_entry_number, redirect_to(application)  # read before the commit expires them
    db.session.commit()
    flash(gettext("申报成功，预录入编号 %(number)s，请等待海关受理。", number=number), "success")
    return response


@bp.route("/<int:application_id>/delete", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def delete(application_id):
    """删除: only a draft (R15)."""
    application = load_application(application_id, write=True)
    if not rules.can_delete(application.status):
        flash(gettext("只有暂存状态的申请可以删除。"), "error")
        return redirect_to(application)
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
    if not rules.can_cancel(application.current_status, application.start, clock.now()):
        flash(gettext("只有“已受理”或“预约成功”且未到预约时间的申请可以取消预约。"), "error")
        return redirect_to(application)
    note = request.form.get("note", "").strip()
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("apply/cancel_confirm.html", application=application, note=note)
    refusals = rules.check_note(note, "note", rules.N_("取消原因"))
    if refusals:
        return render_template("apply/cancel_confirm.html", application=application, note=note,
                               errors=[say(r) for r in refusals]), 400
    application.move(rules.CANCELLED, current_user, note=note)
    db.session.commit()
    if application.approved_at:
        flash(gettext("已取消预约。预约成功后取消的，请在5天内通过“情况说明”向海关说明。"), "success")
    else:
        flash(gettext("已取消预约。"), "success")
    return redirect_to(application)


@bp.route("/<int:application_id>/copy", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def copy(application_id):
    """复制为新申请: a returned or cancelled application as a new draft, if the declarant may start one (R3–R6)."""
    application = load_application(application_id, write=True)
    page = ApplicationPage(build_form(application, bound=False), application, current_user)
    if not page.may_copy:
        flash(gettext("只有退单或已取消的申请可以复制为新申请。"), "error")
        return redirect_to(application)
    if page.may_start:
        page.refusals = page.may_start
        return show(page, 403)
    draft = application.copy_as_draft(current_user, clock.now())
    db.session.commit()
    flash(gettext("已复制为新申请，预录入编号 %(number)s（暂存）。请核对预约时间等内容后提交。",
                  number=draft.pre_entry_number), "success")
    return redirect_to(draft)


@bp.route("/<int:application_id>/feedback", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def feedback(application_id):
    """预约通关报关单号反馈 after approval (R17, R19, R20): valid numbers move the application to 通关完成."""
    application = load_application(application_id, write=True)
    if not rules.can_feed_back(application.current_status):
        flash(gettext("只有预约成功的申请可以反馈报关单号。"), "error")
        return redirect_to(application)
    # The stored application as it is, with the numbers as typed.
    posted, form = ApplicationForm(), build_form(application, bound=False)
    form.replace_numbers(posted.numbers())
    form.new_declaration_number.data = posted.new_declaration_number.data
    name, number = parse_action(request.form.get("action", "feedback"))
    if name != "feedback":
        helper, refusals = run_helper(form, name, number)
        return show(ApplicationPage(form, application, current_user, refusals, helper.focus), 400 if refusals else 200)
    numbers = [n for n in form.numbers() if n]
    refusals = feedback_refusals(application, numbers)
    if refusals:
        return show(ApplicationPage(form, application, current_user, refusals), 400)
    application.replace_numbers(numbers)
    application.move(rules.CLEARED, current_user, note=", ".join(numbers))
    db.session.commit()
    flash(gettext("报关单号已反馈，申请状态为“通关完成”。"), "success")
    return redirect_to(application)


@bp.route("/<int:application_id>/statement", methods=["POST"])
@role_required(ROLE_ENTERPRISE)
def statement(application_id):
    """情况说明: text plus at most one PDF, sent once, after approval (R18)."""
    load_application(application_id, write=True)  # 404 before any file is read
    statement_form = StatementForm()
    text = (statement_form.statement_text.data or "").strip()
    accepted, refusals = check_uploads(uploaded_files("statement_file"), 0, rules.MAX_STATEMENT_ATTACHMENTS, "statement")
    # Read (and lock) again after the file check, which ends the transaction: another tab may have sent it meanwhile.
    application = load_application(application_id, write=True)
    if not rules.can_send_statement(application.current_status, application.approved_at is not None,
                                    application.statement_at is not None):
        # A second tab, or a page left open: say why nothing was sent.
        flash(gettext("情况说明只能在预约成功后发送一次；该申请现在不能发送情况说明。"), "error")
        return redirect_to(application)
    refusals = rules.check_statement_text(text) + refusals
    if refusals:
        # What was typed stays in the box; the file has to be chosen again, and the message says so.
        refusals += files_not_kept([name for name, _ in accepted], "statement")
        page = ApplicationPage(build_form(application, bound=False), application, current_user, refusals,
                               statement_form=statement_form)
        return show(page, 400)
    application.statement_text, application.statement_at = text, clock.now()
    attach(application, accepted, Attachment.KIND_STATEMENT)
    application.record(current_user, rules.system_note("statement_sent"))
    db.session.commit()
    flash(gettext("情况说明已发送，海关将据此处理。"), "success")
    return redirect_to(application)


@bp.route("/<int:application_id>/files/<int:attachment_id>")
@role_required(ROLE_ENTERPRISE)
def download(application_id, attachment_id):
    """An attachment, only to the enterprises that may see the application."""
    return send_attachment(load_application(application_id), attachment_id)


def delete_file(form, application, attachment_id):
    """Remove a supplement from a draft; what was typed stays in the form, unsaved."""
    attachment = db.session.get(Attachment, attachment_id) if attachment_id is not None else None
    if application is None or attachment not in application.supplements or not rules.can_edit(application.status):
        abort(404)  # R15: what was submitted stays as customs saw it
    if form.version.data != str(application.version):
        return show(ApplicationPage(form, application, current_user, [rules.STALE_DRAFT]), 409)
    db.session.delete(attachment)
    application.touch(clock.now())
    db.session.commit()
    form.version.data = str(application.version)
    flash(gettext("已删除附件 %(name)s。", name=attachment.filename), "success")
    return show(ApplicationPage(form, application, current_user))
