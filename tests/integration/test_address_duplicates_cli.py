"""`flask addresses duplicates`: ranked candidate pairs of the register, by bureau (issue 16, item 4)."""
from __future__ import annotations

import pytest

from portal.models import Address
from portal.services import addresses


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _add(session, beat, door_no, community, building, unit, room):
    a = Address(division_code="430302", division_name="湖南省湘潭市雨湖区", township="云塘街道", road="韶山中路",
                door_no=door_no, community=community, building=building, unit=unit, room=room, beat_id=beat.id)
    a.code = addresses.make_code(a.division_code, a.township, a.road, door_no, community, building, unit, room)
    session.add(addresses.fill_derived(a))
    return a


def test_duplicates_are_printed_best_first_and_by_bureau(cli, db_session, district):
    beat = district.beats[0]
    twin = _add(db_session, beat, "88号", "银海花园", "十三幢", "四门", "402室")  # 13栋4单元402, written again
    near = _add(db_session, beat, "88号", "", "13栋", "4单元", "401")  # 401 without its community
    _add(db_session, beat, "88号", "银海花园", "13栋", "4单元", "401")
    db_session.commit()
    result = cli.invoke(args=["addresses", "duplicates", "--bureau", district.bureau.code, "--limit", "10"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [float(line[0]) for line in lines] == sorted((float(line[0]) for line in lines), reverse=True)
    assert lines[0][0] == "1.000" and twin.code in (lines[0][2], lines[0][4])
    assert any(near.code in (line[2], line[4]) for line in lines[1:])
    assert cli.invoke(args=["addresses", "duplicates", "--bureau", "NO-SUCH"]).stdout == ""
