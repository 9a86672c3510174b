"""How long address search takes on a city of addresses (GET /api/v1/addresses and the house form).

    .venv/bin/python bench/generate.py --url postgresql:///bench_city          # once: 600,000 addresses
    .venv/bin/python bench/address_search.py --url postgresql:///bench_city
    .venv/bin/python bench/address_search.py --url sqlite:///bench/out/city.sqlite3

Runs portal.services.addresses.search_page (the first page of 20 and the count) in process, as the API view
and the pages call it, for queries of each
kind a landlord or an integrator types, built from an address in the middle of the city (so the words exist
and the run is the same for the same data): a full address, a community with building, unit and room, a
road with its door number, a road or a community alone, the first two characters of a community, a bare
room number, and text that matches nothing. Each query runs --repeat times after one warm-up; the best and
the median time and the number of results are printed and written to bench/out/address-search-<db>.json,
with the plan of each statement (EXPLAIN, PostgreSQL; EXPLAIN QUERY PLAN, SQLite).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

from bench_common import OUT  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Address  # noqa: E402
from portal.services import addresses, place_names  # noqa: E402
from portal.services.address_norm import pinyin_keys  # noqa: E402


def queries(sample: Address) -> list[tuple[str, str]]:
    room = sample.room.removesuffix("室")
    return [
        ("full address", f"{sample.division_name}{sample.township}{sample.road}{sample.door_no}"
                         f"{sample.community}{sample.building}{sample.unit}{room}"),
        ("community, building, unit, room", f"{sample.community}{sample.building}{sample.unit}{room}"),
        ("road and door number", f"{sample.road}{sample.door_no}"),
        ("road alone", sample.road),
        ("community alone", sample.community),
        ("first two characters of a community", sample.community[:2]),
        ("bare room number", room),
        ("matches nothing", "不存在的路名"),
        ("building-unit-room with dashes", f"{sample.community}{sample.building_key}-{sample.unit_key}-{room}"),
        ("pinyin initials of a community", pinyin_keys(sample.community)[0].lower()),
        ("full pinyin of a community", pinyin_keys(sample.community)[1].lower()),
        ("first two pinyin initials", pinyin_keys(sample.community)[0][:2].lower()),
        ("first character of a community", sample.community[:1]),
        ("first pinyin initial", pinyin_keys(sample.community)[0][:1].lower()),
    ]


def plan(connection, statement) -> list[str]:
    compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN" if connection.dialect.name == "sqlite" else "EXPLAIN"
    rows = connection.exec_driver_sql(f"{explain} {compiled}").all()
    return [str(row[-1]) for row in rows]


def statement(session, text: str, dialect: str):
    """The statement search_page runs for the first page: the place names' (services/place_names.py) for the first
    keystrokes of a name, else search_statement's."""
    begun = addresses.first_keystrokes(session, text, None)
    first = begun.page(addresses.TEXT_ORDER, 0, addresses.PAGE_SIZE) if begun is not None else None
    return first if first is not None else addresses.search_statement(text, dialect)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a database filled by bench/generate.py")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--plain", action="store_true",
                        help="search_statement for every query, as before the place names (migration 0025)")
    args = parser.parse_args(argv)
    if args.plain:
        place_names.MAX_NAMES = -1
    app = create_app({"DATABASE_URL": args.url})
    results = []
    with app.app_context():
        session = db.session
        count = session.scalar(select(func.count()).select_from(Address))
        sample = session.scalars(select(Address).where(Address.room != "").order_by(Address.id)
                                 .offset(count // 2).limit(1)).one()
        dialect = session.get_bind().dialect.name
        print(f"{dialect}: {count:,} addresses; sample {sample.code} {sample.search_text}")
        for kind, text in queries(sample):
            page = addresses.search_page(session, text)  # warm-up: the pages this query reads are cached
            found = page.items
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                addresses.search_page(session, text)  # the first page and the count, as the pages and API do
                times.append((time.perf_counter() - started) * 1000)
            results.append({"kind": kind, "query": text, "results": len(found), "total": page.total,
                            "more": page.more, "best_ms": round(min(times), 1),
                            "median_ms": round(statistics.median(times), 1),
                            "plan": plan(session.connection(), statement(session, text, dialect))})
            total = f"{page.total}{'+' if page.more else ''}"
            print(f"  {kind:38s} {text:36s} {len(found):3d} of {total:>5s}  best {min(times):6.1f} ms"
                  f"  median {statistics.median(times):6.1f} ms")
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"address-search-{dialect}{'-plain' if args.plain else ''}.json"
    out.write_text(json.dumps({"addresses": count, "repeat": args.repeat, "queries": results},
                              ensure_ascii=False, indent=1))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
