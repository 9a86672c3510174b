"""The clerk's web import: a preview of every row (new, changed, unchanged, error) that writes nothing, then
the same file imported by the rules of `flask addresses import`, each change in the address's history."""
from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from portal.models import Address, AuditEvent
from portal.services import addresses
from tests.browser import parse
from tests.factories import text_of

HEADER = ("bureau_code,bureau_name,station_code,station_name,beat_code,beat_name,division_code,division_name,"
          "township,road,door_no,community,building,unit,room,code")
TREE = "T-B1,测试分局,T-S1,测试派出所1,T-S1-1,测试警务区1-1"


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def _file(district) -> bytes:
    return _csv(
        f"{TREE},430302,湖南省湘潭市雨湖区,云塘街道,韶山中路,88号,银海花园,13栋,4单元,402,",  # as it is
        f"{TREE},430302,湖南省湘潭市雨湖区,云塘街道,韶山中路,88号,银海花园,13栋,4单元,403,",  # new
        f"{TREE},430302,湖南省湘潭市,云塘街道,人民路,5号,,2栋,1单元,101,",  # another beat, division name: changed
        f"{TREE},999999,某地,云塘街道,韶山中路,90号,,,,,",  # not a GB/T 2260 code
        "T-B2,另一分局,T-B2-S1,另一派出所,T-B2-S1-1,另一警务区,430302,湖南省湘潭市雨湖区,云塘街道,远方路,2号,,,,,",
    )


def _upload(client, data: bytes):
    page = parse(client.get("/clerk/import"))
    token = page.select_one("main form input[name=csrf_token]")["value"]
    return client.post("/clerk/import", data={"csrf_token": token, "file": (io.BytesIO(data), "addresses.csv")},
                       content_type="multipart/form-data")


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Address))


def test_the_preview_shows_every_row_and_writes_nothing(clerk_client, db_session, district):
    before = _count(db_session)
    response = _upload(clerk_client, _file(district))
    assert response.status_code == 200
    page = parse(response)
    rows = {int(tr["data-line"]): tr["class"][0] for tr in page.select("#preview tbody tr")}
    assert rows == {2: "change-unchanged", 3: "change-new", 4: "change-changed", 5: "change-error",
                    6: "change-error"}
    errors = text_of(page.select_one("#preview tr[data-line='5']"))
    assert "999999 is not a division code of GB/T 2260." in errors
    assert "you keep the addresses of bureau T-B1 only" in text_of(page.select_one("#preview tr[data-line='6']"))
    assert text_of(page.select_one("#counts")) == "1 new, 1 changed, 1 unchanged, 2 with errors."
    assert _count(db_session) == before
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("address.%"))) == 0


def test_the_import_writes_what_was_previewed_and_audits_each_change(clerk_client, db_session, district, clerk):
    before = _count(db_session)
    page = parse(_upload(clerk_client, _file(district)))
    token = page.select_one("form[action$='/clerk/import/confirm'] input[name=token]")["value"]
    csrf = page.select_one("form[action$='/clerk/import/confirm'] input[name=csrf_token]")["value"]
    response = clerk_client.post("/clerk/import/confirm", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302
    assert _count(db_session) == before + 1
    db_session.expire_all()
    moved = db_session.get(Address, district.addresses[1].id)
    assert moved.division_name == "湖南省湘潭市" and moved.beat_id == district.beats[0].id
    created = db_session.scalar(select(Address).where(Address.room == "403"))
    actions = {(e.action, e.object_id): e for e in db_session.scalars(select(AuditEvent))}
    assert ("address.create", str(created.id)) in actions
    change = json.loads(actions[("address.edit", str(moved.id))].detail)
    assert change["before"]["division_name"] == "湖南省湘潭市雨湖区"
    assert change["after"]["division_name"] == "湖南省湘潭市"
    assert actions[("address.create", str(created.id))].actor_id == clerk.id
    history = parse(clerk_client.get(f"/clerk/addresses/{moved.id}/history"))
    assert "湖南省湘潭市雨湖区" in text_of(history.select_one("#history"))
    # The same confirmation again (the back button, a double click): the file is gone, nothing more happens.
    again = clerk_client.post("/clerk/import/confirm", data={"csrf_token": csrf, "token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/clerk/import")
    assert _count(db_session) == before + 1


def test_a_file_that_cannot_be_read_is_one_message(clerk_client, db_session):
    for data, message in ((b"\xff\xfe\x00garbage", "neither UTF-8 nor GB18030"),
                          (b"road,door_no\n", "Missing columns"), (b"", "The file is empty")):
        page = parse(_upload(clerk_client, data))
        assert message in text_of(page.select_one("#file-problems")), data
        assert page.select_one("form[action$='/clerk/import/confirm']") is None


def test_no_file_is_a_message_at_the_field(clerk_client):
    page = parse(clerk_client.get("/clerk/import"))
    token = page.select_one("main form input[name=csrf_token]")["value"]
    response = clerk_client.post("/clerk/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose the address file." in text_of(parse(response).select_one(".error-summary"))


def test_the_cli_import_refuses_a_division_code_that_is_not_gb_t_2260(db_session, district):
    data = _csv(f"{TREE},999999,某地,云塘街道,韶山中路,90号,,,,,",
                f"{TREE},430302,湖南省湘潭市雨湖区,云塘街道,韶山中路,92号,,,,,")
    report = addresses.import_csv(db_session, io.BytesIO(data))
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "division_code", "division_unknown")]
    assert report.created == 1


def test_an_import_does_not_change_a_retired_address(db_session, district, clerk):
    from portal.services import address_upkeep
    from tests import factories

    address_upkeep.retire(db_session, clerk, district.addresses[1].id, None, factories.as_actor(clerk))
    rows, problems = addresses.preview_csv(db_session, io.BytesIO(_csv(
        f"{TREE},430302,湖南省湘潭市,云塘街道,人民路,5号,,2栋,1单元,101,")))
    assert not problems and rows[0].change == "error"
    assert rows[0].errors[0].code == "address_not_active"


def test_the_cli_import_writes_each_address_history_as_the_web_import_does(app, db_session, district,
                                                                          clerk_client, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_bytes(_file(district))
    result = app.test_cli_runner().invoke(args=["addresses", "import", str(path)])
    assert result.exit_code == 1, result.output  # the two bad rows are reported, the good ones imported
    db_session.expire_all()
    new = db_session.scalars(select(Address).where(Address.road == "韶山中路", Address.room == "403")).one()
    changed = db_session.scalars(select(Address).where(Address.road == "人民路", Address.room == "101")).one()
    created = parse(clerk_client.get(f"/clerk/addresses/{new.id}/history"))
    assert [r["data-action"] for r in created.select(".history-row")] == ["address.create"]
    assert "the system" in text_of(created.select_one(".history-row"))
    corrected = parse(clerk_client.get(f"/clerk/addresses/{changed.id}/history"))
    rows = corrected.select(".history-row")
    assert [r["data-action"] for r in rows] == ["address.edit"]
    assert "湖南省湘潭市" in text_of(rows[0]) and "湖南省湘潭市雨湖区" in text_of(rows[0])
    unchanged = db_session.scalars(select(Address).where(Address.road == "韶山中路", Address.room == "402")).one()
    assert parse(clerk_client.get(f"/clerk/addresses/{unchanged.id}/history")).select(".history-row") == []


def test_a_clerks_import_neither_creates_nor_renames_stations_and_beats(clerk_client, db_session, district):
    """Bureaus, stations and beats are the administrator's (each change audited as jurisdiction.*): a clerk's file
    that names a new station or beat, or the clerk's own ones by other names, is refused at those rows, and the
    tree stays as it was. `flask addresses import` (the operator's) still creates and renames them."""
    from portal.models import Beat, Bureau, Station

    place = "430302,湖南省湘潭市雨湖区,云塘街道,文员路,1号,,1栋,,,"
    for tree in ("T-B1,文员改的分局,T-S1,测试派出所1,T-S1-1,测试警务区1-1",
                 "T-B1,测试分局,T-S1,文员改的派出所,T-S1-1,测试警务区1-1",
                 "T-B1,测试分局,T-S1,测试派出所1,T-S1-1,文员改的警务区",
                 "T-B1,测试分局,T-S9,文员新建派出所,T-S9-1,文员新建警务区",
                 "T-B1,测试分局,T-S1,测试派出所1,T-S1-9,文员新建警务区"):
        data = _csv(f"{tree},{place}")
        page = text_of(parse(_upload(clerk_client, data)).select_one("main"))
        assert "An administrator creates and renames bureaus, police stations and beats" in page, tree
        report = addresses.import_csv(db_session, io.BytesIO(data), bureau_code="T-B1")
        assert (report.created, len(report.errors)) == (0, 1), tree
        db_session.rollback()
    assert db_session.scalar(select(Bureau.name).where(Bureau.code == "T-B1")) == "测试分局"
    assert db_session.scalar(select(Station.name).where(Station.code == "T-S1")) == "测试派出所1"
    assert db_session.scalar(select(Beat.name).where(Beat.code == "T-S1-1")) == "测试警务区1-1"
    assert db_session.scalar(select(func.count()).select_from(Station).where(Station.code == "T-S9")) == 0
    assert db_session.scalar(select(func.count()).select_from(Beat).where(Beat.code.in_(["T-S9-1", "T-S1-9"]))) == 0
