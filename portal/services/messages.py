"""Text messages to a phone (one-time codes today; notices later), through one small interface.

MESSAGE_SENDER picks how a message leaves:

* "outbox" (the default outside production): kept in the database, the phone and the text sealed like
  other personal data, and printed by `flask --app portal outbox`. Nothing is sent anywhere.
* "http" (production): an HTTP POST of the JSON {"phone", "text", "purpose"} to MESSAGE_HTTP_URL (the SMS
  gateway's adapter), with MESSAGE_HTTP_TOKEN as a bearer token when set, within MESSAGE_HTTP_TIMEOUT
  seconds; any answer but 2xx is a failure.
* "none" (the default in production until a gateway is configured): nothing can be sent; `available()` is
  False and a page that needs a message says the service is not available.

Production refuses to start with "outbox": codes kept in a table would never reach a phone.
"""
from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from flask import after_this_request, current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.models import OutboxMessage

SENDERS = ("outbox", "http", "none")


class NotAvailable(Exception):
    """No sender is configured (MESSAGE_SENDER=none)."""


class SendFailed(Exception):
    """The gateway did not take the message (no answer in time, refused, or not 2xx)."""


@dataclass(frozen=True)
class Message:
    phone: str
    text: str
    purpose: str


def available() -> bool:
    return current_app.config["MESSAGE_SENDER"] != "none"


def send(session: Session, message: Message) -> None:
    """Hand the message to the configured sender. The outbox adds a row to the caller's transaction; the
    gateway is called at once (a message cannot be taken back: send after the checks that could refuse)."""
    sender = current_app.config["MESSAGE_SENDER"]
    if sender == "outbox":
        session.add(OutboxMessage(purpose=message.purpose, phone=message.phone, text=message.text))
        session.flush()
    elif sender == "http":
        _post(message)
    else:
        raise NotAvailable


# The gateway's calls of send_soon, on threads of this process (made again after a fork: gunicorn's workers).
_DELIVERY_THREADS = 2
_delivery: tuple[int, ThreadPoolExecutor] | None = None
_delivery_lock = threading.Lock()


def _deliverer() -> ThreadPoolExecutor:
    global _delivery
    with _delivery_lock:
        if _delivery is None or _delivery[0] != os.getpid():
            _delivery = (os.getpid(), ThreadPoolExecutor(max_workers=_DELIVERY_THREADS,
                                                         thread_name_prefix="messages"))
        return _delivery[1]


def send_soon(session: Session, message: Message | None) -> None:
    """As `send`, except that the gateway is called only once the answer to this request has gone out, and on
    a thread of its own (a one-time code: neither how long the page took nor when the server closed the
    connection may tell whether a message left, that is whether the number it was asked for is on the
    register; a worker that waited for the gateway before closing would tell it). A failure then can only be
    logged, without the phone."""
    if message is None:
        return
    if current_app.config["MESSAGE_SENDER"] != "http":
        send(session, message)
        return
    config = dict(current_app.config)
    logger = current_app.logger

    def deliver() -> None:
        try:
            _post(message, config)
        except SendFailed as err:
            logger.warning("text message not sent (purpose %s): %s", message.purpose, err)

    @after_this_request
    def later(response):
        response.call_on_close(lambda: _deliverer().submit(deliver))
        return response


def _post(message: Message, config=None) -> None:
    config = config or current_app.config
    headers = {"Content-Type": "application/json"}
    if config.get("MESSAGE_HTTP_TOKEN"):
        headers["Authorization"] = f"Bearer {config['MESSAGE_HTTP_TOKEN']}"
    body = json.dumps({"phone": message.phone, "text": message.text, "purpose": message.purpose},
                      ensure_ascii=False).encode("utf-8")
    # The URL is the operator's, and its scheme http(s) (checked by config.py): never input.
    request = urllib.request.Request(config["MESSAGE_HTTP_URL"], data=body, headers=headers,  # noqa: S310
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=config["MESSAGE_HTTP_TIMEOUT"]) as answer:  # noqa: S310
            if not 200 <= answer.status < 300:
                raise SendFailed(f"gateway answered {answer.status}")
    except (urllib.error.URLError, TimeoutError, OSError) as err:  # HTTPError (4xx, 5xx) is a URLError
        raise SendFailed(str(err)) from None


def outbox(session: Session, limit: int = 20) -> list[OutboxMessage]:
    """The newest messages of the development outbox, newest first."""
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))


def clear_outbox(session: Session, *, older_than: datetime | None = None) -> int:
    """Delete the outbox's messages (only those made before `older_than`, for `flask purge`)."""
    statement = delete(OutboxMessage)
    if older_than is not None:
        statement = statement.where(OutboxMessage.created_at < older_than)
    return session.execute(statement).rowcount
