"""How long `flask doorplates` takes for a beat of 1,000 rooms (target: under 10 s).

    .venv/bin/python bench/doorplates.py                       # SQLite file in bench/out/
    .venv/bin/python bench/doorplates.py --url postgresql:///bench_plates --rooms 5000

Loads --rooms room addresses of one beat (10 buildings, 2 units each, 2 rooms a floor) through the address CSV
import when the beat is not there yet, then runs the real command in a new process --repeat times
(`flask --app portal doorplates --beat BENCH-PLATES -o bench/out/doorplates.pdf`: start-up, the query, the
sheet, the file) and reports wall and CPU time of each run. Then, in this process, it times the parts: the
query, segno's QR encoding alone, rendering the whole PDF, and reads the PDF back with pypdfium2 to count
its pages. Results go to bench/out/doorplates-<database>.json.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

from bench_common import OUT, ROOT  # noqa: E402

BEAT = "BENCH-PLATES"


def address_csv(rooms: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["bureau_code", "bureau_name", "station_code", "station_name", "beat_code", "beat_name",
                     "division_code", "division_name", "township", "road", "door_no", "community", "building",
                     "unit", "room", "code"])
    head = ["BENCH-B", "基准分局", "BENCH-S", "基准派出所", BEAT, "基准警务区", "430302", "湖南省湘潭市雨湖区",
            "云塘街道", "韶山中路", "188号", "锦绣江南花园"]
    n = 0
    while n < rooms:
        building, rest = divmod(n, 100)
        unit, rest = divmod(rest, 50)
        floor, room = divmod(rest, 2)
        writer.writerow([*head, f"{building + 1}栋", f"{unit + 1}单元", f"{floor + 1}{room + 1:02d}", ""])
        n += 1
    return out.getvalue().encode()


def load(app, rooms: int) -> int:
    from sqlalchemy import func, select

    from portal.db import writing
    from portal.extensions import db
    from portal.models import Address, Beat
    from portal.services import addresses

    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Address).join(Beat).where(Beat.code == BEAT))
        if have != rooms:
            if have:
                raise SystemExit(f"the bench database holds {have} rooms of {BEAT}, not {rooms}: start afresh")
            with writing():
                report = addresses.import_csv(db.session, io.BytesIO(address_csv(rooms)), audit_each=False)
                db.session.commit()
            assert not report.errors, report.errors[:3]
        return rooms


def run_command(url: str, pdf: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "portal", "doorplates", "--beat", BEAT,
                           "-o", str(pdf)], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(done.stderr)
    return {"wall_s": round(wall, 2),
            "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2)}


def parts(app) -> dict:
    import pypdfium2
    import segno

    from portal.extensions import db
    from portal.services import doorplates

    out = {}
    with app.app_context():
        start = time.process_time()
        plates = doorplates.plates_for_beat(db.session, BEAT, base_url=app.config["PORTAL_BASE_URL"],
                                            limit=app.config["MAX_DOOR_PLATES"])
        out["query_cpu_s"] = round(time.process_time() - start, 3)
        start = time.process_time()
        for plate in plates:
            segno.make(plate.url, error="m")
        out["qr_encoding_cpu_s"] = round(time.process_time() - start, 2)
        start = time.process_time()
        data = doorplates.render_pdf(plates, app.config["DOORPLATE_FONT"])
        out["render_cpu_s"] = round(time.process_time() - start, 2)
    out["plates"], out["pdf_bytes"] = len(plates), len(data)
    out["pages"] = len(pypdfium2.PdfDocument(data))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"sqlite:///{OUT / 'doorplates.sqlite3'}")
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    from portal import create_app, migrate
    from portal.extensions import db

    app = create_app({"DATABASE_URL": args.url})
    with app.app_context():
        migrate.upgrade(db.engine)
    load(app, args.rooms)
    pdf = OUT / "doorplates.pdf"
    runs = [run_command(args.url, pdf) for _ in range(args.repeat)]
    result = {"url": bench_common.describe_url(args.url), "rooms": args.rooms, "load_average": os.getloadavg(),
              "command_runs": runs, "best_wall_s": min(r["wall_s"] for r in runs),
              "best_cpu_s": min(r["cpu_s"] for r in runs), "in_process": parts(app)}
    name = "sqlite" if args.url.startswith("sqlite") else "postgresql"
    (OUT / f"doorplates-{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
