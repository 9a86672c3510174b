"""planner.not_from_index: "+column" on SQLite only, and SQLite then walks the lease ends for the overdue list."""
from datetime import date, datetime

from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite

from portal.models import Base, House, Tenancy
from portal.services import anomalies, planner


def test_the_column_is_written_with_a_unary_plus_on_sqlite_only():
    query = select(House.id).where(planner.not_from_index(House.beat_id).in_([1, 2]))
    assert "WHERE +house.beat_id IN" in str(query.compile(dialect=sqlite.dialect()))
    assert "WHERE house.beat_id IN" in str(query.compile(dialect=postgresql.dialect()))


def test_two_columns_are_two_statements_in_the_cache():
    one = select(House.id).where(planner.not_from_index(House.beat_id) == 1)
    other = select(House.id).where(planner.not_from_index(House.owner_id) == 1)
    assert one._generate_cache_key() != other._generate_cache_key()
    assert one._generate_cache_key() == select(House.id).where(
        planner.not_from_index(House.beat_id) == 1)._generate_cache_key()


# sqlite_stat1 of the 1,000,000-person city of bench/generate.py (its ANALYZE), for the indexes at stake.
CITY_STATS = [
    ("house", None, "600000"),
    ("house", "ix_house_beat_house", "600000 15000 1"),
    ("tenancy", None, "1000000"),
    ("tenancy", "ix_tenancy_house_active", "1000000 2 2"),
    ("tenancy", "ix_tenancy_lease_end_standing", "700000 2 1"),
]


def test_sqlite_walks_the_lease_ends_of_a_city_for_the_overdue_list(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # makes sqlite_stat1
        conn.execute(text("DELETE FROM sqlite_stat1"))
        for tbl, idx, stat in CITY_STATS:
            conn.execute(text("INSERT INTO sqlite_stat1 VALUES (:t, :i, :s)"), {"t": tbl, "i": idx, "s": stat})
        conn.execute(text("ANALYZE sqlite_schema"))  # the planner reads the statistics again
        query, _key = anomalies._overdue_keys(list(range(1, 11)), date(2026, 12, 4), datetime(2026, 12, 4))
        compiled = query.order_by(Tenancy.lease_end_date, Tenancy.id).limit(51).compile(
            engine, compile_kwargs={"literal_binds": True})
        plan = " / ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    engine.dispose()
    assert "ix_tenancy_lease_end_standing" in plan, plan
    assert "ix_house_beat" not in plan and "TEMP B-TREE" not in plan, plan
