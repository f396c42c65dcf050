"""作业时间表管理 (port administrator of that port)."""
from flask import Blueprint

bp = Blueprint("admin_timetables", __name__, url_prefix="/admin/ports/<port_code>/timetables")
