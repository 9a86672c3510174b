"""The administrator's account list: masked phones, accounts under attack."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from portal.models.base import utcnow
from portal.services import auth
from portal.services.audit import Actor
from portal.services.throttle import Throttle
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


def test_an_account_under_attack_is_told_to_the_administrators(admin_client, db_session, officer):
    limits, now = Throttle(), utcnow()
    for n in range(15):
        auth.check_password(db_session, officer.phone, f"guess {n}", Actor(ip=f"203.0.113.{n}"), limits=limits,
                            now=now)
        db_session.refresh(officer)
        now = max(now, officer.throttled_until or now) + timedelta(seconds=1)
    alerts = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "account.under_attack")).all()
    assert [(a.object_type, a.object_id) for a in alerts] == [("user", str(officer.id))]  # once per streak
    notice = parse(admin_client.get("/admin/")).find(id="under-attack")
    assert notice is not None
    text = notice.get_text(" ", strip=True)
    assert f"{officer.phone[:3]}****{officer.phone[-4:]}" in text and officer.phone not in text
    assert "15" in text
