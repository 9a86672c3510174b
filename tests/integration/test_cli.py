"""The flask commands: accounts, demo data, address import."""
import pytest
from sqlalchemy import func, select

from portal.models import Address, Role, Submission, User
from portal.services import address_merge, passwords


@pytest.fixture
def cli(app, db_session):
    return app.test_cli_runner()


def test_create_officer_prints_a_one_time_password(cli, db_session, district):
    result = cli.invoke(args=["users", "create", "--role", "officer", "--phone", "13912345678", "--name", "李警官",
                              "--station", district.stations[0].code])
    assert result.exit_code == 0, result.output
    initial = next(line.split(": ", 1)[1] for line in result.output.splitlines()
                   if line.startswith("one-time password"))
    user = db_session.scalar(select(User).where(User.phone == "13912345678"))
    assert user.role == Role.officer and user.station_id == district.stations[0].id
    assert user.must_change_password and passwords.verify_password(user.password_hash, initial)
    assert not user.totp_confirmed  # enrols at first sign-in


def test_an_officer_needs_a_jurisdiction_and_bad_input_is_refused(cli, db_session, district):
    no_station = cli.invoke(args=["users", "create", "--role", "officer", "--phone", "13912345670", "--name", "张三"])
    assert no_station.exit_code == 1
    bad = cli.invoke(args=["users", "create", "--role", "landlord", "--phone", "12345", "--name", "张\u200b三"])
    assert bad.exit_code == 1 and "phone" in bad.output and "name" in bad.output
    unknown = cli.invoke(args=["users", "create", "--role", "officer", "--phone", "13912345671", "--name", "张三",
                               "--beat", "NO-SUCH-BEAT"])
    assert unknown.exit_code == 1
    assert db_session.scalar(select(func.count()).select_from(User).where(User.name == "张三")) == 0


def test_create_a_clerk_needs_a_station_and_the_clerk_signs_in_with_a_code(cli, db_session, district):
    refused = cli.invoke(args=["users", "create", "--role", "clerk", "--phone", "13900000077", "--name", "地址员"])
    assert refused.exit_code == 1 and "station" in refused.output
    made = cli.invoke(args=["users", "create", "--role", "clerk", "--phone", "13900000077", "--name", "地址员",
                            "--station", district.stations[0].code])
    assert made.exit_code == 0 and "TOTP authenticator is set up at first sign-in" in made.output
    clerk = db_session.scalar(select(User).where(User.phone == "13900000077"))
    assert clerk.role == Role.clerk and clerk.station_id == district.stations[0].id


def test_seed_demo_refuses_in_production(app, cli, db_session):
    app.config["PORTAL_ENV"] = "production"
    try:
        result = cli.invoke(args=["seed-demo"])
    finally:
        app.config["PORTAL_ENV"] = "development"
    assert result.exit_code == 1
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_loads_the_district_accounts_and_reports_once(cli, db_session):
    first = cli.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    rooms = db_session.scalar(select(func.count()).select_from(Address).where(Address.level == "room"))
    assert rooms >= 2000
    roles = dict(db_session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {Role.admin: 1, Role.auditor: 1, Role.clerk: 1, Role.landlord: 2, Role.employer: 1,
                     Role.officer: 6}
    # Five reports, the demo conflict's two, and 张房东's second house on a seeded duplicate address.
    waiting = db_session.scalar(select(func.count()).select_from(Submission).where(Submission.is_open.is_(True)))
    assert waiting == 8
    # The demo conflict: room 402 registered by both demo landlords, both registrations flagged.
    claims = db_session.scalars(select(Submission).where(Submission.kind == "house_registration",
                                                         Submission.flagged.is_(True))).all()
    assert len(claims) == 2 and {f["code"] for c in claims for f in c.flags} == {"claimed_by_another"}
    assert {c.flags[0]["house_id"] for c in claims} == {c.house_id for c in claims}
    clerk = db_session.scalar(select(User).where(User.role == Role.clerk))
    found = address_merge.candidates(db_session, clerk)
    assert len(found) == 3 and {p.candidate.reason for p in found} == {"same", "community"}
    again = cli.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    assert db_session.scalar(select(func.count()).select_from(Submission)) == 8


def test_address_import_reports_bad_rows_and_exits_non_zero(cli, db_session, tmp_path):
    header = ("bureau_code,bureau_name,station_code,station_name,beat_code,beat_name,division_code,division_name,"
              "township,road,door_no,community,building,unit,room,code")
    good = "B9,某分局,S9,某派出所,K9,某警务区,430302,湖南省湘潭市雨湖区,云塘街道,人民路,5号,,1栋,1单元,101,"
    bad = "B9,某分局,S9,某派出所,K9,某警务区,43030,湖南省湘潭市雨湖区,云塘街道,人民路,6号,,,,,"
    path = tmp_path / "addresses.csv"
    path.write_text("\n".join([header, good, bad]) + "\n", encoding="gb18030")
    result = cli.invoke(args=["addresses", "import", str(path)])
    assert result.exit_code == 1
    assert "1 created" in result.output and "row 3" in result.output


def test_purge_forgets_idempotency_records_past_their_keeping_time(cli, db_session, landlord):
    from datetime import timedelta

    from portal.models import IdempotencyRecord
    from portal.models.base import utcnow
    from portal.services import audit, idempotency, tokens

    token = tokens.create(db_session, landlord, "purge", audit.Actor(user=landlord)).token
    now = utcnow()
    for key, age in (("old", idempotency.KEEP_FOR + timedelta(minutes=1)),
                     ("recent", idempotency.KEEP_FOR - timedelta(minutes=1)), ("new", timedelta(0))):
        db_session.add(IdempotencyRecord(token_id=token.id, key=key, request_hash="h" * 64, status_code=201,
                                         response_body="{}", created_at=now - age))
    db_session.commit()
    result = cli.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 条已存的接口应答（超过 24 小时）" in result.output  # the operator's language: zh by default
    kept = db_session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.token_id == token.id)).all()
    assert sorted(kept) == ["new", "recent"]
    again = cli.invoke(args=["purge"])
    assert "0 条已存的接口应答" in again.output
