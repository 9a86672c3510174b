"""The production server: gunicorn, a declared dependency, serving the portal without a version banner."""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from portal.fieldcrypt import KeyFile

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_gunicorn_and_redis_are_the_prod_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ;]", requirement)[0] for requirement in extras["prod"]}
    assert {"gunicorn", "redis"} <= names


@pytest.fixture
def gunicorn_port(tmp_path):
    """gunicorn with the README's production settings on a free port, against a new SQLite file."""
    KeyFile.generate().write(tmp_path / "keys.json")
    env = {**os.environ, "PORTAL_KEYS_FILE": str(tmp_path / "keys.json"), "PORTAL_ENV": "production",
           "SECRET_KEY": "gunicorn-test-" + "k" * 40,
           "AUDIT_CHAIN_KEY": "gunicorn-test-" + "a" * 40,
           "PORTAL_BASE_URL": "https://portal.example.cn", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([str(GUNICORN), "-w", "1", "-b", "127.0.0.1:0", "--no-control-socket", "wsgi:app"],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        port, booted, deadline = None, False, time.monotonic() + 30
        while not booted and time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            port = int(found.group(1)) if found else port
            booted = "Booting worker" in line
        assert port and booted, "gunicorn did not start"
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


def _get(port: int, path: str, attempts: int = 50) -> http.client.HTTPResponse:
    for _ in range(attempts):  # the worker imports the app after it says it boots
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response
        except ConnectionError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise AssertionError(f"no answer from gunicorn on {port}")


def test_gunicorn_sends_no_version_banner(gunicorn_port):
    for path, status in (("/", 200), ("/auth/login", 200), ("/no-such-page", 404), ("/api/v1/houses", 401)):
        response = _get(gunicorn_port, path)
        assert response.status == status, path
        servers = response.headers.get_all("Server") or []
        assert servers in ([], ["gunicorn"]), servers  # the product at most: no version, no Python, no Werkzeug
        headers = "\n".join(f"{k}: {v}" for k, v in response.getheaders() if k.lower() != "set-cookie")
        assert not re.search(r"werkzeug|python|gunicorn/|\d+\.\d+\.\d+", headers, re.IGNORECASE), headers
        assert response.headers["Strict-Transport-Security"]  # it is the production configuration that runs
