"""用户管理 (site administrator): create operators, officers and administrators; disable; reset a password."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, or_, select

import registry
import rules
from extensions import db
from models import ROLE_ENTERPRISE, ROLE_SITE_ADMIN, Enterprise, Port, User, audit
from web import ROLE_LABELS, errors_by_field, role_required

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

PAGE_SIZE = 50
ROLES = (rules.ROLE_ENTERPRISE, rules.ROLE_CUSTOMS, rules.ROLE_ADMIN, rules.ROLE_SITE_ADMIN)


def user_facts(user):
    """What the audit log keeps of a user (never the password)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role, "active": user.active,
            "enterprise": user.enterprise.customs_code if user.enterprise else None,
            "ports": sorted(p.code for p in user.ports), "must_change_password": user.must_change_password}


def _all_ports():
    return db.session.execute(select(Port).order_by(Port.code)).scalars().all()


def _chosen_ports(codes):
    return db.session.execute(select(Port).where(Port.code.in_(codes))).scalars().all() if codes else []


def _form_page(template, status=200, **context):
    return render_template(template, roles=[(r, gettext(ROLE_LABELS[r])) for r in ROLES], ports=_all_ports(),
                           **context), status


@bp.route("")
@role_required(ROLE_SITE_ADMIN)
def index():
    """The users, searchable by name, enterprise or role."""
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    statement = select(User).outerjoin(Enterprise, User.enterprise_id == Enterprise.id).order_by(User.username)
    if q:
        like = f"%{q}%"
        statement = statement.where(or_(User.username.ilike(like), User.display_name.ilike(like),
                                        Enterprise.name.ilike(like), Enterprise.customs_code.ilike(like)))
    if role in ROLES:
        statement = statement.where(User.role == role)
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar()
    users = db.session.execute(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().scalars().all()
    return render_template("admin/users/index.html", users=users, q=q, role=role, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           roles=[(r, gettext(ROLE_LABELS[r])) for r in ROLES])


@bp.route("/new", methods=["GET", "POST"])
@role_required(ROLE_SITE_ADMIN)
def new():
    """Create a user of any role; the password given must be changed at the first login."""
    values = {"role": request.args.get("role", ""), "enterprise": request.args.get("enterprise", "")}
    if request.method == "GET":
        return _form_page("admin/users/new.html", values=values, errors={}, chosen=set())
    form = request.form
    values = {name: (form.get(name) or "").strip() for name in ("username", "display_name", "role", "enterprise")}
    chosen = set(form.getlist("ports"))
    password = form.get("password") or ""
    enterprise = Enterprise.by_code(values["enterprise"]) if values["role"] == ROLE_ENTERPRISE else None
    ports = _chosen_ports(chosen) if values["role"] in (rules.ROLE_CUSTOMS, rules.ROLE_ADMIN) else []
    refusals = registry.check_new_user(values["username"], values["role"], password, enterprise is not None,
                                       [p.code for p in ports], User.by_username(values["username"]) is not None)
    if refusals:
        return _form_page("admin/users/new.html", 400, values=values, errors=errors_by_field(refusals), chosen=chosen)
    user = User(username=values["username"], display_name=values["display_name"] or values["username"],
                role=values["role"], enterprise=enterprise, ports=ports, must_change_password=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit(current_user, "user.create", "user", user.username, None, user_facts(user))
    db.session.commit()
    flash(gettext("已创建用户 %(name)s。首次登录时须修改密码。", name=user.username), "success")
    return redirect(url_for(".show", user_id=user.id), code=303)


def _user_or_404(user_id):
    return db.session.get(User, user_id) or abort(404)


@bp.route("/<int:user_id>")
@role_required(ROLE_SITE_ADMIN)
def show(user_id):
    """One user: what they may do, and the actions on them."""
    user = _user_or_404(user_id)
    values = {"display_name": user.display_name, "enterprise": user.enterprise.customs_code if user.enterprise else ""}
    return _form_page("admin/users/show.html", user=user, values=values, errors={}, chosen={p.code for p in user.ports})


@bp.route("/<int:user_id>", methods=["POST"])
@role_required(ROLE_SITE_ADMIN)
def update(user_id):
    """Change a user's display name, enterprise or ports (the role stays: create another user for another role)."""
    user = _user_or_404(user_id)
    values = {name: (request.form.get(name) or "").strip() for name in ("display_name", "enterprise")}
    chosen = set(request.form.getlist("ports"))
    enterprise = Enterprise.by_code(values["enterprise"]) if user.role == ROLE_ENTERPRISE else None
    ports = _chosen_ports(chosen) if user.role in (rules.ROLE_CUSTOMS, rules.ROLE_ADMIN) else []
    refusals = registry.check_user_scope(user.role, enterprise is not None, [p.code for p in ports])
    if refusals:
        return _form_page("admin/users/show.html", 400, user=user, values=values, errors=errors_by_field(refusals),
                          chosen=chosen)
    before = user_facts(user)
    user.display_name = values["display_name"] or user.username
    user.enterprise = enterprise
    user.ports = ports
    audit(current_user, "user.update", "user", user.username, before, user_facts(user))
    db.session.commit()
    flash(gettext("已保存。"), "success")
    return redirect(url_for(".show", user_id=user.id), code=303)


@bp.route("/<int:user_id>/active", methods=["POST"])
@role_required(ROLE_SITE_ADMIN)
def set_active(user_id):
    """Disable a user (their open sessions end at once) or enable them again."""
    user = _user_or_404(user_id)
    enable = request.form.get("active") == "1"
    if user.id == current_user.id and not enable:
        flash(gettext("不能停用自己的账户。"), "error")
        return redirect(url_for(".show", user_id=user.id), code=303)
    before = user_facts(user)
    if enable:
        user.active = True
    else:
        user.disable()
    audit(current_user, "user.enable" if enable else "user.disable", "user", user.username, before, user_facts(user))
    db.session.commit()
    flash(gettext("已启用该用户。") if enable else gettext("已停用该用户，其登录已全部退出。"), "success")
    return redirect(url_for(".show", user_id=user.id), code=303)


@bp.route("/<int:user_id>/password", methods=["POST"])
@role_required(ROLE_SITE_ADMIN)
def reset_password(user_id):
    """Give a user a new password that they must change at their next login; their sessions end."""
    user = _user_or_404(user_id)
    password = request.form.get("password") or ""
    refusals = registry.check_new_password(password)
    if refusals:
        values = {"display_name": user.display_name,
                  "enterprise": user.enterprise.customs_code if user.enterprise else ""}
        return _form_page("admin/users/show.html", 400, user=user, values=values, errors=errors_by_field(refusals),
                          chosen={p.code for p in user.ports})
    before = user_facts(user)
    user.set_password(password)
    user.must_change_password = True
    user.end_sessions()
    audit(current_user, "user.reset_password", "user", user.username, before, user_facts(user))
    db.session.commit()
    flash(gettext("已重置密码。该用户下次登录时须修改密码。"), "success")
    return redirect(url_for(".show", user_id=user.id), code=303)
