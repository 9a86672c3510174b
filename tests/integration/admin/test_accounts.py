"""The administrator's account list: masked phones, accounts under attack."""
import pytest

from tests import factories
from tests.browser import FormClient, parse


@pytest.fixture
def admin_client(app, db_session):
    admin = factories.make_user(db_session, role="admin")
    c = FormClient(app.test_client())
    c.sign_in(admin.phone, factories.PASSWORD, totp_secret=admin.totp_secret)
    return c


def test_account_list_masks_phone_numbers(admin_client, landlord):
    page = parse(admin_client.get("/admin/"))
    text = page.get_text()
    assert landlord.phone not in text
    assert f"{landlord.phone[:3]}****{landlord.phone[-4:]}" in text
