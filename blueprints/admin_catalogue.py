"""商品归类表 and 报关单数据 (site administrator): CSV uploads, all or nothing, with a summary of the lines."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

import registry
from blueprints.admin_enterprises import read_csv_upload
from extensions import db
from models import ROLE_SITE_ADMIN, audit
from refdata import check_hs_rows, write_declaration_records, write_hs_lines
from web import role_required, say

bp = Blueprint("admin_catalogue", __name__, url_prefix="/admin/catalogue")

# How many refused lines a page names (the count says how many there were in all).
SHOWN_REFUSALS = 200
KINDS = {
    "hs": {"title": registry.N_("商品归类表"), "columns": registry.HS_COLUMNS},
    "records": {"title": registry.N_("报关单数据"), "columns": registry.RECORD_COLUMNS},
}


def check_record_rows(rows):
    """Check declaration record rows: (records to store, [(line number, refusals)])."""
    records, refused = [], []
    for number, row in enumerate(rows, start=2):
        record, problems = registry.check_record_line(row)
        if problems:
            refused.append((number, problems))
        else:
            records.append(record)
    return records, refused


def _page(kind, status=200, refused=(), total_refused=0, file_refusals=()):
    return render_template("admin/catalogue/upload.html", kind=kind, spec=KINDS[kind], refused=refused,
                           total_refused=total_refused, file_refusals=file_refusals), status


@bp.route("/<any(hs, records):kind>", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def upload(kind):
    """Upload the HS catalogue (as `flask hs import`) or declaration records; one bad line and nothing is imported."""
    if request.method == "GET":
        return _page(kind)
    rows, file_refusals = read_csv_upload(request.files.get("file"), KINDS[kind]["columns"])
    if file_refusals:
        return _page(kind, 400, file_refusals=[say(r) for r in file_refusals])
    good, refused = (check_hs_rows if kind == "hs" else check_record_rows)(rows)
    if refused:
        shown = [say(registry.line_refusal(line, problems)) for line, problems in refused[:SHOWN_REFUSALS]]
        return _page(kind, 400, refused=shown, total_refused=len(refused))
    added, updated = (write_hs_lines if kind == "hs" else write_declaration_records)(good)
    audit(current_user, f"catalogue.{kind}.import", "catalogue", kind, None,
          {"lines": len(rows), "added": added, "updated": updated, "file": request.files["file"].filename})
    db.session.commit()
    flash(gettext("已导入%(lines)d行：新增%(added)d条，更新%(updated)d条，其余%(same)d条与原有数据相同。",
                  lines=len(rows), added=added, updated=updated, same=len(rows) - added - updated), "success")
    return redirect(url_for(".upload", kind=kind), code=303)
