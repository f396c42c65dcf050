"""Uploaded PDFs: take the files of a request, check each against R10, keep the accepted ones with an application.

The views call these in order: `uploaded_files` → `check_uploads` (refusals name each refused file) →
`Application` write → `attach`; when the rest of the form is refused, `files_not_kept` says which good files
must be chosen again, since a browser cannot refill a file box. The PDFs themselves are read in pdfguard's
worker processes, never in the server's own.
"""
import hashlib

from flask import request
from flask_login import current_user

import clock
import pdfguard
import rules
from extensions import db
from models import Attachment


def uploaded_files(field_name="attachments"):
    """The non-empty files of a multiple file input."""
    return [f for f in request.files.getlist(field_name) if f and f.filename]


def check_uploads(files, existing, limit, field):
    """R10 for each uploaded file: return (accepted (name, bytes) pairs, refusals naming each refused file).

    Names are cleaned first (`rules.safe_filename`), so refusals and the stored files show the same name.
    """
    too_many = rules.check_attachment_count(existing, len(files), limit, field=field,
                                            names=[rules.safe_filename(upload.filename) for upload in files])
    if too_many:
        return [], [too_many]
    named = [(rules.safe_filename(upload.filename), upload.read(rules.MAX_PDF_BYTES + 1)) for upload in files]
    refusals = [rules.check_pdf_bytes(name, content, field=field) for name, content in named]
    to_read = [i for i, refusal in enumerate(refusals) if refusal is None]
    user = current_user.get_id()
    if to_read:
        # Reading PDFs takes seconds and a writing request holds SQLite's write lock from its first query: end the
        # transaction (nothing is written yet) so other writers need not wait; what the view read is read again
        # after, and the draft's version still guards against a change made meanwhile.
        db.session.rollback()
    try:
        facts = pdfguard.guard().measure([named[i][1] for i in to_read], user=user)
    except pdfguard.Busy:
        busy = rules.Refusal(text=rules.N_("系统繁忙，暂时无法检查上传的文件 %(names)s，请稍后重新上传；"
                                           "已填写的内容已保留。"),
                             params={"names": "、".join(named[i][0] for i in to_read)}, code="upload.busy",
                             field=field)
        return [], [refusal for refusal in refusals if refusal] + [busy]
    for i, file_facts in zip(to_read, facts):
        name, content = named[i]
        refusals[i] = rules.check_pdf(name, content, file_facts, field=field)
    accepted = [pair for pair, refusal in zip(named, refusals) if refusal is None]
    return accepted, [refusal for refusal in refusals if refusal]


def attach(application, files, kind):
    """Keep the accepted files with the application."""
    now = clock.now()
    for filename, content in files:
        application.attachments.append(
            Attachment(kind=kind, filename=rules.safe_filename(filename), size=len(content),
                       sha256=hashlib.sha256(content).hexdigest(), uploaded_at=now, data=content)
        )


def files_not_kept(names, field="attachments"):
    """Browsers cannot refill a file box: say which good files were not kept, so none vanish unnoticed."""
    if not names:
        return []
    # Two sentences rather than one with a plural: a refusal is worded later, by web.say, with gettext alone.
    if len(names) == 1:
        return [rules.Refusal(text=rules.N_("本次选择的文件 %(name)s 未保存，请修改上述问题后重新选择上传。"),
                              params={"name": names[0]}, code="upload.not_kept", field=field)]
    return [rules.Refusal(text=rules.N_("本次选择的 %(count)s 个文件 %(names)s 均未保存，请修改上述问题后重新选择上传。"),
                          params={"count": len(names), "names": "、".join(names)}, code="upload.not_kept", field=field)]
