"""Summary columns that the anomaly lists read (services/anomalies.py), kept by database triggers.

The measured exception of the anomaly lists (bench/README.md, "Anomaly lists"): at a city's size a list that
counts who lives in each house of a station reads ~100,000 tenancies for a page of 50. So each house keeps
how many live there and the youngest and eldest birth year among them, each person how many houses they live
in, each house when it was last reported on, and each address how many owners claim it with a standing house;
a list is then an index range.

Every value is a recount, never an increment: a trigger recomputes the summary of each house or person that a
change touches, with the statements below, and the migration back-fills every row with the same statements.
Who lives in a house is residence.living(), compiled into the triggers' SQL here, so the rule stays defined
once; tests/integration/test_anomaly_summaries.py checks that after real service operations every summary
equals a recount through the ORM. On PostgreSQL each trigger first locks the rows it recounts, then recounts in
a new statement (a new snapshot under READ COMMITTED), so two transactions changing one house's tenancies at
once cannot leave a count that misses the other's change."""
from __future__ import annotations

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.engine import Dialect

from portal.models import House, Person, RecordStatus, Submission, Tenancy
from portal.models.address import Address
from portal.services import residence

# An unknown birth year counts as 0 in the eldest birth year: as old as can be, a possible adult (the rule of
# the "child alone" flag: no flag without evidence).
UNKNOWN_BIRTH_YEAR = 0


def _house_living(where):
    here = (Tenancy.house_id == House.id, *residence.living())
    people = select().select_from(Tenancy).join(Person, Person.id == Tenancy.person_id).where(*here)
    return update(House).where(where).values(
        anom_living_count=select(func.count()).select_from(Tenancy).where(*here).correlate(House).scalar_subquery(),
        anom_youngest_birth_year=people.add_columns(func.max(Person.birth_year)).correlate(House).scalar_subquery(),
        anom_eldest_birth_year=people.add_columns(func.min(func.coalesce(Person.birth_year, UNKNOWN_BIRTH_YEAR)))
        .correlate(House).scalar_subquery())


def _house_report(where):
    return update(House).where(where).values(anom_last_report_at=select(func.max(Submission.submitted_at))
                                             .where(Submission.house_id == House.id).correlate(House)
                                             .scalar_subquery())


def _person_living(where):
    return update(Person).where(where).values(anom_living_count=select(func.count()).select_from(Tenancy).where(
        Tenancy.person_id == Person.id, *residence.living()).correlate(Person).scalar_subquery())


def _address_claimants(where):
    return update(Address).where(where).values(anom_claimant_count=select(func.count(func.distinct(House.owner_id)))
                                               .where(House.address_id == Address.id,
                                                      House.status.in_(RecordStatus.ACTIVE))
                                               .correlate(Address).scalar_subquery())


def _sql(statement, dialect: Dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def backfill(dialect: Dialect) -> list[str]:
    """Every summary of every row, recounted: what the migration runs, and bench/generate.py after its load."""
    return [_sql(s(True), dialect) for s in (_house_living, _house_report, _person_living, _address_claimants)]


# What each change recounts: (table, statement) with the rows as SQL over the trigger's NEW or OLD row.
def _by_tenancy(row: str) -> list[tuple]:
    return [(House, _house_living(House.id == literal_column(f"{row}.house_id"))),
            (Person, _person_living(Person.id == literal_column(f"{row}.person_id")))]


def _by_move_out(row: str) -> list[tuple]:
    tenancy = select(Tenancy.house_id).where(Tenancy.id == literal_column(f"{row}.tenancy_id"))
    person = select(Tenancy.person_id).where(Tenancy.id == literal_column(f"{row}.tenancy_id"))
    return [(House, _house_living(House.id.in_(tenancy))),
            (Person, _person_living(Person.id.in_(person)))]


def _by_report(row: str) -> list[tuple]:
    return [(House, _house_report(House.id == literal_column(f"{row}.house_id")))]


def _by_birth_year(row: str) -> list[tuple]:
    homes = select(Tenancy.house_id).where(Tenancy.person_id == literal_column(f"{row}.id"))
    return [(House, _house_living(House.id.in_(homes)))]


def _by_house(row: str) -> list[tuple]:
    return [(Address, _address_claimants(Address.id == literal_column(f"{row}.address_id")))]


MOVE_OUT = "'move_out'"
# (name, event, table, WHEN condition or None, recounts): one trigger each, on both databases.
TRIGGERS = (
    ("anom_tenancy_insert", "INSERT", "tenancy", None, lambda: _by_tenancy("NEW")),
    ("anom_tenancy_delete", "DELETE", "tenancy", None, lambda: _by_tenancy("OLD")),
    ("anom_tenancy_update", "UPDATE OF house_id, person_id, status, move_out_date", "tenancy", None,
     lambda: _by_tenancy("OLD") + _by_tenancy("NEW")),
    ("anom_move_out_insert", "INSERT", "submission", f"NEW.kind = {MOVE_OUT}", lambda: _by_move_out("NEW")),
    ("anom_move_out_delete", "DELETE", "submission", f"OLD.kind = {MOVE_OUT}", lambda: _by_move_out("OLD")),
    ("anom_move_out_update", "UPDATE OF kind, is_open, tenancy_id", "submission",
     f"OLD.kind = {MOVE_OUT} OR NEW.kind = {MOVE_OUT}", lambda: _by_move_out("OLD") + _by_move_out("NEW")),
    ("anom_report_insert", "INSERT", "submission", None, lambda: _by_report("NEW")),
    ("anom_report_delete", "DELETE", "submission", None, lambda: _by_report("OLD")),
    ("anom_report_update", "UPDATE OF house_id, submitted_at", "submission", None,
     lambda: _by_report("OLD") + _by_report("NEW")),
    ("anom_birth_year_update", "UPDATE OF birth_year", "person", None, lambda: _by_birth_year("NEW")),
    ("anom_house_insert", "INSERT", "house", None, lambda: _by_house("NEW")),
    ("anom_house_delete", "DELETE", "house", None, lambda: _by_house("OLD")),
    ("anom_house_update", "UPDATE OF address_id, owner_id, status", "house", None,
     lambda: _by_house("OLD") + _by_house("NEW")),
)


def _sqlite_trigger(name, event, table, when, recounts, dialect) -> list[str]:
    body = "; ".join(_sql(s, dialect) for _t, s in recounts())
    return [f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
            f"{f' WHEN {when}' if when else ''} BEGIN {body}; END"]


def _postgresql_trigger(name, event, table, when, recounts, dialect) -> list[str]:
    steps = []
    for model, statement in recounts():
        rows = _sql(select(literal_column("1")).select_from(model).where(statement.whereclause)
                    .order_by(model.id).with_for_update(key_share=True), dialect)
        steps += [f"PERFORM {rows.removeprefix('SELECT 1 ')}", _sql(statement, dialect)]
    body = ";\n  ".join(steps)
    return [f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  {body};\n"
            f"  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
            f"{f' WHEN ({when})' if when else ''} EXECUTE FUNCTION {name}()"]


def create_triggers(dialect: Dialect) -> list[str]:
    make = _postgresql_trigger if dialect.name == "postgresql" else _sqlite_trigger
    return [sql for t in TRIGGERS for sql in make(*t, dialect)]


def drop_triggers(dialect: Dialect) -> list[str]:
    if dialect.name == "postgresql":
        return [sql for name, _e, table, _w, _r in TRIGGERS
                for sql in (f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()")]
    return [f"DROP TRIGGER {name}" for name, *_rest in TRIGGERS]
