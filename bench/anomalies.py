"""Time the officers' anomaly lists (services/anomalies.py) on the data bench/generate.py makes.

    .venv/bin/python bench/anomalies.py --url sqlite:///bench/out/bench.sqlite3
    .venv/bin/python bench/anomalies.py --url postgresql:///bench_quality

Only reads. For the station officer of the busiest station (13910000001) and the beat officer of its
busiest beat (13920000001), times each list's first page (anomalies.page, 50 rows) and its count
(anomalies.count, in full and as the officer's home page counts: up to HOME_CAP + 1), REPEAT times after
WARMUP runs, each in a fresh session, and keeps the slowest statement of one more run. Results go to
bench/out/anomalies-<database>.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import argparse  # noqa: E402
import json  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from sqlalchemy import select  # noqa: E402

from bench.quality import timed  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import normalise_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Role, User  # noqa: E402
from portal.services import anomalies  # noqa: E402

TARGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--kinds", default=",".join(anomalies.KINDS))
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    log = bench_common.StatementLog(db.engine)

    results: dict = {"url": bench_common.describe_url(url), "target_ms": TARGET_MS}
    with app.app_context():
        officers = {"station": bench_common.STATION_OFFICER_PHONE, "beat": bench_common.BEAT_OFFICER_PHONE}
        # Only the columns the scoping reads (jurisdiction.beat_ids_for): a generated database may be at
        # another migration than this code, with user_account columns the model does not know of.
        found = {who: db.session.execute(select(User.station_id, User.beat_id).where(User.phone == phone)).one()
                 for who, phone in officers.items()}
        db.session.remove()
        for who, (station_id, beat_id) in found.items():
            officer = SimpleNamespace(role=Role.officer, station_id=station_id, beat_id=beat_id)
            for kind in args.kinds.split(","):
                for what in ("page", "home count", "count"):
                    def run(kind=kind, what=what, officer=officer):
                        try:
                            if what == "page":
                                return len(anomalies.page(db.session, officer, kind).rows)
                            return anomalies.count(db.session, officer, kind,
                                                   cap=anomalies.HOME_CAP if what == "home count" else None)
                        finally:
                            db.session.remove()

                    name = f"{who} {kind} {what}"
                    r = timed(run, args.repeat, args.warmup)
                    with log:
                        r["result"] = run()
                    slowest = max(log.statements, key=lambda s: s[1])
                    r["slowest_statement"] = {"ms": round(slowest[1], 1), "sql": slowest[0][:200].replace("\n", " ")}
                    results[name] = r
                    print(f"  {name:<38} {r['median_ms']:>8} / {r['p95_ms']:<8} ({what}: {r['result']})",
                          flush=True)

    out = bench_common.OUT / f"anomalies-{url.split(':', 1)[0].split('+')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
