"""No personal data in logs: ID numbers and phone numbers are masked in every record."""
import logging

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
