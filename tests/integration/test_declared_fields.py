"""The web and the API take exactly the fields of each report's declaration; a foreign tenant's move-in,
through the pages and the API, keeps nationality, sex, birth date and visa on the person and the report."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.api import schemas
from portal.employer import forms as employer_forms
from portal.landlord import forms as landlord_forms
from portal.models import Person, Submission, SubmissionKind
from portal.services import declarations, reporting
from tests import factories
from tests.browser import parse
from tests.factories import english, field_error, field_value, text_of


def form_fields(app, *forms) -> set[str]:
    with app.test_request_context("/"):
        return {f.name for form in forms for f in form(meta={"csrf": False})} - {"form_key"}


def api_fields(model) -> set[str]:
    return set(model.model_fields)


def test_web_and_api_take_the_same_fields_for_each_report(app):
    # The address comes from the address pages on the web (the search, the door plate), a member in the API.
    assert form_fields(app, landlord_forms.HouseUseForm, landlord_forms.HouseCapacityForm) | {"address_code"} \
        == api_fields(schemas.HouseRequest)
    assert form_fields(app, landlord_forms.PersonForm) == api_fields(schemas.Occupant)
    assert "workplace" in api_fields(schemas.Occupant)
    assert form_fields(app, landlord_forms.MoveInDatesForm) | {"occupants"} == api_fields(schemas.MoveInRequest)
    assert form_fields(app, landlord_forms.MoveOutForm) == api_fields(schemas.MoveOutRequest)
    assert form_fields(app, employer_forms.UnitForm) | {"address_code"} == api_fields(schemas.UnitRequest)
    # A hire on the web and a staff-list row: the list's columns are the hire declaration's.
    assert form_fields(app, employer_forms.HireForm) == set(declarations.staff_columns())


def test_test_helpers_refuse_fields_the_declaration_lacks():
    with pytest.raises(TypeError, match="emergency_phone"):
        factories.occupant(emergency_phone="13912345678")
    with pytest.raises(TypeError, match="fax"):
        factories.declared_only(declarations.UnitRegistration, {"fax": "1"})


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=4).house


def person_form(**values) -> dict:
    empty = {name: "" for name in declarations.Occupant.model_fields}
    return {**empty, "relation": "main_tenant", **values}


def test_a_foreign_tenant_through_the_pages(landlord_client, db_session, house, officer_client):
    client = english(landlord_client)
    start = client.get(f"/landlord/houses/{house.id}/move-in").headers["Location"]
    page = parse(client.get(start))
    assert page.select_one("fieldset#group-foreign legend") is not None
    options = page.select("datalist#list-nationality option")
    assert len(options) >= 249 and any(o["value"] == "Germany" and o["label"] == "DEU" for o in options)
    # Bad input: every field at once, the typed values kept.
    bad = client.submit(start, person_form(id_type="passport", id_number="E98765432", name="Hans Müller",
                                           nationality="Atlantis", sex="M", birth_date="2099-01-01",
                                           visa_kind="visa_z", visa_expiry=""))
    assert bad.status_code == 200
    page = parse(bad)
    assert field_error(page, "nationality").startswith("Choose the country from the list")
    assert field_error(page, "birth_date") == "This date cannot be in the future."
    assert field_error(page, "visa_expiry") == "Enter the date the visa or residence permit ends."
    assert field_value(page, "nationality") == "Atlantis" and field_value(page, "name") == "Hans Müller"
    good = client.submit(start, person_form(id_type="passport", id_number="E98765432", name="Hans Müller",
                                            nationality="Germany", sex="M", birth_date="1980-02-03",
                                            visa_kind="visa_z", visa_expiry="2027-12-31", phone="13912345678"))
    assert good.status_code == 302 and good.headers["Location"].endswith("/another")
    dates = client.submit(good.headers["Location"], {"another": "no"}).headers["Location"]
    check = client.submit(dates, {"move_in_date": reporting.local_today().isoformat()}).headers["Location"]
    card = text_of(parse(client.get(check)).select_one("ol.card-list > li"))
    # The landlord's own check page: their typing in full.
    for shown in ("E98765432", "Germany (DEU)", "1980-02-03", "Visa Z (work)", "2027-12-31", "13912345678"):
        assert shown in card
    assert client.submit(check, {}).status_code == 302
    sub = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.move_in)).one()
    stored = sub.payload["occupants"][0]
    assert (stored["nationality"], stored["sex"], stored["birth_date"], stored["visa_kind"],
            stored["visa_expiry"]) == ("DEU", "M", "1980-02-03", "visa_z", "2027-12-31")
    person = db_session.scalar(select(Person).where(Person.id_type == "passport"))
    assert (person.nationality, person.visa_kind, person.visa_expiry.isoformat(), person.birth_date.isoformat()) \
        == ("DEU", "visa_z", "2027-12-31", "1980-02-03")
    # The officer's page: the nationality and visa shown, the number and phone masked.
    item = text_of(parse(english(officer_client).get(f"/officer/items/{sub.id}")).select_one("ol.people"))
    assert "Germany (DEU)" in item and "Visa Z (work)" in item and "139****5678" in item
    assert "E98765432" not in item and "13912345678" not in item
