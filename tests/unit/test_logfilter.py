"""No personal data in logs: ID numbers and phone numbers are masked in every record."""
import io
import logging

import pytest

from portal.logfilter import PersonalDataFilter, mask_text


def test_mask_text():
    assert mask_text("id 430302199001011238 phone 13812345678") == "id 430302********1238 phone 138****5678"
    assert mask_text("order 12345678901234567890") == "order 12345678901234567890"  # not an ID or phone


def test_filter_masks_formatted_records(caplog):
    logger = logging.getLogger("portal.test-logfilter")
    logger.addFilter(PersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="portal.test-logfilter"):
        logger.info("reported %s with phone %s", "43030219900101123X", "13912345678")
    assert caplog.records[0].getMessage() == "reported 430302********123X with phone 139****5678"


def _log_through_a_new_handler(logger_name: str, **kwargs) -> str:
    """Log on `logger_name` to a plain handler added after install(), as a deployment's logging config would."""
    from portal import logfilter

    logfilter.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger(logger_name).error("failed for %s", "13912345678", **kwargs)
    finally:
        root.removeHandler(handler)
    return stream.getvalue()


def _raise_with_personal_data():
    raise ValueError("INSERT failed [parameters: ('430302199001011238', '13812345678')]")


@pytest.mark.parametrize("logger_name", ["portal", "werkzeug", "gunicorn.error", "sqlalchemy.engine", "anything"])
def test_exception_text_is_masked_on_every_logger(logger_name):
    try:
        _raise_with_personal_data()
    except ValueError:
        logged = _log_through_a_new_handler(logger_name, exc_info=True)
    assert "Traceback" in logged and "ValueError: INSERT failed [parameters: ('430302********1238'" in logged
    assert "138****5678" in logged and "139****5678" in logged
    assert "430302199001011238" not in logged and "13812345678" not in logged and "13912345678" not in logged


def test_stack_info_is_masked():
    # The stack shows the source line of each frame: this one holds an ID number.
    logged = _log_through_a_new_handler("portal", stack_info=True, extra={"seen": "430302199001011238"})
    assert "Stack (most recent call last)" in logged
    assert '"seen": "430302********1238"' in logged and "430302199001011238" not in logged
