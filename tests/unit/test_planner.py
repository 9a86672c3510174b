"""planner.not_from_index: "+column" on SQLite only, and SQLite then walks the lease ends for the overdue list."""
from datetime import date, datetime

from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite

from portal.models import Address, AddressLevel, Base, House
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


# sqlite_stat1 of the 1,000,000-person city of bench/generate.py (its ANALYZE) for the tables at stake; a unique
# constraint's index, whose name SQLite numbers by the order of creation, by its columns.
CITY_STATS = [
    ('address', 'ix_address_beat_id', '600000 15000'),
    ('address', 'ix_address_beat_level', '600000 15000 15000 1'),
    ('address', 'ix_address_community_order', '600000 3750 3750 3750 2291 2291 2291 2291 1233 133 133 53'),
    ('address', 'ix_address_door_key', '600000 5941'),
    ('address', 'ix_address_level', '600000 600000'),
    ('address', 'ix_address_replaced_by_id', '600000 600000'),
    ('address', 'ix_address_road_order', '600000 30000 30000 30000 3000 2632 2291 2291 1233 133 133 53'),
    ('address', 'ix_address_room_key', '600000 4546 159'),
    ('address', 'ix_address_township_order', '600000 60000 60000 60000 3000 2632 2291 2291 1233 133 133 53'),
    ('address', ('code',), '600000 1'),
    ('address', ('division_code', 'township', 'road', 'door_no', 'community', 'building', 'unit', 'room'),
     '600000 600000 60000 3000 2291 2291 133 53 1'),
    ('house', 'ix_house_address_id', '600000 1'),
    ('house', 'ix_house_address_status', '600000 1 1'),
    ('house', 'ix_house_anom_eldest', '600000 15000 171'),
    ('house', 'ix_house_anom_over_capacity', '30847 772 1'),
    ('house', 'ix_house_beat_house', '600000 15000 1'),
    ('house', 'ix_house_beat_id', '600000 15000'),
    ('house', 'ix_house_owner_id', '600000 120'),
    ('house', ('address_id', 'owner_id'), '600000 1 1'),
    ('tenancy', 'ix_tenancy_house_active', '1000000 3 2'),
    ('tenancy', 'ix_tenancy_lease_end_standing', '904139 580 1'),
    ('tenancy', 'ix_tenancy_person_active', '1000000 2 1'),
    ('tenancy', 'ix_tenancy_submission_id', '1000000 2'),
    ('tenancy', 'uq_tenancy_person_house_active', '904139 1 1'),
]


def _city_plan(tmp_path, keys) -> list[str]:
    """SQLite's plan of an anomaly list's first page (its `_..._keys` statement) with the city's statistics."""
    engine = create_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # makes sqlite_stat1
        conn.execute(text("DELETE FROM sqlite_stat1"))
        for tbl, idx, stat in CITY_STATS:
            if isinstance(idx, tuple):
                idx = next(name for _seq, name, *_ in conn.exec_driver_sql(f"PRAGMA index_list({tbl})")
                           if tuple(c for _n, _cid, c in conn.exec_driver_sql(f"PRAGMA index_info({name})")) == idx)
            conn.execute(text("INSERT INTO sqlite_stat1 VALUES (:t, :i, :s)"), {"t": tbl, "i": idx, "s": stat})
        conn.execute(text("ANALYZE sqlite_schema"))  # the planner reads the statistics again
        query, key = keys(list(range(1, 11)), date(2026, 12, 4), datetime(2026, 12, 4))
        compiled = query.order_by(*key).limit(51).compile(engine, compile_kwargs={"literal_binds": True})
        plan = [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    engine.dispose()
    return plan


def test_sqlite_walks_the_lease_ends_of_a_city_for_the_overdue_list(tmp_path):
    plan = " / ".join(_city_plan(tmp_path, anomalies._overdue_keys))
    assert "ix_tenancy_lease_end_standing" in plan, plan
    assert "ix_house_beat" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_rare_condition_is_unlikely_on_sqlite_only():
    query = select(Address.id).where(planner.rarely(Address.level == AddressLevel.building))
    assert str(query.compile(dialect=sqlite.dialect())).endswith("WHERE unlikely(address.level = ?)")
    assert "WHERE address.level = %(level_1)s" in str(query.compile(dialect=postgresql.dialect()))


def test_sqlite_finds_a_citys_few_buildings_by_their_level_for_the_conflicting_claims(tmp_path):
    plan = _city_plan(tmp_path, anomalies._conflicting_claims_keys)
    assert not [step for step in plan if step.startswith("SCAN address") and "INDEX" not in step], plan
    assert any("ix_address_level" in step for step in plan), plan
