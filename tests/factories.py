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
