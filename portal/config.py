"""Settings read from the environment, with safe defaults for a laptop."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse

from portal.files import private_folder

DOORPLATE_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


class ConfigError(RuntimeError):
    """The environment does not describe a safe configuration."""


# Settings of the hard lock that growing delays replaced: set, they would be silently ignored.
REPLACED = ("MAX_FAILED_LOGINS", "LOCKOUT_MINUTES")
API_RATE_LIMIT = "600 per minute"  # requests of one API token
# Requests of all the tokens of one account together: more tokens do not buy more requests.
API_ACCOUNT_RATE_LIMIT = "1200 per minute"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _rate(name: str, default: str) -> str:
    value = os.environ.get(name) or default
    try:
        parse(value)
    except ValueError:
        raise ConfigError(f"{name} is not a rate such as '{default}': {value!r}") from None
    return value


def _dev_secret_key(instance_path: Path) -> str:
    """Generate a secret once into instance/ so development sessions survive restarts."""
    return _dev_key_file(instance_path, "secret_key")


def _dev_key_file(instance_path: Path, name: str) -> str:
    """A key generated once into instance/<name>, readable by this user only (0600 in a 0700 folder)."""
    private_folder(instance_path)
    key_file = instance_path / name
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return key_file.read_text().strip()


# The shortest AUDIT_CHAIN_KEY taken: 32 characters (a key of 128 bits or more, written in hex).
MIN_AUDIT_KEY_LENGTH = 32


def audit_chain_key(instance_path: Path, production: bool) -> bytes:
    """The key of the audit chain (services/audit_chain.py), kept outside the database: AUDIT_CHAIN_KEY, or
    the file named by AUDIT_CHAIN_KEY_FILE; in development generated once into instance/audit_chain_key."""
    key = os.environ.get("AUDIT_CHAIN_KEY") or ""
    key_file = os.environ.get("AUDIT_CHAIN_KEY_FILE")
    if not key and key_file:
        key = Path(key_file).read_text().strip()
    if not key:
        if production:
            raise ConfigError("AUDIT_CHAIN_KEY (or AUDIT_CHAIN_KEY_FILE) must be set when PORTAL_ENV=production")
        key = _dev_key_file(instance_path, "audit_chain_key")
    if len(key) < MIN_AUDIT_KEY_LENGTH:
        raise ConfigError(f"AUDIT_CHAIN_KEY must be at least {MIN_AUDIT_KEY_LENGTH} characters long")
    return key.encode()


DEV_BASE_URL = "http://127.0.0.1:5000"


def _base_url(production: bool) -> str:
    """Where the portal is reached from outside: the start of every link that leaves it (QR codes on door
    plates and receipts, later text messages and webhooks), never taken from a request's Host header."""
    raw = (os.environ.get("PORTAL_BASE_URL") or "").strip()
    if not raw:
        if production:
            raise ConfigError("PORTAL_BASE_URL must be set when PORTAL_ENV=production, e.g. https://portal.example.cn")
        return DEV_BASE_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise ConfigError(f"PORTAL_BASE_URL is not an address such as https://portal.example.cn: {raw!r}")
    if production and parts.scheme != "https":
        raise ConfigError("PORTAL_BASE_URL must start with https:// when PORTAL_ENV=production")
    return raw.rstrip("/")


def load_config(instance_path: Path) -> dict:
    env = os.environ.get("PORTAL_ENV", "development")
    production = env == "production"
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set when PORTAL_ENV=production")
        secret = _dev_secret_key(instance_path)

    replaced = [name for name in REPLACED if os.environ.get(name)]
    if replaced:
        raise ConfigError(f"{', '.join(replaced)}: accounts are no longer locked; failed sign-ins are slowed down "
                          "by LOGIN_FREE_FAILURES, LOGIN_FIRST_DELAY_SECONDS and LOGIN_MAX_DELAY_SECONDS (README)")
    base_url = _base_url(production)
    audit_key = audit_chain_key(instance_path, production)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.sqlite3'}"
    api_rate_limit = _rate("API_RATE_LIMIT", API_RATE_LIMIT)
    api_account_rate_limit = _rate("API_ACCOUNT_RATE_LIMIT", API_ACCOUNT_RATE_LIMIT)

    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret,
        "AUDIT_CHAIN_KEY": audit_key,
        "DATABASE_URL": database_url,
        "PORTAL_BASE_URL": base_url,
        **_session_settings(production),
        **_limits(instance_path),
        **_message_settings(production),
        **_library_settings(api_rate_limit, api_account_rate_limit),
    }


def _session_settings(production: bool) -> dict:
    """Cookies, timeouts and the delays of failed sign-ins."""
    return {
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        # Server-side idle/absolute limits, in minutes (SECURITY.md "Sessions").
        "STAFF_IDLE_MINUTES": _int("STAFF_IDLE_MINUTES", 15),
        "REPORTER_IDLE_MINUTES": _int("REPORTER_IDLE_MINUTES", 30),
        "ABSOLUTE_SESSION_HOURS": _int("ABSOLUTE_SESSION_HOURS", 12),
        # Growing delays instead of a lock (services/throttle.py, README "Configuration").
        "LOGIN_FREE_FAILURES": _int("LOGIN_FREE_FAILURES", 5),
        "LOGIN_SOURCE_FREE_FAILURES": _int("LOGIN_SOURCE_FREE_FAILURES", 20),
        "LOGIN_FIRST_DELAY_SECONDS": _int("LOGIN_FIRST_DELAY_SECONDS", 2),
        "LOGIN_MAX_DELAY_SECONDS": _int("LOGIN_MAX_DELAY_SECONDS", 300),
        "LOGIN_ALERT_FAILURES": _int("LOGIN_ALERT_FAILURES", 10),
        "LOGIN_FAILURE_MEMORY_HOURS": _int("LOGIN_FAILURE_MEMORY_HOURS", 24),
        "LOGIN_DEVICE_DAYS": _int("LOGIN_DEVICE_DAYS", 90),  # how long a browser is known (sessions.py)
    }


def _limits(instance_path: Path) -> dict:
    """Deadlines, sizes and counts; where uploads wait; the door plates' font."""
    return {
        "REPORT_DEADLINE_DAYS": _int("REPORT_DEADLINE_DAYS", 3),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 10) * 1024 * 1024,
        "MAX_IMPORT_ROWS": _int("MAX_IMPORT_ROWS", 50_000),
        "REVEALS_PER_HOUR": _int("REVEALS_PER_HOUR", 30),
        "RETENTION_DAYS": _int("RETENTION_DAYS", 3 * 365),
        # Uploaded staff lists wait here between preview and commit; deleted after either.
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance_path / "uploads"),
        "PROXY_HOPS": _int("PROXY_HOPS", 0),
        # The CJK font that door plates are set in (a TrueType/OpenType file or collection; Debian's
        # fonts-noto-cjk, installed by scripts/ensure-chromium) and the most plates one run may print.
        "DOORPLATE_FONT": os.environ.get("DOORPLATE_FONT") or DOORPLATE_FONT,
        "MAX_DOOR_PLATES": _int("MAX_DOOR_PLATES", 5000),
    }


def _message_settings(production: bool) -> dict:
    """How text messages leave (services/messages.py): the outbox in development, a gateway in production."""
    sender = os.environ.get("MESSAGE_SENDER") or ("none" if production else "outbox")
    if sender not in ("outbox", "http", "none"):
        raise ConfigError("MESSAGE_SENDER must be outbox, http or none")
    if production and sender == "outbox":
        raise ConfigError("MESSAGE_SENDER=outbox keeps messages in the database: not when PORTAL_ENV=production")
    url = os.environ.get("MESSAGE_HTTP_URL", "")
    if sender == "http" and not url.startswith(("http://", "https://")):
        raise ConfigError("MESSAGE_SENDER=http needs MESSAGE_HTTP_URL, the SMS gateway's address")
    return {"MESSAGE_SENDER": sender, "MESSAGE_HTTP_URL": url,
            "MESSAGE_HTTP_TOKEN": os.environ.get("MESSAGE_HTTP_TOKEN", ""),
            "MESSAGE_HTTP_TIMEOUT": _int("MESSAGE_HTTP_TIMEOUT", 5),
            # The person's own view of who read their record (services/record_access.py).
            "ACCESS_CODES_PER_DOCUMENT_HOUR": _int("ACCESS_CODES_PER_DOCUMENT_HOUR", 3),
            "ACCESS_CODES_PER_DOCUMENT_DAY": _int("ACCESS_CODES_PER_DOCUMENT_DAY", 6),
            "ACCESS_CODES_PER_SOURCE_HOUR": _int("ACCESS_CODES_PER_SOURCE_HOUR", 10),
            "ACCESS_VIEW_MINUTES": _int("ACCESS_VIEW_MINUTES", 15),
            "ACCESS_HOLD_DAYS": _int("ACCESS_HOLD_DAYS", 180)}


def _library_settings(api_rate_limit: str, api_account_rate_limit: str) -> dict:
    """Flask-WTF, Flask-Babel and Flask-Limiter; SQLite's waits."""
    return {
        "WTF_CSRF_TIME_LIMIT": 3600,
        "WTF_CSRF_SSL_STRICT": True,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
        "LANGUAGES": ("zh_Hans_CN", "en"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "API_RATE_LIMIT": api_rate_limit,  # per token, in fixed windows
        "API_ACCOUNT_RATE_LIMIT": api_account_rate_limit,  # all tokens of one account together
        "API_MAX_TOKENS": _int("API_MAX_TOKENS", 5),  # active (unrevoked) tokens per account
        # A rate-limit storage that fails (Redis down) lets requests through and logs it, instead of failing
        # every request: failed sign-ins are still counted in the database and slowed down (services/throttle.py).
        "RATELIMIT_STORAGE_OPTIONS": {"wrap_exceptions": True},
        "RATELIMIT_SWALLOW_ERRORS": True,
        # The API writes its own X-RateLimit-* headers (the token's or the account's window, whichever is nearer
        # its end: portal/api/auth.py); the sign-in pages' 429 sets its Retry-After itself (portal/errors.py).
        "RATELIMIT_HEADERS_ENABLED": False,
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        # A flask command waits this long for SQLite's write lock (a big staff-list commit may hold it longer
        # than a request waits).
        "CLI_LOCK_WAIT_SECONDS": _int("CLI_LOCK_WAIT_SECONDS", 120),
    }
