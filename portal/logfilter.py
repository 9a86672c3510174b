"""A logging filter that masks resident ID numbers and mobile numbers in every log line."""
from __future__ import annotations

import logging
import re

ID_RE = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def mask_text(text: str) -> str:
    text = ID_RE.sub(r"\1********\2", text)
    return PHONE_RE.sub(r"\1****\2", text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is rather than lost
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
