"""Objects for tests, built through the same code paths the portal uses where there is one."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from stdnum.cn import ric

from portal.models import Address, Beat, Bureau, Role, Station, User
from portal.services import addresses, auth
from portal.services.passwords import hash_password

PASSWORD = "correct horse battery staple"
_HASH = hash_password(PASSWORD)
_phones = itertools.count(1)
_ids = itertools.count(1)


def phone() -> str:
    return f"1550000{next(_phones):04d}"


def resident_id(birth: str = "19900101", region: str = "430302") -> str:
    body = f"{region}{birth}{next(_ids) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


@dataclass
class District:
    bureau: Bureau
    stations: list[Station]
    beats: list[Beat]
    addresses: list[Address]


def make_address(session, beat: Beat, *, road="韶山中路", door_no="88号", community="银海花园", building="",
                 unit="", room="") -> Address:
    a = Address(division_code="430302", division_name="湖南省湘潭市雨湖区", township="云塘街道", road=road,
                door_no=door_no, community=community, building=building, unit=unit, room=room, beat_id=beat.id)
    a.code = addresses.make_code(a.division_code, a.township, a.road, a.door_no, a.community, a.building,
                                 a.unit, a.room)
    addresses.fill_derived(a)
    session.add(a)
    return a


def make_district(session) -> District:
    bureau = Bureau(code="T-B1", name="测试分局")
    stations = [Station(code=f"T-S{i}", name=f"测试派出所{i}", bureau=bureau) for i in (1, 2)]
    beats = [Beat(code=f"T-S{s}-{b}", name=f"测试警务区{s}-{b}", station=stations[s - 1])
             for s in (1, 2) for b in (1, 2)]
    session.add_all([bureau, *stations, *beats])
    session.flush()
    addrs = [make_address(session, beats[0], building="13栋", unit="4单元", room="402"),
             make_address(session, beats[2], road="人民路", door_no="5号", community="", building="2栋",
                          unit="1单元", room="101")]
    session.commit()
    return District(bureau, stations, beats, addrs)


def make_user(session, *, role: str, station: Station | None = None, beat: Beat | None = None,
              enrolled: bool = True, **values) -> User:
    role = Role(role)
    user = User(role=role, phone=values.pop("phone", phone()), name=values.pop("name", "测试用户"),
                password_hash=_HASH, station_id=station.id if station else (beat.station_id if beat else None),
                beat_id=beat.id if beat else None, **values)
    if role in (Role.landlord, Role.employer):
        user.id_number = resident_id()
    if role.is_staff and enrolled:
        user.totp_secret, user.totp_confirmed = auth.new_totp_secret(), True
    session.add(user)
    session.commit()
    return user


def far_future():
    from datetime import timedelta

    from portal.models.base import utcnow

    return utcnow() + timedelta(days=1)


# --- reporting: houses, move-ins and move-outs through the services the pages use -----------------

def as_actor(user):
    from portal.services import audit

    return audit.Actor(user=user)


def occupant(*, birth: str = "19900101", region: str = "430302", name: str = "张三", id_number: str | None = None,
             **extra) -> dict:
    """One person as the move-in form sends it (raw strings)."""
    return {"id_type": "resident_id", "id_number": id_number or resident_id(birth, region), "name": name,
            "relation": "main_tenant", **extra}


def make_house(session, owner: User, address: Address, *, max_occupants: int = 4, use: str = "whole_rental",
               form_key: str | None = None):
    """A house registered by its owner: returns the registration submission (its house is `.house`)."""
    from portal.services import reporting

    return reporting.register_house(session, owner, address_code=address.code, use=use,
                                    max_occupants=max_occupants, certificate_no=None, actor=as_actor(owner),
                                    form_key=form_key).submission


def make_move_in(session, owner: User, house_id: int, people: list[dict], *, move_in_date=None,
                 lease_end_date=None, deadline_days: int = 3, form_key: str | None = None):
    """A move-in report; the date defaults to today (local)."""
    from portal.services import reporting

    return reporting.report_move_in(session, owner, house_id, occupants=people,
                                    move_in_date=move_in_date or reporting.local_today().isoformat(),
                                    lease_end_date=lease_end_date, actor=as_actor(owner),
                                    deadline_days=deadline_days, form_key=form_key).submission


def make_move_out(session, owner: User, tenancy_id: int, *, move_out_date=None, deadline_days: int = 3,
                  form_key: str | None = None):
    from portal.services import reporting

    return reporting.report_move_out(session, owner, tenancy_id,
                                     move_out_date=move_out_date or reporting.local_today().isoformat(),
                                     actor=as_actor(owner), deadline_days=deadline_days,
                                     form_key=form_key).submission


def decide(session, submission, officer: User, to_status: str, **reason):
    from portal.services import review

    return review.transition(session, submission, to_status, officer, as_actor(officer), **reason)


# --- reading pages ----------------------------------------------------------------------------------

def english(client):
    """Ask for English pages, whatever the default locale and the compiled catalogs."""
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text_of(element) -> str:
    """Visible text of a parsed element, without the screen-reader-only prefixes, spaces collapsed."""
    if element is None:
        return ""
    for hidden in element.select(".visually-hidden"):
        hidden.decompose()
    return " ".join(element.get_text(" ").split())


def field_error(page, name: str) -> str:
    """The error message shown at the form field named `name` ('' when there is none)."""
    control = page.find(attrs={"name": name})
    assert control is not None, f"no field {name!r} on the page"
    wrapper = control.find_parent("div", class_="field")
    return " ".join(text_of(p) for p in wrapper.find_all("p", class_="error-message"))


def field_value(page, name: str) -> str | None:
    control = page.find(attrs={"name": name})
    assert control is not None, f"no field {name!r} on the page"
    if control.name == "textarea":
        return control.get_text()
    if control.name == "select":
        chosen = control.find("option", selected=True)
        return chosen.get("value") if chosen else None
    return control.get("value")


def post_form(client, page, url: str, action: str | None = None, data: dict | None = None, **kwargs):
    """POST the form of an already loaded page (loaded from `url`) whose action ends with `action`, or
    its first POST form, with its hidden fields as they were when the page was loaded: a second tab,
    a back button or a double click sends exactly this."""
    forms = [f for f in page.find_all("form") if (f.get("method") or "get").lower() == "post"
             and "language-switch" not in (f.get("class") or [])
             and "account-nav" not in (f.find_parent("nav") or {}).get("class", [])]
    if action is not None:
        forms = [f for f in forms if (f.get("action") or "").endswith(action)]
    assert len(forms) >= 1, f"no POST form with action {action!r}"
    form = forms[0]
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden") if i.get("name")}
    fields.update(data or {})
    return client.client.post(form.get("action") or url, data=fields, **kwargs)


def csrf_token(client) -> str:
    """A CSRF token of this client's session, taken from any page (the language switch carries one)."""
    from tests.browser import parse

    page = parse(client.client.get("/", follow_redirects=True))
    return page.find("input", attrs={"name": "csrf_token"})["value"]
