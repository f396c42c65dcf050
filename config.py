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


def _flag(name, default="0"):
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _number(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


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
        # Set SESSION_COOKIE_SECURE=1 where the site is served over HTTPS, so the cookie never travels in clear.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        # A session ends after this long without a request, and this long after login whatever happens.
        "SESSION_IDLE_MINUTES": _number("SESSION_IDLE_MINUTES", 30),
        "SESSION_LIFETIME_HOURS": _number("SESSION_LIFETIME_HOURS", 12),
        # Wrong passwords allowed per (count, seconds) window before login is refused without checking:
        # per typed user name, and per address (higher: an office may share one address).
        "LOGIN_LIMITS_PER_ACCOUNT": [(20, 60), (100, 3600)],
        "LOGIN_LIMITS_PER_ADDRESS": [(50, 60), (300, 3600)],
        # How many proxies (nginx…) stand in front and set X-Forwarded-For/-Proto; 0 trusts no such header.
        "PROXY_COUNT": _number("PROXY_COUNT", 0),
    }


def engine_options(url):
    """SQLAlchemy's engine options for the database at ``url``."""
    # A server's connection can die under the pool (a restart, an idle timeout): test it before use. A SQLite
    # file's cannot, and the test would cost every request a query.
    return {} if url.startswith("sqlite") else {"pool_pre_ping": True}
