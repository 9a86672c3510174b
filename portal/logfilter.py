"""Masks resident ID numbers and mobile numbers in every log record: message, exception text and stack."""
from __future__ import annotations

import logging
import re
import traceback

ID_RE = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def mask_text(text: str) -> str:
    text = ID_RE.sub(r"\1********\2", text)
    return PHONE_RE.sub(r"\1****\2", text)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record in place. An exception is formatted here, as logging.Formatter would, and kept only as
    masked text in exc_text: every formatter appends exc_text when it is set, and none sees the exception
    object (whose message may hold a statement's parameters)."""
    if getattr(record, "_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is logged as it is rather than lost
        message = None
    if message is not None:
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    record.exc_info = None  # exc_text stands for it (a record with exc_info=(None, None, None) has none)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record._masked = True
    return record


class PersonalDataFilter(logging.Filter):
    """For a handler configured outside create_app (a logging config file): the same masking."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install() -> None:
    """Mask every record the process makes, whatever logger makes it and whichever handlers receive it
    (Flask's, werkzeug's, gunicorn's error and access logs, the root's, logging's last resort), including
    handlers configured after the app: the record factory is where every record is made."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_personal_data", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    factory.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
