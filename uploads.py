"""Uploaded PDFs: take the files of a request, check each against R10, keep the accepted ones with an application.

The views call these in order: `uploaded_files` → `check_uploads` (refusals name each refused file) →
`Application` write → `attach`; when the rest of the form is refused, `files_not_kept` says which good files
must be chosen again, since a browser cannot refill a file box.
"""
import hashlib

from flask import request

import clock
import rules
from models import Attachment


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
    """Keep the accepted files with the application."""
    now = clock.now()
    for filename, content in files:
        application.attachments.append(
            Attachment(kind=kind, filename=filename, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                       uploaded_at=now, data=content)
        )


def files_not_kept(names, field="attachments"):
    """Browsers cannot refill a file box: say which good files were not kept, so none vanish unnoticed."""
    if not names:
        return []
    return [rules.Refusal(text=rules.N_("本次选择的文件 %(names)s 未保存，请修改上述问题后重新选择上传。"),
                          params={"names": "、".join(names)}, code="upload.not_kept", field=field)]
