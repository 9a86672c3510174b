"""Time the quality rates (services/quality.py) on the data bench/generate.py makes.

    .venv/bin/python bench/quality.py --url sqlite:///bench/out/bench.sqlite3
    .venv/bin/python bench/quality.py --url postgresql:///bench

Builds the real app, then times REPEAT times after WARMUP runs, each in a fresh session:

* quality.report for the busiest station (the station of bench officer 13910000001, by default the last
  30 days), for its busiest beat (officer 13920000001) and for the whole bureau;
* the same station over 365 days;
* the officer's page GET /officer/quality through the test client, signed in through the real login and
  two-factor pages as that station officer (the figures, the charts and the rendering), and as an officer of
  the bureau's own staff (whose page is the whole bureau's; the script adds that account, 13930000001 with
  the bench password and TOTP key, when the data has none).

For one run of each report it records each statement's time inside cursor.execute, by the part of the
report it serves, so that the slowest part shows. Results go to bench/out/quality-<database>.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402

from sqlalchemy import select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import normalise_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Bureau, Role, User  # noqa: E402
from portal.services import quality  # noqa: E402
from portal.services.passwords import hash_password  # noqa: E402
from tests.browser import FormClient  # noqa: E402

TARGET_MS = 100.0


def timed(fn, repeat: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    runs.sort()
    return {"median_ms": round(statistics.median(runs), 1), "p95_ms": round(runs[int(0.95 * (len(runs) - 1))], 1),
            "min_ms": round(runs[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": True})
    log = bench_common.StatementLog(db.engine)

    results: dict = {"url": bench_common.describe_url(url), "target_ms": TARGET_MS}
    with app.app_context():
        station_officer = db.session.scalar(select(User).where(User.phone == bench_common.STATION_OFFICER_PHONE))
        beat_officer = db.session.scalar(select(User).where(User.phone == bench_common.BEAT_OFFICER_PHONE))
        bureau = db.session.scalar(select(Bureau).order_by(Bureau.id).limit(1))
        scopes = {"station (busiest)": quality.scope_of_officer(db.session, station_officer),
                  "beat (busiest of that station)": quality.scope_of_officer(db.session, beat_officer),
                  "bureau": quality.scope_for(db.session, "bureau", bureau.code)}
        period = quality.default_period()
        year = quality.Period(period.end - timedelta(days=364), period.end)
        cases = [(name, scope, period) for name, scope in scopes.items()]
        cases.append(("station (busiest), 365 days", scopes["station (busiest)"], year))
        db.session.remove()
        for name, scope, chosen in cases:
            def run(scope=scope, chosen=chosen):
                try:
                    return quality.report(db.session, scope, chosen)
                finally:
                    db.session.remove()

            results[name] = timed(run, args.repeat, args.warmup)
            with log:
                found = run()
            results[name]["statements"] = [{"ms": round(ms, 1), "sql": sql[:160].replace("\n", " ")}
                                           for sql, ms in log.statements]
            t = found.total
            results[name]["figures"] = {"coverage": t.coverage.as_json(), "timeliness": t.timeliness.as_json(),
                                        "accuracy": t.accuracy.as_json(),
                                        "verification_count": len(t.hours),
                                        "open_older_than_3_days": t.open_older_than_3_days}

        phone = bench_common.BUREAU_OFFICER_PHONE
        if db.session.scalar(select(User.id).where(User.phone == phone)) is None:
            db.session.add(User(role=Role.officer, phone=phone, name="分局民警", bureau_id=bureau.id,
                                password_hash=hash_password(bench_common.PASSWORD),
                                totp_secret=bench_common.totp_secret(phone), totp_confirmed=True))
            db.session.commit()
        db.session.remove()

    for name, phone in (("station", bench_common.STATION_OFFICER_PHONE),
                        ("bureau", bench_common.BUREAU_OFFICER_PHONE)):
        client = FormClient(app.test_client())
        for attempt in range(2):
            try:
                client.sign_in(phone, bench_common.PASSWORD, totp_secret=bench_common.totp_secret(phone))
                break
            except AssertionError:  # this TOTP step was used by an earlier run: wait for the next one
                if attempt:
                    raise
                time.sleep(31)

        def page(client=client):
            response = client.get("/officer/quality")
            assert response.status_code == 200, response.status_code

        results[f"page GET /officer/quality ({name})"] = timed(page, args.repeat, args.warmup)

    out = bench_common.OUT / f"quality-{url.split(':', 1)[0].split('+')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"{results['url']}  (median / p95 ms, {args.repeat} runs after {args.warmup} warm-up)")
    for name, r in results.items():
        if isinstance(r, dict):
            slowest = max(r.get("statements", [{"ms": 0, "sql": ""}]), key=lambda s: s["ms"])
            extra = f"  slowest statement {slowest['ms']} ms" if slowest["sql"] else ""
            print(f"  {name:<40} {r['median_ms']:>8} / {r['p95_ms']:<8}{extra}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
