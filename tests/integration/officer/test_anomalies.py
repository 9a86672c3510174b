"""The anomaly lists (services/anomalies.py): what each holds and what it does not, scoped to the
officer's station or beat as the queue is, paged by a cursor that cannot be tampered into a 500."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from portal.models import House, StaffImport, Submission, Tenancy, Unit
from portal.models.base import utcnow
from portal.services import anomalies
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, text_of

CHILD = (date.today() - timedelta(days=365 * 10)).strftime("%Y%m%d")
TEEN = (date.today() - timedelta(days=365 * 17 + 30)).strftime("%Y%m%d")


def signed_in(app, user) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret)
    return english(c)


def room(session, beat, n: int):
    a = factories.make_address(session, beat, road="建设路", door_no=f"{n}号", community="", building="1栋",
                               unit="1单元", room=f"{n}01")
    session.commit()
    return a


@pytest.fixture
def officer2(db_session, district):
    return factories.make_user(db_session, role="officer", station=district.stations[1])


def house(session, owner, address, **kw):
    return factories.make_house(session, owner, address, **kw).house_id


def living_in(session, owner, house_id, people, **kw):
    return factories.make_move_in(session, owner, house_id, people, **kw)


def tenancies_of(session, sub):
    session.expire_all()
    return list(session.query(Tenancy).filter(Tenancy.submission_id == sub.id).order_by(Tenancy.id))


def keys(session, officer, kind):
    return [r.key for r in anomalies.page(session, officer, kind).rows]


# --- people living in two houses ------------------------------------------------------------------

def test_two_houses_in_and_out(db_session, district, landlord, officer, officer2):
    other = factories.make_user(db_session, role="landlord")
    a, b, c = (house(db_session, landlord, room(db_session, district.beats[0], n)) for n in (1, 2, 3))
    far = house(db_session, other, room(db_session, district.beats[2], 4))  # station 2
    both = factories.occupant(name="王五")
    moved = factories.occupant(name="赵钱")
    only_far = factories.occupant(name="孙李")
    in_a = living_in(db_session, landlord, a, [both])
    living_in(db_session, other, far, [dict(both)])
    first = living_in(db_session, landlord, b, [moved])
    living_in(db_session, landlord, c, [dict(moved)])
    # Its move-out is reported: the person lives only in c now.
    factories.make_move_out(db_session, landlord, tenancies_of(db_session, first)[0].id)
    living_in(db_session, other, far, [only_far])
    pid_both = tenancies_of(db_session, in_a)[0].person_id
    assert keys(db_session, officer, "two-houses") == [(pid_both,)]
    row = anomalies.page(db_session, officer, "two-houses").rows[0]
    assert row.name == "王*"
    assert [p.in_scope for p in row.places] == [True, False]  # station 2's house is not shown
    assert anomalies.count(db_session, officer, "two-houses") == 1
    # The station 2 officer sees the same person from their side, with station 1's house hidden.
    assert keys(db_session, officer2, "two-houses") == [(pid_both,)]


# --- houses over capacity ----------------------------------------------------------------------------

def test_over_capacity(db_session, district, landlord, officer, officer2):
    full = house(db_session, landlord, room(db_session, district.beats[0], 1), max_occupants=1)
    exact = house(db_session, landlord, room(db_session, district.beats[0], 2), max_occupants=2)
    leaving = house(db_session, landlord, room(db_session, district.beats[1], 3), max_occupants=1)
    far = house(db_session, landlord, room(db_session, district.beats[2], 4), max_occupants=1)
    living_in(db_session, landlord, full, [factories.occupant(name="甲一"), factories.occupant(name="乙二")])
    living_in(db_session, landlord, exact, [factories.occupant(name="甲一"), factories.occupant(name="乙二")])
    sub = living_in(db_session, landlord, leaving, [factories.occupant(name="甲一"), factories.occupant(name="乙二")])
    factories.make_move_out(db_session, landlord, tenancies_of(db_session, sub)[0].id)
    living_in(db_session, landlord, far, [factories.occupant(name="甲一"), factories.occupant(name="乙二")])
    assert keys(db_session, officer, "over-capacity") == [(full,)]
    row = anomalies.page(db_session, officer, "over-capacity").rows[0]
    assert (row.number, row.limit) == (2, 1)
    assert row.places[0].item_id is not None
    assert keys(db_session, officer2, "over-capacity") == [(far,)]


# --- children with no adult ---------------------------------------------------------------------

def test_children_alone(db_session, district, landlord, officer):
    alone, with_adult, unknown, teen, far = (
        house(db_session, landlord, room(db_session, district.beats[i], n))
        for i, n in ((0, 1), (0, 2), (1, 3), (1, 4), (2, 5)))
    living_in(db_session, landlord, alone, [factories.occupant(birth=CHILD, name="小明", relation="child")])
    living_in(db_session, landlord, with_adult, [factories.occupant(name="大人"),
                                                 factories.occupant(birth=CHILD, name="小红", relation="child")])
    # A passport holder's declared birth date counts as a resident ID number's does.
    living_in(db_session, landlord, unknown, [
        factories.occupant(birth=CHILD, name="小刚", relation="child"),
        {"id_type": "passport", "id_number": "E12345678", "name": "Anna Smith", "relation": "parent",
         "sex": "F", "nationality": "GBR", "birth_date": "1985-06-01", "visa_kind": "residence_work",
         "visa_expiry": "2030-01-01"}])
    # A 17-year-old is no adult: the flag's rule (under 16 with nobody of 18 or unknown age) holds.
    living_in(db_session, landlord, teen, [factories.occupant(birth=CHILD, name="小强", relation="child"),
                                           factories.occupant(birth=TEEN, name="少年", relation="child")])
    living_in(db_session, landlord, far, [factories.occupant(birth=CHILD, name="小远", relation="child")])
    got = keys(db_session, officer, "children-alone")
    assert (alone,) in got and (teen,) in got
    assert (with_adult,) not in got and (far,) not in got and (unknown,) not in got


def test_children_alone_unknown_age(db_session, district, landlord, officer):
    hid = house(db_session, landlord, room(db_session, district.beats[0], 1))
    sub = living_in(db_session, landlord, hid, [factories.occupant(birth=CHILD, name="小明", relation="child"),
                                                factories.occupant(name="大人")])
    adult = tenancies_of(db_session, sub)[1]
    adult.person.birth_date = None  # of unknown age: a possible adult
    db_session.commit()
    assert keys(db_session, officer, "children-alone") == []
    adult.person.birth_date = date(1990, 1, 1)
    db_session.commit()
    factories.make_move_out(db_session, landlord, adult.id)  # the adult's move-out is reported
    assert keys(db_session, officer, "children-alone") == [(hid,)]


# --- leases ended, no move-out reported -----------------------------------------------------------

def test_overdue(db_session, district, landlord, officer, officer2):
    hid = house(db_session, landlord, room(db_session, district.beats[0], 1))
    far = house(db_session, landlord, room(db_session, district.beats[2], 2))
    ended = living_in(db_session, landlord, hid, [factories.occupant(name="过期")], move_in_date="2025-01-01",
                      lease_end_date="2025-06-30")
    running = living_in(db_session, landlord, hid, [factories.occupant(name="未到")], move_in_date="2025-01-01",
                        lease_end_date=(date.today() + timedelta(days=30)).isoformat())
    reported = living_in(db_session, landlord, hid, [factories.occupant(name="已报")], move_in_date="2025-01-01",
                         lease_end_date="2025-03-31")
    living_in(db_session, landlord, far, [factories.occupant(name="远方")], move_in_date="2025-01-01",
              lease_end_date="2025-06-30")
    factories.make_move_out(db_session, landlord, tenancies_of(db_session, reported)[0].id)
    t = tenancies_of(db_session, ended)[0]
    assert keys(db_session, officer, "overdue") == [(date(2025, 6, 30), t.id)]
    row = anomalies.page(db_session, officer, "overdue").rows[0]
    assert (row.name, row.places[0].item_id) == ("过*", ended.id)
    assert running.id not in [r.places[0].item_id for r in anomalies.page(db_session, officer, "overdue").rows]
    assert len(keys(db_session, officer2, "overdue")) == 1


# --- silent rental houses ----------------------------------------------------------------------------

def _age_reports(session, house_id, days):
    session.execute(update(Submission).where(Submission.house_id == house_id)
                    .values(submitted_at=utcnow() - timedelta(days=days)))
    session.commit()


def test_silent_houses(db_session, district, landlord, officer):
    silent = house(db_session, landlord, room(db_session, district.beats[0], 1))
    recent = house(db_session, landlord, room(db_session, district.beats[0], 2))
    vacant = house(db_session, landlord, room(db_session, district.beats[0], 3), use="vacant")
    rejected = house(db_session, landlord, room(db_session, district.beats[1], 4))
    far = house(db_session, landlord, room(db_session, district.beats[2], 5))
    for hid in (silent, vacant, rejected, far):
        _age_reports(db_session, hid, 200)
    _age_reports(db_session, recent, 100)
    db_session.execute(update(House).where(House.id == rejected).values(status="rejected"))
    db_session.commit()
    assert keys(db_session, officer, "silent-houses") == [(silent,)]
    assert anomalies.page(db_session, officer, "silent-houses").rows[0].at is not None
    living_in(db_session, landlord, silent, [factories.occupant()])  # a report today
    assert keys(db_session, officer, "silent-houses") == []


# --- units without a staff list ------------------------------------------------------------------------

def test_units_without_a_staff_list(db_session, district, officer, officer2):
    employer = factories.make_user(db_session, role="employer")
    addr = room(db_session, district.beats[0], 1)
    far_addr = room(db_session, district.beats[2], 2)
    old, listed, new, far = (factories.make_unit(db_session, employer, a).unit_id
                             for a in (addr, addr, addr, far_addr))
    imp = factories.make_staff_import(db_session, employer, listed, [factories.staff_row("张三")])
    long_ago = utcnow() - timedelta(days=120)
    db_session.execute(update(Unit).where(Unit.id.in_([old, listed, far])).values(created_at=long_ago))
    db_session.execute(update(StaffImport).where(StaffImport.id == imp.id)
                       .values(created_at=utcnow() - timedelta(days=30)))
    db_session.commit()
    assert keys(db_session, officer, "no-staff-list") == [(old,)]
    row = anomalies.page(db_session, officer, "no-staff-list").rows[0]
    assert row.at is None and row.places[0].item_id is not None
    assert keys(db_session, officer2, "no-staff-list") == [(far,)]
    db_session.execute(update(StaffImport).where(StaffImport.id == imp.id)
                       .values(created_at=utcnow() - timedelta(days=91)))
    db_session.commit()
    assert keys(db_session, officer, "no-staff-list") == [(old,), (listed,)]
    assert new not in [k[0] for k in keys(db_session, officer, "no-staff-list")]


# --- conflicting claims ----------------------------------------------------------------------------------

def test_conflicting_claims(db_session, district, landlord, officer, officer2):
    other = factories.make_user(db_session, role="landlord")
    shared, own, far = (room(db_session, district.beats[i], n) for i, n in ((0, 1), (1, 2), (2, 3)))
    factories.make_house(db_session, landlord, shared)
    factories.make_house(db_session, other, shared)
    factories.make_house(db_session, landlord, own)
    factories.make_house(db_session, landlord, far)
    second = factories.make_house(db_session, other, far)
    assert keys(db_session, officer, "conflicting-claims") == [(shared.id,)]
    row = anomalies.page(db_session, officer, "conflicting-claims").rows[0]
    assert len(row.places) == 2 and all(p.item_id for p in row.places)
    assert keys(db_session, officer2, "conflicting-claims") == [(far.id,)]
    # A withdrawn or rejected registration claims nothing.
    db_session.execute(update(House).where(House.id == second.house_id).values(status="rejected"))
    db_session.commit()
    assert keys(db_session, officer2, "conflicting-claims") == []


# --- one credit code registered by two employers ---------------------------------------------------------

def test_shared_credit_codes(app, db_session, district, officer, officer2):
    first, second = (factories.make_user(db_session, role="employer") for _ in range(2))
    code, alone = factories.uscc(), factories.uscc()
    mine = factories.make_unit(db_session, first, district.addresses[0], uscc=code).unit_id
    theirs = factories.make_unit(db_session, second, district.addresses[1], uscc=code,
                                 name="湘潭市别处公司").unit_id
    factories.make_unit(db_session, first, district.addresses[0], uscc=alone, name="湘潭市独家公司")
    # One row per code, for each station that holds one of its units; the other station's unit only as such.
    assert keys(db_session, officer, "shared-credit-codes") == [(mine,)]
    assert keys(db_session, officer2, "shared-credit-codes") == [(theirs,)]
    row = anomalies.page(db_session, officer, "shared-credit-codes").rows[0]
    assert row.name == "湘潭市雨湖区测试餐饮有限公司"  # its own unit's name, never the other station's
    assert anomalies.page(db_session, officer2, "shared-credit-codes").rows[0].name == "湘潭市别处公司"
    assert [(p.in_scope, p.unit_id, bool(p.item_id)) for p in row.places] == [(True, mine, True),
                                                                               (False, None, False)]
    assert row.places[1].address == "" and row.places[1].owner == ""  # nothing of the other station's unit
    assert anomalies.counts(db_session, officer, cap=None)["shared-credit-codes"] == 1
    page = signed_in(app, officer).get("/officer/anomalies/shared-credit-codes")
    assert page.status_code == 200
    body = text_of(parse(page).select_one("#anomaly-rows"))
    assert "A unit outside your jurisdiction" in body and "2 units" in body
    # A rejected registration claims nothing (and a code only one employer holds is on no list).
    db_session.execute(update(Unit).where(Unit.id == theirs).values(status="rejected"))
    db_session.commit()
    assert keys(db_session, officer, "shared-credit-codes") == []


# --- pages: counts on the home page, scoping, paging, bad cursors ------------------------------------

def test_home_page_counts_and_links(app, db_session, district, landlord, officer, officer2):
    hid = house(db_session, landlord, room(db_session, district.beats[2], 1), max_occupants=1)
    living_in(db_session, landlord, hid, [factories.occupant(name="甲一"), factories.occupant(name="乙二")])
    mine = parse(signed_in(app, officer).get("/officer/"))
    theirs = parse(signed_in(app, officer2).get("/officer/"))
    count = {p: {li["data-kind"]: int(li.select_one(".anomaly-count")["data-count"])
                 for li in page.select("#anomaly-counts li")} for p, page in (("mine", mine), ("theirs", theirs))}
    assert set(count["mine"]) == set(anomalies.KINDS)
    assert count["mine"]["over-capacity"] == 0 and count["theirs"]["over-capacity"] == 1
    links = {a["href"] for a in mine.select("a")}
    assert {"/officer/queue", "/officer/quality", "/officer/anomalies/over-capacity"} <= links


def test_list_page_is_scoped_and_ignores_other_stations_ids(app, db_session, district, landlord, officer, officer2):
    mine = house(db_session, landlord, room(db_session, district.beats[0], 1), max_occupants=1)
    far_reg = factories.make_house(db_session, landlord, room(db_session, district.beats[2], 2), max_occupants=1)
    far = far_reg.house_id
    for hid in (mine, far):
        move_in = living_in(db_session, landlord, hid, [factories.occupant(name="甲一"),
                                                        factories.occupant(name="乙二")])
        if hid == far:  # station 2's house and its people verified: still never on station 1's list
            factories.decide(db_session, far_reg, officer2, "confirmed")
            factories.decide(db_session, move_in, officer2, "confirmed")
    assert db_session.get(House, far).status == "verified"
    c = signed_in(app, officer)
    station2, beat2 = district.stations[1].id, district.beats[2].id
    for query in ("", f"?station={station2}", f"?beat={beat2}", f"?station_id={station2}&beat_id={beat2}"):
        page = parse(c.get(f"/officer/anomalies/over-capacity{query}"))
        hrefs = [a["href"] for a in page.select("#anomaly-rows a[href^='/officer/items/']")]
        assert len(hrefs) == 1
        assert [a["href"] for a in page.select("#anomaly-rows a.register-link")] == [f"/officer/register/houses/{mine}"]
        item_id = int(hrefs[0].rsplit("/", 1)[1])
        assert c.get(f"/officer/items/{item_id}").status_code == 200
    far_item = anomalies.page(db_session, officer2, "over-capacity").rows[0].places[0].item_id
    assert far_item not in [int(a["href"].rsplit("/", 1)[1])
                            for a in parse(c.get("/officer/anomalies/over-capacity")).select(
                                "#anomaly-rows a[href^='/officer/items/']")]
    assert c.get("/officer/anomalies/nonsense").status_code == 404


def test_landlord_gets_404(landlord_client):
    assert landlord_client.get("/officer/anomalies/over-capacity").status_code == 404


def test_paging_50_a_page(db_session, district, landlord, officer):
    ids = []
    for n in range(53):
        a = room(db_session, district.beats[0], 100 + n)
        ids.append(house(db_session, landlord, a))
    other = factories.make_user(db_session, role="landlord")
    for n in range(53):
        db_session.add(House(address_id=db_session.get(House, ids[n]).address_id, owner_id=other.id,
                             beat_id=district.beats[0].id, use="whole_rental", max_occupants=2))
    db_session.commit()
    first = anomalies.page(db_session, officer, "conflicting-claims")
    assert len(first.rows) == 50 and first.next_cursor
    second = anomalies.page(db_session, officer, "conflicting-claims", first.next_cursor)
    assert len(second.rows) == 3 and second.next_cursor is None
    seen = [r.key for r in first.rows + second.rows]
    assert seen == sorted(set(seen)) and len(seen) == 53


@pytest.mark.parametrize("cursor", ["garbage", "%%%", "MTIz|", "OTk5OTk5OTk5OTk5OTk5", "LTE", "MXwy",
                                    "\u4e2d\u6587", "A" * 3000])
def test_a_tampered_cursor_gives_the_first_page(app, db_session, officer, cursor):
    c = signed_in(app, officer)
    for kind in anomalies.KINDS:
        response = c.get(f"/officer/anomalies/{kind}", query_string={"after": cursor})
        assert response.status_code == 200, (kind, cursor)
        page = parse(response)
        assert "not valid" in text_of(page.select_one(".notice-error"))


def test_decode_cursor_round_trip():
    key = (date(2025, 6, 30), 42)
    assert anomalies.decode_cursor(anomalies.encode_cursor(key), (date, int)) == key
    with pytest.raises(anomalies.BadCursor):
        anomalies.decode_cursor(anomalies.encode_cursor((2**31,)), (int,))
    with pytest.raises(anomalies.BadCursor):
        anomalies.decode_cursor(anomalies.encode_cursor((1,)), (date, int))


def test_home_page_counts_stop_at_the_cap(app, db_session, district, landlord, officer, monkeypatch):
    monkeypatch.setattr(anomalies, "HOME_CAP", 2)
    for n in range(3):
        hid = house(db_session, landlord, room(db_session, district.beats[0], n + 1), max_occupants=1)
        living_in(db_session, landlord, hid, [factories.occupant(name="甲一"), factories.occupant(name="乙二")])
    assert anomalies.count(db_session, officer, "over-capacity") == 3
    assert anomalies.count(db_session, officer, "over-capacity", cap=2) == 3
    assert anomalies.count(db_session, officer, "over-capacity", cap=5) == 3
    db_session.commit()
    page = parse(signed_in(app, officer).get("/officer/"))
    shown = page.select_one("#anomaly-counts li[data-kind=over-capacity] .anomaly-count")
    assert text_of(shown) == "more than 2" and shown["data-count"] == ""
