"""Configuration read from the environment; nothing secret lives in the code."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _secret_key(instance_path):
    """SECRET_KEY from the environment, or one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(instance_path):
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "yuyue.sqlite3")
    # Accept the common postgres:// spellings and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path):
    """Build the app's configuration from the environment."""
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "FROZEN_NOW": os.environ.get("FROZEN_NOW") or None,
        # Demo mode shows the demo accounts' passwords on the login page (for classes).
        "DEMO_MODE": os.environ.get("DEMO_MODE", "0") == "1",
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "LANGUAGES": {"zh_CN": "中文", "en": "English"},
        # Five 4 MB PDFs plus the form itself.
        "MAX_CONTENT_LENGTH": 24 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
