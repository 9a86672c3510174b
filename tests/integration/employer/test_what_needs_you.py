"""The employer's home page lists first a rejected hire, with the reason and a working correction."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import Submission, SubmissionStatus
from tests import factories
from tests.browser import parse
from tests.factories import text_of

S = SubmissionStatus


def test_a_rejected_hire_comes_first_and_is_corrected(employer_client, db_session, district, employer, officer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    hire = factories.make_hire(db_session, employer, unit_id, name="赵六")
    factories.decide(db_session, hire, officer, S.rejected, reason_code="other", reason_text="姓名写错了")
    page = parse(employer_client.get("/employer/"))
    card = page.select_one("#needs-you li.card")
    assert card["data-needs"] == "rejected"
    assert "Other reason" in text_of(card) and "姓名写错了" in text_of(card)
    link = card.find("a", href=f"/employer/submissions/{hire.id}/correct")
    assert link is not None
    form = parse(employer_client.get(link["href"]))
    assert form.find(attrs={"name": "name"})["value"] == "赵六"
    response = employer_client.submit(link["href"], {"name": "赵陆"})
    assert response.status_code == 302 and "/receipt" in response.headers["Location"]
    db_session.expire_all()
    assert db_session.get(Submission, hire.id).status == S.superseded
    new = db_session.scalars(select(Submission).where(Submission.supersedes_id == hire.id)).one()
    assert new.payload["name"] == "赵陆"
    assert parse(employer_client.get("/employer/")).select_one("#needs-you") is None


def test_the_uscc_on_the_check_page_is_normalised(employer_client, db_session, district):
    address = district.addresses[0]
    fields = factories.unit_fields(address)
    fields.pop("address_code")
    raw = fields["uscc"]
    spaced = " " + " ".join(raw[i:i + 4] for i in range(0, len(raw), 4)).lower()
    details = employer_client.get(f"/employer/units/new?address={address.code}").headers["Location"]
    response = employer_client.submit(details, {**fields, "uscc": spaced})
    assert response.status_code == 302, text_of(parse(response).find("main"))
    check = parse(employer_client.get(response.headers["Location"]))
    assert raw.upper() in [text_of(s) for s in check.select("dd span.code")]
