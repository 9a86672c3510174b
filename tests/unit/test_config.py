"""Configuration fails fast in production and never falls back to a shared secret."""
import pytest

from portal.config import ConfigError, load_config


def test_production_refuses_to_start_without_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_production_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("AUDIT_CHAIN_KEY", "a" * 64)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.cn")
    cfg = load_config(tmp_path)
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert cfg["SESSION_COOKIE_HTTPONLY"] and cfg["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_generates_one_secret_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 64 and load_config(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    other = tmp_path / "other"
    assert load_config(other)["SECRET_KEY"] != first


def test_default_database_is_a_sqlite_file_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert load_config(tmp_path)["DATABASE_URL"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"


def test_the_api_rate_limit_comes_from_the_environment_and_must_be_a_rate(tmp_path, monkeypatch):
    monkeypatch.delenv("API_RATE_LIMIT", raising=False)
    assert load_config(tmp_path)["API_RATE_LIMIT"] == "600 per minute"
    monkeypatch.setenv("API_RATE_LIMIT", "50 per second")
    assert load_config(tmp_path)["API_RATE_LIMIT"] == "50 per second"
    monkeypatch.setenv("API_RATE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="API_RATE_LIMIT"):
        load_config(tmp_path)


def test_production_refuses_to_start_without_a_base_url(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("AUDIT_CHAIN_KEY", "a" * 64)
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="PORTAL_BASE_URL must be set"):
        load_config(tmp_path)
    monkeypatch.setenv("PORTAL_BASE_URL", "http://portal.example.cn")  # links on door plates are https
    with pytest.raises(ConfigError, match="https"):
        load_config(tmp_path)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.cn/")
    assert load_config(tmp_path)["PORTAL_BASE_URL"] == "https://portal.example.cn"


@pytest.mark.parametrize("replaced", ["MAX_FAILED_LOGINS", "LOCKOUT_MINUTES"])
def test_the_settings_of_the_old_lock_stop_the_start_instead_of_being_ignored(tmp_path, monkeypatch, replaced):
    monkeypatch.setenv(replaced, "5")
    with pytest.raises(ConfigError, match="LOGIN_FREE_FAILURES"):
        load_config(tmp_path)


def test_account_rate_limit_and_token_cap(tmp_path, monkeypatch):
    monkeypatch.delenv("API_ACCOUNT_RATE_LIMIT", raising=False)
    monkeypatch.delenv("API_MAX_TOKENS", raising=False)
    cfg = load_config(tmp_path)
    assert cfg["API_ACCOUNT_RATE_LIMIT"] == "1200 per minute" and cfg["API_MAX_TOKENS"] == 5
    monkeypatch.setenv("API_ACCOUNT_RATE_LIMIT", "often")
    with pytest.raises(ConfigError, match="API_ACCOUNT_RATE_LIMIT"):
        load_config(tmp_path)


def test_the_base_url_defaults_in_development_and_must_be_an_address(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    assert load_config(tmp_path)["PORTAL_BASE_URL"] == "http://127.0.0.1:5000"
    for bad in ("portal.example.cn", "ftp://portal.example.cn", "https://", "https://a.cn/?x=1", "https://a.cn/#x",
                "https://user:pw@a.cn", "javascript:alert(1)"):
        monkeypatch.setenv("PORTAL_BASE_URL", bad)
        with pytest.raises(ConfigError, match="PORTAL_BASE_URL"):
            load_config(tmp_path)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://gov.example.cn/portal/")
    assert load_config(tmp_path)["PORTAL_BASE_URL"] == "https://gov.example.cn/portal"


def test_production_refuses_to_start_without_the_audit_chain_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.cn")
    monkeypatch.delenv("AUDIT_CHAIN_KEY", raising=False)
    monkeypatch.delenv("AUDIT_CHAIN_KEY_FILE", raising=False)
    with pytest.raises(ConfigError, match="AUDIT_CHAIN_KEY"):
        load_config(tmp_path)
    assert not (tmp_path / "audit_chain_key").exists()  # never generated in production
    monkeypatch.setenv("AUDIT_CHAIN_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        load_config(tmp_path)
    key_file = tmp_path / "chain.key"
    key_file.write_text("f" * 64 + "\n")
    monkeypatch.delenv("AUDIT_CHAIN_KEY")
    monkeypatch.setenv("AUDIT_CHAIN_KEY_FILE", str(key_file))
    assert load_config(tmp_path)["AUDIT_CHAIN_KEY"] == b"f" * 64


def test_development_generates_the_audit_chain_key_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("AUDIT_CHAIN_KEY", raising=False)
    monkeypatch.delenv("AUDIT_CHAIN_KEY_FILE", raising=False)
    first = load_config(tmp_path / "instance")["AUDIT_CHAIN_KEY"]
    assert len(first) == 64 and load_config(tmp_path / "instance")["AUDIT_CHAIN_KEY"] == first
    assert (tmp_path / "instance" / "audit_chain_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "instance").stat().st_mode & 0o777 == 0o700
