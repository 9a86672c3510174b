"""How long the address CSV import takes at the sizes a clerk and an operator use, and what the summary
triggers on `address` cost it (place names, migration 0025; house coverage, 0026).

    .venv/bin/python bench/address_import.py --url postgresql:///bench_import --rows 5000 50000
    .venv/bin/python bench/address_import.py --url sqlite:///bench/out/address-import.sqlite3 --rows 5000 50000

For each size, on a database made afresh (the URL's database is emptied: never point it at one you keep), the
portal's migrations, then `addresses.import_csv` of that many room addresses of one beat, one road and one
community (the worst case for the triggers: every row counts the same few summary rows) in one transaction, as
the clerk's web import (up to 5,000 rows) and `flask addresses import` do, audited per address; then the commit.
With --without-triggers it runs each size a second time with the triggers on `address` dropped (the figure the
triggers are measured against). Results go to bench/out/address-import-<database>.json.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

from bench_common import OUT  # noqa: E402
from doorplates import address_csv  # noqa: E402
from sqlalchemy import text  # noqa: E402

from portal import create_app, migrate  # noqa: E402
from portal.db import normalise_url, writing  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.services import addresses  # noqa: E402

TRIGGERS_POSTGRESQL = ("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'address'::regclass")
TRIGGERS_SQLITE = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'address'"


def afresh(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)
    migrate.upgrade(engine)


def drop_address_triggers(engine, prefix: str) -> list[str]:
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        names = [name for name in conn.scalars(text(TRIGGERS_POSTGRESQL if postgresql else TRIGGERS_SQLITE))
                 if name.startswith(prefix)]
        for name in names:
            conn.execute(text(f'DROP TRIGGER "{name}"' + (" ON address" if postgresql else "")))
    return names


def one_import(app, rows: int, triggers: bool, prefix: str = "") -> dict:
    with app.app_context():
        afresh(db.engine)
        dropped = [] if triggers else drop_address_triggers(db.engine, prefix)
        data = address_csv(rows)
        start = time.perf_counter()
        with writing():
            report = addresses.import_csv(db.session, io.BytesIO(data))
            imported = time.perf_counter() - start
            db.session.commit()
        total = time.perf_counter() - start
        db.session.remove()
        assert report.created == rows and not report.errors, (report.created, report.errors[:3])
    return {"rows": rows, "triggers": "on" if triggers else f"dropped: {', '.join(dropped)}",
            "import_s": round(imported, 2), "with_commit_s": round(total, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a database this script may empty")
    parser.add_argument("--rows", type=int, nargs="+", default=[5000])
    parser.add_argument("--without-triggers", action="store_true")
    parser.add_argument("--prefix", default="", help="with --without-triggers, drop only the triggers so named")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    results = []
    for rows in args.rows:
        for triggers in (True, False) if args.without_triggers else (True,):
            result = one_import(app, rows, triggers, args.prefix)
            print("  " + json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    OUT.mkdir(parents=True, exist_ok=True)
    name = "postgresql" if url.startswith("postgresql") else "sqlite"
    (OUT / f"address-import-{name}.json").write_text(json.dumps(
        {"url": bench_common.describe_url(url), "results": results}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
