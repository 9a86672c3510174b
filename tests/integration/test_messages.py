"""Text messages (services/messages.py): the development outbox keeps them sealed and `flask outbox` prints
them; the HTTP sender really posts to a gateway and a gateway's refusal or silence is a SendFailed; with no
sender nothing can be sent; production never keeps messages in the outbox."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from portal import fieldcrypt
from portal.config import ConfigError, load_config
from portal.extensions import db
from portal.models import OutboxMessage
from portal.services import messages

PHONE = "13912345678"


@pytest.fixture
def session(app, db_session):
    """The app's session inside an app context, on the test's rolled-back connection."""
    with app.app_context():
        yield db.session


@pytest.fixture
def sender(app, monkeypatch):
    def use(kind: str, **settings):
        monkeypatch.setitem(app.config, "MESSAGE_SENDER", kind)
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
    return use


class Gateway:
    """A real HTTP server on the loopback interface that answers every POST with `status`."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.received: list[tuple[dict, dict]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if delay:
                    threading.Event().wait(delay)
                gateway.received.append((dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_the_outbox_keeps_the_message_sealed_and_the_cli_prints_it(app, session, sender):
    sender("outbox")
    messages.send(session, messages.Message(PHONE, "验证码 123456", "test.code"))
    row = session.query(OutboxMessage).one()
    assert PHONE.encode() not in row.phone_sealed and b"123456" not in row.text_sealed
    assert fieldcrypt.KeyRing.key_id_of(row.phone_sealed) > 0
    assert (row.phone, row.text, row.purpose) == (PHONE, "验证码 123456", "test.code")
    out = app.test_cli_runner().invoke(args=["outbox", "--limit", "5"])
    assert out.exit_code == 0, out.output
    assert PHONE in out.output and "验证码 123456" in out.output and "test.code" in out.output
    cleared = app.test_cli_runner().invoke(args=["outbox", "--clear"])
    assert cleared.exit_code == 0 and session.query(OutboxMessage).count() == 0


def test_the_outbox_command_refuses_when_messages_are_not_kept(app, session, sender):
    sender("none")
    out = app.test_cli_runner().invoke(args=["outbox"])
    assert out.exit_code == 1 and "MESSAGE_SENDER" in out.output


def test_the_http_sender_posts_the_message_with_its_token(app, session, sender):
    with Gateway() as gateway:
        sender("http", MESSAGE_HTTP_URL=gateway.url, MESSAGE_HTTP_TOKEN="gw-secret", MESSAGE_HTTP_TIMEOUT=5)
        assert messages.available()
        messages.send(session, messages.Message(PHONE, "验证码 654321", "test.code"))
    headers, body = gateway.received[0]
    assert body == {"phone": PHONE, "text": "验证码 654321", "purpose": "test.code"}
    assert headers["Authorization"] == "Bearer gw-secret" and headers["Content-Type"] == "application/json"
    assert session.query(OutboxMessage).count() == 0  # nothing kept here


@pytest.mark.parametrize("status", [400, 500, 503])
def test_a_gateway_that_refuses_is_a_failure(app, session, sender, status):
    with Gateway(status) as gateway:
        sender("http", MESSAGE_HTTP_URL=gateway.url, MESSAGE_HTTP_TIMEOUT=5)
        with pytest.raises(messages.SendFailed):
            messages.send(session, messages.Message(PHONE, "x", "test.code"))
    assert len(gateway.received) == 1


def test_a_silent_or_absent_gateway_is_a_failure_within_the_timeout(app, session, sender):
    with Gateway(delay=3) as gateway:
        sender("http", MESSAGE_HTTP_URL=gateway.url, MESSAGE_HTTP_TIMEOUT=1)
        with pytest.raises(messages.SendFailed):
            messages.send(session, messages.Message(PHONE, "x", "test.code"))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender("http", MESSAGE_HTTP_URL=f"http://127.0.0.1:{port}/sms", MESSAGE_HTTP_TIMEOUT=1)
    with pytest.raises(messages.SendFailed):
        messages.send(session, messages.Message(PHONE, "x", "test.code"))


def test_with_no_sender_nothing_can_be_sent(app, session, sender):
    sender("none")
    assert not messages.available()
    with pytest.raises(messages.NotAvailable):
        messages.send(session, messages.Message(PHONE, "x", "test.code"))


@pytest.fixture
def production(monkeypatch):
    for name, value in {"PORTAL_ENV": "production", "SECRET_KEY": "k" * 64, "AUDIT_CHAIN_KEY": "a" * 64,
                        "PORTAL_BASE_URL": "https://portal.example.cn"}.items():
        monkeypatch.setenv(name, value)
    for name in ("MESSAGE_SENDER", "MESSAGE_HTTP_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_sends_nothing_until_a_gateway_is_configured(tmp_path, production):
    assert load_config(tmp_path)["MESSAGE_SENDER"] == "none"
    production.setenv("MESSAGE_SENDER", "outbox")
    with pytest.raises(ConfigError, match="outbox"):
        load_config(tmp_path)
    production.setenv("MESSAGE_SENDER", "http")
    with pytest.raises(ConfigError, match="MESSAGE_HTTP_URL"):
        load_config(tmp_path)
    production.setenv("MESSAGE_HTTP_URL", "https://sms.example.cn/send")
    assert load_config(tmp_path)["MESSAGE_SENDER"] == "http"
    production.setenv("MESSAGE_SENDER", "carrier-pigeon")
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_development_keeps_messages_in_the_outbox(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("MESSAGE_SENDER", raising=False)
    assert load_config(tmp_path)["MESSAGE_SENDER"] == "outbox"
