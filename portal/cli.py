"""flask commands: database setup, demo data, accounts, the address register."""
from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.db import writing as _writing
from portal.extensions import db
from portal.models import Role, User
from portal.services import accounts, addresses
from portal.services import auth as auth_service
from portal.services.errors import ValidationFailed

ROOT = Path(__file__).resolve().parent.parent
DEMO_CSV = ROOT / "data" / "demo_district.csv"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - demo accounts only, listed in the README


def writing():
    """A command's unit of work writes, and waits for SQLite's write lock up to CLI_LOCK_WAIT_SECONDS: longer
    than a request, which gives up after the busy timeout, so that a command run while a big staff list is
    being committed waits for it instead of failing with "database is locked"."""
    return _writing(wait=current_app.config["CLI_LOCK_WAIT_SECONDS"])


def _print_errors(failure: ValidationFailed) -> None:
    for err in failure.errors:
        click.echo(f"  {err.field or '-'}: {err.message}", err=True)


def register(app: Flask) -> None:
    _register_schema(app)
    _register_users(app)
    _register_addresses(app)
    _register_upkeep(app)


def _register_schema(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate_command():
        """Create or upgrade the database schema to the latest migration."""
        from portal import migrate

        migrate.upgrade(db.engine)
        click.echo("database is at the latest migration")


def _register_users(app: Flask) -> None:
    users = AppGroup("users", help="Manage accounts.")
    app.cli.add_command(users)

    @users.command("create")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--phone", required=True)
    @click.option("--name", required=True)
    @click.option("--station", "station_code", default=None, help="Station code (officers, clerks, a bureau's admin).")
    @click.option("--beat", "beat_code", default=None, help="Beat code (officers, clerks).")
    @click.option("--bureau", "bureau_code", default=None,
                  help="Bureau code: the bureau's own staff (an officer who sees every station of it, a clerk, "
                       "an administrator of that bureau only).")
    @click.option("--id-number", default=None, help="Resident ID number (landlords, employers).")
    def create_user(role, phone, name, station_code, beat_code, bureau_code, id_number):
        """Create an account; prints a one-time password that must be changed at first login."""
        with writing():
            try:
                user, initial = accounts.create_account(db.session, role=Role(role), phone=phone, name=name,
                                                        station_code=station_code, beat_code=beat_code,
                                                        bureau_code=bureau_code, id_number=id_number)
            except ValidationFailed as failure:
                click.echo("The account was not created:", err=True)
                _print_errors(failure)
                sys.exit(1)
            db.session.commit()
        click.echo(f"created {user.role} {user.phone} (id {user.id})")
        click.echo(f"one-time password: {initial}")
        click.echo("It must be changed at first sign-in." + (" A TOTP authenticator is set up at first sign-in."
                                                             if user.role.is_staff else ""))

    @users.command("unlock")
    @click.option("--phone", required=True)
    def unlock_user(phone):
        """Clear an account's failed sign-ins, and with them the delay its next attempt would wait."""
        with writing():
            user = db.session.scalar(select(User).where(User.phone == phone))
            if user is None:
                click.echo("no such account", err=True)
                sys.exit(1)
            auth_service.unlock(db.session, user, auth_service.audit.SYSTEM)
            db.session.commit()
        click.echo(f"unlocked {phone}: failed sign-ins cleared, it may sign in at once")


def _register_addresses(app: Flask) -> None:
    addr = AppGroup("addresses", help="The standard-address register.")
    app.cli.add_command(addr)

    @addr.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_addresses(file: Path):
        """Import standard addresses from a CSV file (columns in the README)."""
        with writing(), file.open("rb") as stream:
            report = addresses.import_csv(db.session, stream)
            db.session.commit()
        _print_import_report(report)
        if report.errors:
            sys.exit(1)

    @addr.command("duplicates")
    @click.option("--bureau", "bureau_code", help="Only the addresses of this bureau (its code).")
    @click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True,
                  help="Print at most this many pairs.")
    def address_duplicates(bureau_code: str | None, limit: int):
        """Print candidate duplicate addresses, most likely first (the virtual-house clean-up)."""
        from flask_babel import gettext as _

        from portal.services import address_duplicates

        found = address_duplicates.find(db.session, bureau_code=bureau_code, limit=limit)
        for c in found:
            click.echo(f"{c.score:.3f}\t{c.reason}\t{c.first.code}\t{address_duplicates.address_text(c.first)}"
                       f"\t{c.second.code}\t{address_duplicates.address_text(c.second)}")
        click.echo(_("%(count)d candidate pairs.", count=len(found)), err=True)


def _register_upkeep(app: Flask) -> None:
    """The daily purge and the demo data."""
    @app.cli.command("purge")
    def purge_command():
        """Delete drafts untouched for a week and the uploaded files they held, stored API responses older than
        the API documentation keeps them, and the addresses of failed sign-ins older than
        LOGIN_FAILURE_MEMORY_HOURS (run daily)."""
        from flask_babel import gettext as _

        from portal.models.base import utcnow
        from portal.services import drafts, idempotency, messages, record_access, throttle, units

        with writing():
            n_drafts = drafts.purge_old(db.session)
            n_files = units.purge_uploads(db.session, Path(current_app.config["UPLOAD_FOLDER"]))
            n_records = idempotency.purge_old(db.session)
            db.session.commit()
        with writing():
            n_sources = throttle.purge_sources(db.session, throttle.Throttle.from_config(current_app.config), utcnow())
            # One-time codes: their challenges and the outbox's messages are of no use after a day.
            n_codes = record_access.purge_challenges(db.session)
            n_codes += messages.clear_outbox(db.session, older_than=utcnow() - record_access.CHALLENGE_MEMORY)
            db.session.commit()
        _print_purged(n_drafts, n_files, n_records, n_sources, _retention(current_app.config["RETENTION_DAYS"]))
        click.echo(_("Deleted %(count)d one-time codes and text messages older than a day.", count=n_codes))

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when accounts already exist.")
    def seed_demo(if_empty: bool):
        """Load the demo district and demo accounts. Refuses to run in production."""
        if current_app.config["PORTAL_ENV"] == "production":
            click.echo("seed-demo refuses to run with PORTAL_ENV=production", err=True)
            sys.exit(1)
        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("accounts exist already; demo data not loaded")
            return
        with writing(), DEMO_CSV.open("rb") as stream:
            report = addresses.import_csv(db.session, stream)
            db.session.commit()
        _print_import_report(report)
        with writing():
            rows = seed_demo_accounts()
        with writing():
            filed = seed_demo_reports()
            db.session.commit()
        with writing():
            duplicates = seed_demo_duplicates(db.session)
            filed += seed_demo_duplicate_house(duplicates)
            db.session.commit()
        click.echo("\nDemo accounts (demo only, never in production). Password for all: " + DEMO_PASSWORD)
        for role, phone, name, where, secret in rows:
            line = f"  {role:<9} {phone}  {name}  {where}"
            click.echo(line + (f"  TOTP key: {secret}" if secret else ""))
        if filed:
            click.echo(f"\nDemo reports waiting for the officers: {filed}")
        if duplicates:
            click.echo("Demo duplicate addresses for the clerk (/clerk/duplicates): "
                       + ", ".join(a.code for a in duplicates))


def _print_purged(n_drafts: int, n_files: int, n_records: int, n_sources: int, done) -> None:
    from flask_babel import gettext as _

    from portal.services import idempotency

    hours = int(idempotency.KEEP_FOR.total_seconds()) // 3600
    click.echo(_("Purged %(drafts)d drafts, %(files)d uploaded files and %(records)d stored API answers "
                 "(older than %(hours)d hours); forgot %(sources)d sign-in addresses.",
                 drafts=n_drafts, files=n_files, records=n_records, hours=hours, sources=n_sources))
    click.echo(_("Anonymised %(tenancies)d tenancies, %(employments)d employments, %(persons)d persons and "
                 "%(reports)d reports that ended more than %(days)d days ago.",
                 tenancies=done.tenancies, employments=done.employments, persons=done.persons,
                 reports=done.submissions, days=current_app.config["RETENTION_DAYS"]))


def _retention(keep_days: int):
    """Anonymise, batch by batch (each its own transaction), what ended before the retention period; one
    audit row for the run."""
    from portal.services import retention
    from portal.services.filing import local_today

    total, today = retention.Purged(), local_today()
    while True:
        with writing():
            done = retention.purge_batch(db.session, today=today, keep_days=keep_days)
            db.session.commit()
        for name in ("tenancies", "employments", "persons", "submissions"):
            setattr(total, name, getattr(total, name) + getattr(done, name))
        if done.total == 0:
            break
    with writing():
        retention.record_run(db.session, total, keep_days)
        db.session.commit()
    return total


def _print_import_report(report) -> None:
    click.echo(f"addresses: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.errors)} rows with errors")
    for err in report.errors[:200]:
        click.echo(f"  row {err.row}, {err.column}: {err.message}", err=True)


def demo_totp_secret(phone: str) -> str:
    """Demo officers get a key derived from their phone so the README can list it. Demo only."""
    return base64.b32encode(hashlib.sha256(f"demo-totp:{phone}".encode()).digest()[:20]).decode()


DEMO_ACCOUNTS = [
    # role, phone, name, station code, beat code
    (Role.admin, "13900000001", "系统管理员", None, None),
    (Role.auditor, "13900000002", "审计员", None, None),
    (Role.clerk, "13900000003", "地址管理员", "430302510000", None),  # the bureau of 云塘派出所
    (Role.landlord, "13800000001", "张房东", None, None),
    (Role.landlord, "13800000002", "李房东", None, None),
    (Role.employer, "13700000001", "王经理", None, None),
]
DEMO_LANDLORD_IDS = {"13800000001": "430302197501011236", "13800000002": "430302198002021231",
                     "13700000001": "430302198503031235"}


def seed_demo_accounts() -> list[tuple[str, str, str, str, str | None]]:
    from portal.models import Beat, Bureau, Station
    from portal.services.identity import check_resident_id
    from portal.services.passwords import hash_password

    session = db.session
    wanted = list(DEMO_ACCOUNTS)
    for n, station in enumerate(session.scalars(select(Station).order_by(Station.code)), start=1):
        wanted.append((Role.officer, f"139100000{n:02d}", f"{station.name}民警", station.code, None))
    for n, beat in enumerate(session.scalars(select(Beat).order_by(Beat.code)), start=1):
        wanted.append((Role.officer, f"139200000{n:02d}", f"{beat.name}社区民警", None, beat.code))
    hashed = hash_password(DEMO_PASSWORD)
    out = []
    for role, phone, name, station_code, beat_code in wanted:
        user = session.scalar(select(User).where(User.phone == phone))
        station = session.scalar(select(Station).where(Station.code == station_code)) if station_code else None
        beat = session.scalar(select(Beat).where(Beat.code == beat_code)) if beat_code else None
        if user is None:
            id_number = DEMO_LANDLORD_IDS.get(phone)
            user = User(role=role, phone=phone, name=name, password_hash=hashed,
                        id_number=check_resident_id(id_number).number if id_number else None,
                        station_id=station.id if station else (beat.station_id if beat else None),
                        beat_id=beat.id if beat else None)
            if role.is_staff:
                user.totp_secret, user.totp_confirmed = demo_totp_secret(phone), True
            if role == Role.clerk:
                user.bureau_id = session.scalar(select(Bureau.id).order_by(Bureau.code).limit(1))
            session.add(user)
        where = (station.name if station else "") + (beat.name if beat else "")
        if role == Role.clerk and user.bureau_id is not None:
            where = session.get(Bureau, user.bureau_id).name
        out.append((str(role), phone, name, where, user.totp_secret if role.is_staff else None))
    session.commit()
    return out


def seed_demo_reports() -> int:
    """A few reports in the officers' queues, filed through the same services as the web pages."""
    from stdnum.cn import ric

    from portal.services import audit, reporting, units
    from portal.services.addresses import search
    from portal.services.identity import check_resident_id

    session = db.session
    landlord = session.scalar(select(User).where(User.phone == "13800000001"))
    employer = session.scalar(select(User).where(User.phone == "13700000001"))
    if landlord is None or reporting.houses_of(session, landlord):
        return 0

    def rid(body: str) -> str:
        return check_resident_id(body + ric.calc_check_digit(body + "0")).number

    actor, count = audit.Actor(user=landlord), 0
    for query, people in (("银海花园 13栋 4单元 402", [("刘洋", rid("43030219950312101")),
                                                  ("陈静", rid("43030219960720102"))]),
                          ("银海花园 13栋 4单元 401", [("王强", rid("43052419880101303"))])):
        room = search(session, query, limit=1)
        if not room:
            continue
        house = reporting.register_house(session, landlord, address_code=room[0].code, use="whole_rental",
                                         max_occupants=4, certificate_no=None, actor=actor).submission
        reporting.report_move_in(session, landlord, house.house_id,
                                 occupants=[{"id_type": "resident_id", "id_number": n, "name": name}
                                            for name, n in people],
                                 move_in_date=reporting.local_today().isoformat(), actor=actor,
                                 deadline_days=current_app.config["REPORT_DEADLINE_DAYS"])
        count += 2
    building = search(session, "韶山中路 88号", limit=1)
    if employer is not None and building:
        units.register_unit(session, employer, uscc="91430302MA4L0XYK19", name="湘潭银海餐饮有限公司",
                            unit_type="enterprise", industry="餐饮", special_trade=None,
                            address_code=building[0].code, legal_rep_name="王经理",
                            legal_rep_id_number=employer.id_number, contact_name="王经理",
                            contact_phone=employer.phone, actor=audit.Actor(user=employer))
        count += 1
    return count + seed_demo_conflict()


def seed_demo_conflict() -> int:
    """The demo conflict: a second landlord registers room 402, which the first registered already, and
    reports a tenant there. Both registrations are flagged claimed_by_another for the station's officer."""
    from portal.services import audit, reporting
    from portal.services.addresses import search

    session = db.session
    second = session.scalar(select(User).where(User.phone == "13800000002"))
    room = search(session, "银海花园 13栋 4单元 402", limit=1)
    if second is None or not room or reporting.houses_of(session, second):
        return 0
    actor = audit.Actor(user=second)
    house = reporting.register_house(session, second, address_code=room[0].code, use="shared_rental",
                                     max_occupants=2, certificate_no=None, actor=actor).submission
    reporting.report_move_in(session, second, house.house_id,
                             occupants=[{"id_type": "resident_id", "id_number": "430302199104051014",
                                         "name": "孙磊"}],
                             move_in_date=reporting.local_today().isoformat(), actor=actor,
                             deadline_days=current_app.config["REPORT_DEADLINE_DAYS"])
    return 2


# Addresses of the demo district written a second time, another way, as the virtual houses of a register that
# grew from several sources are: (a search that finds the original, the components written otherwise).
DEMO_DUPLICATES = (
    ("银海花园 13栋 4单元 402", {"community": "银海花园小区", "building": "十三幢", "unit": "4门", "room": "402室"}),
    ("银海花园 13栋 4单元 401", {"building": "13号楼", "unit": "四单元"}),
    ("雨湖名都 1栋", {"community": "雨湖名都小区", "building": "1幢"}),
)


def seed_demo_duplicates(session) -> list:
    """The duplicates of DEMO_DUPLICATES next to their originals (same beat), for the clerk's duplicate finder;
    none twice. Returns the duplicates made."""
    from portal.models import Address
    from portal.services.addresses import fill_derived, make_code, search

    made = []
    for query, changes in DEMO_DUPLICATES:
        found = search(session, query, limit=1)
        if not found:
            continue
        original = found[0]
        values = {c: getattr(original, c) for c in ("division_code", "division_name", "township", "road", "door_no",
                                                    "community", "building", "unit", "room")}
        values.update(changes)
        code = make_code(*(values[c] for c in ("division_code", "township", "road", "door_no", "community",
                                               "building", "unit", "room")))
        if session.scalar(select(Address.id).where(Address.code == code)) is not None:
            continue
        duplicate = fill_derived(Address(code=code, beat_id=original.beat_id, **values))
        session.add(duplicate)
        made.append(duplicate)
    session.flush()
    return made


def seed_demo_duplicate_house(duplicates: list) -> int:
    """张房东 registered 13栋4单元401 and, again, its duplicate 13号楼四单元401: two houses of one owner that a merge
    of the two addresses makes one."""
    from portal.services import audit, reporting

    landlord = db.session.scalar(select(User).where(User.phone == "13800000001"))
    second = [a for a in duplicates if a.building == "13号楼"]
    if landlord is None or not second:
        return 0
    reporting.register_house(db.session, landlord, address_code=second[0].code, use="whole_rental", max_occupants=3,
                             certificate_no=None, actor=audit.Actor(user=landlord))
    return 1
