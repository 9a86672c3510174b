"""Declared details belong to the declaration (issue 12, item 1, and the oracle of item 4).

The attack: a landlord registers any house (it may stay pending) and reports a move-in naming another
landlord's tenant's ID number with another name and phone. Before, that rewrote the person everywhere,
and withdrawing the report left the change; the move-in's answer told the attacker, through the flag
other_tenancy, that the number lives somewhere else. Now the register changes only when an officer
confirms a report, and flags about other people's records are for officers only.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Person, Submission, Tenancy, Unit
from portal.services import receipts, reporting, staff_import, units
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import text_of
from tests.integration.api.conftest import ApiClient, new_token
from tests.integration.landlord.test_house_journey import location, start


@pytest.fixture
def victim(db_session, district):
    """Landlord A and their tenant, as A declared the tenant."""
    owner = factories.make_user(db_session, role="landlord", name="王房东")
    house = factories.make_house(db_session, owner, district.addresses[0]).house
    tenant = factories.occupant(name="张三", phone="13800138000")
    move_in = factories.make_move_in(db_session, owner, house.id, [tenant])
    return owner, house, tenant, move_in


@pytest.fixture
def attacker(db_session, district):
    """Landlord B with a house of their own that nobody has verified."""
    owner = factories.make_user(db_session, role="landlord", name="李房东")
    house = factories.make_house(db_session, owner, district.addresses[1]).house
    return owner, house


def register_person(db_session, id_number: str) -> Person:
    db_session.expire_all()
    return db_session.scalar(select(Person).where(Person.id_number.matches(id_number)))


def test_a_report_naming_someone_else_changes_nothing_they_show(app, db_session, victim, attacker, officer):
    owner_a, house_a, tenant, _ = victim
    owner_b, house_b = attacker
    api_a = ApiClient(app.test_client(), new_token(db_session, owner_a))
    api_b = ApiClient(app.test_client(), new_token(db_session, owner_b))
    forged = {**tenant, "name": "假名字", "phone": "13999999999"}

    answer = api_b.post(f"/api/v1/houses/{house_b.id}/move-ins",
                        json={"move_in_date": reporting.local_today().isoformat(), "occupants": [forged]})
    assert answer.status_code == 201, answer.get_data(as_text=True)

    person = register_person(db_session, tenant["id_number"])
    assert (person.name, person.phone, person.details_submission_id) == ("张三", "13800138000", None)
    # A's API and A's house page show the tenant as A declared them.
    shown = api_a.get("/api/v1/houses").get_json()
    assert [t["name"] for h in shown for t in h["tenancies"]] == ["张三"]
    client_a = FormClient(app.test_client())
    client_a.sign_in(owner_a.phone, factories.PASSWORD)
    page = parse(client_a.get(f"/landlord/houses/{house_a.id}"))
    assert "张三" in text_of(page.select_one("main")) and "假名字" not in text_of(page.select_one("main"))
    # B sees what B typed (and never A's tenant's real name).
    shown_b = api_b.get("/api/v1/houses").get_json()
    assert [t["name"] for h in shown_b for t in h["tenancies"]] == ["假名字"]

    # Withdrawn: still nothing changed.
    client_b = FormClient(app.test_client())
    client_b.sign_in(owner_b.phone, factories.PASSWORD)
    sub_b = answer.get_json()["submission_id"]
    reporting.withdraw(db_session, owner_b, sub_b, factories.as_actor(owner_b))
    person = register_person(db_session, tenant["id_number"])
    assert (person.name, person.phone) == ("张三", "13800138000")


def test_an_officers_confirmation_makes_the_declared_details_the_registers(db_session, victim, attacker, officer):
    _, _, tenant, move_in_a = victim
    owner_b, house_b = attacker
    renamed = {**tenant, "name": "张叁", "phone": "13900001111"}
    sub_b = factories.make_move_in(db_session, owner_b, house_b.id, [renamed])
    assert {"code": "details_differ", "person": 0} in sub_b.flags  # the officer is told the two differ

    factories.decide(db_session, move_in_a, officer, "confirmed")
    person = register_person(db_session, tenant["id_number"])
    assert (person.name, person.details_submission_id) == ("张三", move_in_a.id)
    # An officer of the other beat's station confirms B's report: the register now says whose report it is.
    other_officer = factories.make_user(db_session, role="officer", station=sub_b.house.address.beat.station)
    factories.decide(db_session, sub_b, other_officer, "confirmed")
    person = register_person(db_session, tenant["id_number"])
    assert (person.name, person.phone, person.details_submission_id) == ("张叁", "13900001111", sub_b.id)
    tenancies = db_session.scalars(select(Tenancy).where(Tenancy.person_id == person.id).order_by(Tenancy.id))
    assert [t.declared_name for t in tenancies] == ["张三", "张叁"]  # each landlord's own declaration stays


def test_a_rejected_report_changes_nothing(db_session, victim, attacker, district):
    _, _, tenant, _ = victim
    owner_b, house_b = attacker
    sub_b = factories.make_move_in(db_session, owner_b, house_b.id, [{**tenant, "name": "假名字"}])
    officer_b = factories.make_user(db_session, role="officer", station=district.stations[1])
    factories.decide(db_session, sub_b, officer_b, "rejected", reason_code="identity_mismatch")
    assert register_person(db_session, tenant["id_number"]).name == "张三"


def test_a_hire_naming_someone_else_changes_nothing(db_session, district, victim):
    """The same for employments: an employer's hire of a known person never renames them."""
    _, _, tenant, _ = victim
    employer = factories.make_user(db_session, role="employer")
    officer_b = factories.make_user(db_session, role="officer", station=district.stations[1])
    unit = db_session.get(Unit, factories.make_unit(db_session, employer, district.addresses[1],
                                                    verified_by=officer_b).unit_id)
    filed = units.report_hire(db_session, employer, unit.id, name="冒名", id_number=tenant["id_number"],
                              phone="13700007777", position="保安", hire_date=reporting.local_today().isoformat(),
                              actor=factories.as_actor(employer))
    person = register_person(db_session, tenant["id_number"])
    assert (person.name, person.phone) == ("张三", "13800138000")
    assert [e.declared_name for e in staff_import.roster(db_session, unit)] == ["冒名"]
    assert {"code": "details_differ"} in filed.submission.flags


def test_a_staff_list_naming_someone_else_changes_nothing(db_session, district, victim):
    _, _, tenant, _ = victim
    employer = factories.make_user(db_session, role="employer")
    officer_b = factories.make_user(db_session, role="officer", station=district.stations[1])
    unit_id = factories.make_unit(db_session, employer, district.addresses[1], verified_by=officer_b).unit_id
    newcomer = factories.staff_row("钱七")
    imp = factories.make_staff_import(db_session, employer, unit_id, [
        factories.staff_row("冒名", id_number=tenant["id_number"]), newcomer])
    assert register_person(db_session, tenant["id_number"]).name == "张三"
    assert register_person(db_session, newcomer[2]).name == "钱七"
    hires = db_session.scalars(select(Submission).where(Submission.staff_import_id == imp.id)
                               .order_by(Submission.id)).all()
    assert [("details_differ" in [f["code"] for f in h.flags]) for h in hires] == [True, False]
    roster = staff_import.roster(db_session, db_session.get(Unit, unit_id))
    assert sorted(e.declared_name for e in roster) == ["冒名", "钱七"]


# --- the oracle: flags about other people's records are for officers only ------------------------------

def test_the_move_in_answer_never_says_the_person_lives_elsewhere(app, db_session, victim, attacker):
    _, house_a, tenant, _ = victim
    owner_b, house_b = attacker
    api_b = ApiClient(app.test_client(), new_token(db_session, owner_b))
    answer = api_b.post(f"/api/v1/houses/{house_b.id}/move-ins",
                        json={"move_in_date": reporting.local_today().isoformat(), "occupants": [tenant]})
    assert answer.status_code == 201
    assert answer.get_json()["flags"] == []
    read_back = api_b.get(f"/api/v1/submissions/{answer.get_json()['submission_id']}").get_json()
    assert read_back["flags"] == []
    # The officer still sees it, on the stored submission.
    stored = db_session.get(Submission, answer.get_json()["submission_id"])
    assert {"code": "other_tenancy", "person": 0, "house_id": house_a.id} in stored.flags
    # And the API document does not even list it.
    enum = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Flag"]
    assert "other_tenancy" not in enum["properties"]["code"]["enum"]
    assert "late" in enum["properties"]["code"]["enum"]


def test_flags_about_the_reporters_own_house_stay(app, db_session, attacker):
    owner_b, house_b = attacker
    api_b = ApiClient(app.test_client(), new_token(db_session, owner_b))
    people = [factories.occupant(name=name) for name in ("赵一", "钱二", "孙三", "李四", "周五")]  # the house allows 4
    answer = api_b.post(f"/api/v1/houses/{house_b.id}/move-ins",
                        json={"move_in_date": reporting.local_today().isoformat(), "occupants": people})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert [f["code"] for f in answer.get_json()["flags"]] == ["over_capacity"]


def test_officer_item_views_are_audited_and_reveals_limited(app, db_session, victim, officer, officer_client):
    app.config["REVEALS_PER_HOUR"] = 2
    try:
        _, _, _, move_in = victim
        url = f"/officer/items/{move_in.id}"
        assert officer_client.get(url).status_code == 200
        views = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "item.view",
                                                            AuditEvent.actor_id == officer.id)).all()
        assert [v.object_id for v in views] == [str(move_in.id)]
        statuses = []
        for _ in range(3):
            page = parse(officer_client.get(url))
            statuses.append(factories.post_form(officer_client, page, url, "/reveal", data={"person": "0"})
                            .status_code)
        assert statuses == [200, 200, 429]
        outcomes = db_session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "id.reveal",
                                                                       AuditEvent.actor_id == officer.id)
                                      .order_by(AuditEvent.id)).all()
        assert outcomes == ["success", "success", "refused"]
    finally:
        app.config["REVEALS_PER_HOUR"] = 30


def test_the_officer_sees_what_the_register_holds_and_from_which_report(db_session, victim, officer,
                                                                        officer_client):
    _, _, _, move_in = victim
    url = f"/officer/items/{move_in.id}"
    before = text_of(parse(officer_client.get(url)).select_one("#in-register"))
    assert "张三" in before and "尚未确认" in before  # as first reported, not yet confirmed
    factories.decide(db_session, move_in, officer, "confirmed")
    after = text_of(parse(officer_client.get(url)).select_one("#in-register"))
    assert "张三" in after and receipts.display(move_in.receipt) in after and "尚未确认" not in after


# --- a second claim on one address: flagged where it is decided -------------------------------------

def test_a_second_claim_on_an_address_is_flagged_and_the_reporter_told(app, db_session, district, victim,
                                                                       landlord_client, landlord):
    owner_a, house_a, _, _ = victim
    address = district.addresses[0]  # A's house stands there (pending)
    use_url = start(landlord_client, address)
    capacity_url = location(landlord_client.submit(use_url, {"use": "whole_rental"}))
    check_url = location(landlord_client.submit(capacity_url, {"max_occupants": "3"}))
    page = parse(landlord_client.get(check_url))
    notice = page.select_one("#claimed-by-another")
    assert notice is not None and owner_a.name not in text_of(page) and owner_a.phone[-4:] not in text_of(page)

    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    answer = api.post("/api/v1/houses", json={"address_code": address.code, "use": "whole_rental",
                                              "max_occupants": 2})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert [f["code"] for f in answer.get_json()["flags"]] == ["claimed_by_another"]
    stored = db_session.get(Submission, answer.get_json()["submission_id"])
    assert stored.flags == [{"code": "claimed_by_another", "house_id": house_a.id}] and stored.flagged
    # A's own registration, alone at its address when filed, is flagged now too, naming B's house
    # (tests/integration/officer/test_claims.py follows the conflict to its resolution).
    first = db_session.scalar(select(Submission).where(Submission.house_id == house_a.id,
                                                       Submission.kind == "house_registration"))
    assert first.flags == [{"code": "claimed_by_another", "house_id": stored.house_id}] and first.flagged
