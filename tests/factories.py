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


def far_past():
    from datetime import timedelta

    from portal.models.base import utcnow

    return utcnow() - timedelta(days=1)


# --- reporting: houses, move-ins and move-outs through the services the pages use -----------------

def as_actor(user):
    from portal.services import audit

    return audit.Actor(user=user)


def declared_only(model, values: dict) -> dict:
    """`values`, refused (TypeError) if it names a field the report's declaration does not have: a helper that
    dropped it would send nothing and let a test pass that tests nothing."""
    unknown = sorted(set(values) - set(model.model_fields))
    if unknown:
        raise TypeError(f"{model.__name__} declares no field {', '.join(unknown)}")
    return values


def occupant(*, birth: str = "19900101", region: str = "430302", name: str = "张三",
             id_number: str | None = None, **extra) -> dict:
    """One person as the move-in form and the API send it (raw strings); every field of the occupant's
    declaration may be given, and only those."""
    from portal.services import declarations

    return declared_only(declarations.Occupant, {
        "id_type": "resident_id", "id_number": id_number or resident_id(birth, region), "name": name,
        "relation": "main_tenant", **extra})


def foreign_occupant(*, number: str = "E12345678", name: str = "Anna Smith", **extra) -> dict:
    """A passport holder, with what the police need of one: nationality, sex, birth date, visa and its end."""
    return occupant(**{"id_type": "passport", "id_number": number, "name": name, "nationality": "GBR", "sex": "F",
                       "birth_date": "1985-06-01", "visa_kind": "residence_work", "visa_expiry": "2030-01-01",
                       **extra})


def make_house(session, owner: User, address: Address, *, max_occupants: int = 4, use: str = "whole_rental",
               form_key: str | None = None):
    """A house registered by its owner: returns the registration submission (its house is `.house`)."""
    from portal.services import reporting

    sub = reporting.register_house(session, owner, address_code=address.code, use=use,
                                   max_occupants=max_occupants, certificate_no=None, actor=as_actor(owner),
                                   form_key=form_key).submission
    session.commit()  # the factory owns its transaction, as a view does
    return sub


def make_move_in(session, owner: User, house_id: int, people: list[dict], *, move_in_date=None,
                 lease_end_date=None, deadline_days: int = 3, form_key: str | None = None):
    """A move-in report; the date defaults to today (local)."""
    from portal.services import reporting

    sub = reporting.report_move_in(session, owner, house_id, occupants=people,
                                   move_in_date=move_in_date or reporting.local_today().isoformat(),
                                   lease_end_date=lease_end_date, actor=as_actor(owner),
                                   deadline_days=deadline_days, form_key=form_key).submission
    session.commit()
    return sub


def make_move_out(session, owner: User, tenancy_id: int, *, move_out_date=None, deadline_days: int = 3,
                  form_key: str | None = None):
    from portal.services import reporting

    sub = reporting.report_move_out(session, owner, tenancy_id,
                                    move_out_date=move_out_date or reporting.local_today().isoformat(),
                                    actor=as_actor(owner), deadline_days=deadline_days,
                                    form_key=form_key).submission
    session.commit()
    return sub


def decide(session, submission, officer: User, to_status: str, **reason):
    from portal.services import review

    decision = review.transition(session, submission, to_status, officer, as_actor(officer), **reason)
    session.commit()
    return decision


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


# --- employers: units, single hires and departures through the services the pages use ----------------

_usccs = itertools.count(1)


def uscc() -> str:
    """A valid unified social credit code, different each call."""
    from stdnum.cn import uscc as stdnum_uscc

    body = f"91430300MA{next(_usccs):07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def unit_fields(address: Address, **overrides) -> dict:
    """A unit registration as the form sends it (raw strings); only fields the declaration has."""
    from portal.services import declarations

    return declared_only(declarations.UnitRegistration, {
        "uscc": uscc(), "name": "湘潭市雨湖区测试餐饮有限公司", "unit_type": "enterprise",
            "industry": "餐饮", "special_trade": "", "address_code": address.code, "legal_rep_name": "王法人",
            "legal_rep_id_number": resident_id("19800101"), "contact_name": "李保卫",
            "contact_phone": "13812345678", **overrides})


def make_unit(session, owner: User, address: Address, *, verified_by: User | None = None, form_key=None,
              **overrides):
    """A unit registered by its employer: returns the registration submission (the unit is `.unit_id`).
    With `verified_by` (an officer), the registration is confirmed, so the unit is verified."""
    from portal.services import units

    sub = units.register_unit(session, owner, actor=as_actor(owner), form_key=form_key,
                              **unit_fields(address, **overrides)).submission
    session.commit()
    if verified_by is not None:
        decide(session, sub, verified_by, "confirmed")
    return sub


def make_hire(session, owner: User, unit_id: int, *, name: str = "赵六", id_number: str | None = None,
              hire_date: str = "2024-03-05", phone: str = "", position: str = "厨师", form_key=None):
    from portal.services import units

    sub = units.report_hire(session, owner, unit_id, name=name,
                            id_number=id_number or resident_id("19950505"), phone=phone, position=position,
                            hire_date=hire_date, actor=as_actor(owner), form_key=form_key).submission
    session.commit()
    return sub


def make_departure(session, owner: User, unit_id: int, employment_id: int, *, departure_date=None,
                   form_key=None):
    from portal.services import reporting, units

    sub = units.report_departure(session, owner, unit_id, employment_id=employment_id,
                                 departure_date=departure_date or reporting.local_today().isoformat(),
                                 actor=as_actor(owner), form_key=form_key).submission
    session.commit()
    return sub


def staff_csv(rows: list[list[str]], header=("姓名", "性别", "身份证号码", "手机号码", "岗位", "入职日期"),
              encoding: str = "utf-8-sig") -> bytes:
    """A staff list as Chinese Excel would save it as CSV."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def make_staff_import(session, owner: User, unit_id: int, rows: list[list[str]], *, full_list: bool = True,
                      filename: str = "staff.csv", departures_confirmed: bool = True):
    """A staff list uploaded and committed through the import service (its departures confirmed, as the
    preview page asks for many of them); returns the StaffImport."""
    from portal.models import Unit
    from portal.services import staff_import

    unit = session.get(Unit, unit_id)
    pv = staff_import.preview(session, unit, staff_csv(rows), filename, full_list=full_list)
    done = staff_import.commit(session, unit, owner, pv, as_actor(owner), departures_confirmed=departures_confirmed)
    session.commit()
    return done


def staff_row(name: str, *, birth: str = "19900101", region: str = "430302", id_number: str | None = None,
              position: str = "店员", hire_date: str = "2024-03-05", phone: str = "") -> list[str]:
    """One row of a staff list (the sex column left empty: it is read from the ID number)."""
    return [name, "", id_number or resident_id(birth, region), phone, position, hire_date]
