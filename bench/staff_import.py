"""Time and memory of the staff-list import (issue 4, item 10). Not a timed test: run it by hand.

    .venv/bin/python bench/staff_import.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/staff_import.py --pg-url ''           # SQLite only
    /tmp/probe/bin/python bench/staff_import.py --readers-only   # calamine vs openpyxl (needs both)

1. Generates bench/out/staff-10000.xlsx and staff-50000.xlsx (git-ignored): name, sex, a valid resident
   ID stored as text, mobile phone, position and a real date cell, as employers' lists have.
2. Readers: python-calamine and, when importable, openpyxl read-only, reading the 10,000-row file.
3. For each file, in a fresh child process with a fresh SQLite database: the floor (spreadsheets.read_table
   plus identity.check_resident_id on every ID: reading and checking the ID numbers alone) and
   staff_import.preview, interleaved, REPEAT times each; the best of each and their ratio.
4. Peak memory of a preview alone, in its own child process (ru_maxrss: the whole process, the Python
   interpreter, the imported portal and the test factories' argon2 hash included), and the peak of
   Python allocations during a second preview (tracemalloc; the reader's Rust buffers are not in it).
5. Commit of the 10,000-row file into an empty unit (10,000 people, hire submissions and employments),
   on a fresh SQLite file and on PostgreSQL in a fresh schema of its own inside the bench_staff database
   (created when missing: psql -d postgres -c 'create database bench_staff'), REPEAT times, each in a new
   child process with a new database; the best and all times, and the highest peak memory.

Targets: 10k preview < 1.5 s, commit < 2 s, peak < 300 MB; 50k preview < 8 s; preview / floor < 3.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import secrets
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

from stdnum.cn import ric  # noqa: E402

OUT = bench_common.OUT
SIZES = (10_000, 50_000)
REPEAT = 5
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
            "曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红海燕"
         "玉春梅文晓东俊浩然涵欣怡雨一诺思远佳宇航泽博婷丹鹏飞")
POSITIONS = ("保安", "保洁", "厨师", "收银员", "服务员", "司机", "仓管", "店长", "前台", "维修工")
REGIONS = ("430302", "430304", "430321", "430381", "110105", "310115", "440306", "510107", "420111", "320102")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- data --------------------------------------------------------------------------------------------

def staff_rows(n: int, seed: int = 4) -> list[list]:
    rng = random.Random(seed)
    rows: list[list] = [["姓名", "性别", "身份证号码", "手机号码", "岗位", "入职日期"]]
    seen: set[str] = set()
    start = date(1965, 1, 1)
    while len(rows) <= n:
        birth = start + timedelta(days=rng.randrange(365 * 40))
        body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number in seen:
            continue
        seen.add(number)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        sex = "男" if int(number[16]) % 2 else "女"
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        hired = date(2015, 1, 1) + timedelta(days=rng.randrange(3500))
        rows.append([name, sex, number, phone, rng.choice(POSITIONS), hired])
    return rows


def generate(n: int) -> Path:
    from portal.services.spreadsheets import write_xlsx

    path = OUT / f"staff-{n}.xlsx"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_bytes(write_xlsx(staff_rows(n), text_columns=[2, 3], date_columns=[5]))
    return path


# --- the app and a unit to import into -----------------------------------------------------------

def make_app(url: str):
    from portal import create_app, migrate
    from portal.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + secrets.token_hex(8), "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    migrate.upgrade(db.engine)
    return app


def make_unit(session):
    from portal.models import RecordStatus, Unit, UnitType
    from tests import factories

    district = factories.make_district(session)
    owner = factories.make_user(session, role="employer")
    place = district.addresses[0]
    unit = Unit(owner_id=owner.id, uscc="91430302MA4L000001", name="湘潭市雨湖区安心保安服务有限公司",
                unit_type=UnitType.enterprise, industry="保安服务", address_id=place.id,
                beat_id=place.beat_id,
                legal_rep_name="张三", legal_rep_id_number=factories.resident_id(), contact_name="李四",
                contact_phone=factories.phone(), status=RecordStatus.pending)
    session.add(unit)
    session.commit()
    return unit, owner


def remove_sqlite(url: str) -> None:
    """Close the app's connections, then delete the database file and its WAL and shared-memory files."""
    from portal.extensions import db

    db.session.remove()
    db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


def pg_schema_url(base: str) -> tuple[str, str]:
    from sqlalchemy import make_url

    from portal.db import normalise_url

    schema = f"bench_staff_{os.getpid()}_{secrets.token_hex(3)}"
    url = make_url(normalise_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def ensure_pg_database(base: str) -> None:
    from sqlalchemy import make_url

    name = make_url(base).database or ""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"use a plain database name (lower-case letters, digits, _), not {name!r}")
    query = f"select 1 from pg_database where datname = '{name}'"  # noqa: S608 - name checked above
    found = subprocess.run(["psql", "-d", "postgres", "-tAc", query], capture_output=True, text=True,
                           check=True).stdout.strip()
    if found != "1":
        subprocess.run(["psql", "-d", "postgres", "-c", f"create database {name}"], check=True)


# --- child processes ---------------------------------------------------------------------------------

def child_floor_and_preview(path: str, repeat: int) -> dict:
    from portal.extensions import db
    from portal.services import identity, spreadsheets, staff_import
    from portal.services.errors import FieldError

    data = Path(path).read_bytes()
    app = make_app(f"sqlite:///{OUT / f'bench-staff-preview-{os.getpid()}.sqlite3'}")
    floors, previews = [], []
    with app.test_request_context():  # as in the portal: in a request, in the default language
        unit, _owner = make_unit(db.session)
        for _ in range(repeat):
            t0 = time.perf_counter()
            header, rows = spreadsheets.read_table(data, path, max_rows=50_000)
            column = header.index("身份证号码")
            valid = 0
            for _number, cells in rows:
                try:
                    identity.check_resident_id(cells[column])
                    valid += 1
                except FieldError:
                    pass
            floors.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pv = staff_import.preview(db.session, unit, data, path)
            previews.append(time.perf_counter() - t0)
            db.session.rollback()
            assert valid == len(pv.valid) == len(rows), (valid, len(pv.valid), len(pv.errors))
    remove_sqlite(app.config["DATABASE_URL"])
    return {"rows": len(rows), "floor_s": floors, "preview_s": previews, "peak_mb": peak_mb()}


def child_preview_memory(path: str) -> dict:
    from portal.extensions import db
    from portal.services import staff_import

    data = Path(path).read_bytes()
    app = make_app(f"sqlite:///{OUT / f'bench-staff-mem-{os.getpid()}.sqlite3'}")
    with app.test_request_context():
        unit, _owner = make_unit(db.session)
        before = peak_mb()
        t0 = time.perf_counter()
        pv = staff_import.preview(db.session, unit, data, path)
        elapsed = time.perf_counter() - t0
        peak = peak_mb()
        del pv
        db.session.rollback()
        tracemalloc.start()  # Python objects only (not the reader's Rust buffers); slows the run down
        pv = staff_import.preview(db.session, unit, data, path)
        python_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    remove_sqlite(app.config["DATABASE_URL"])
    return {"rows": pv.rows, "preview_s": elapsed, "baseline_mb": before, "peak_mb": peak,
            "tracemalloc_peak_mb": python_peak}


def child_commit(path: str, url: str) -> dict:
    from sqlalchemy import func, select, text

    from portal.extensions import db
    from portal.models import Employment, Submission
    from portal.services import audit, staff_import

    data = Path(path).read_bytes()
    schema = None
    admin = None
    if url.startswith("postgres"):
        from portal.db import make_engine

        url, schema = pg_schema_url(url)
        admin = make_engine(url.split("?")[0])
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    try:
        app = make_app(url)
        with app.test_request_context():
            unit, owner = make_unit(db.session)
            before = peak_mb()
            t0 = time.perf_counter()
            pv = staff_import.preview(db.session, unit, data, path)
            t_preview = time.perf_counter() - t0
            t0 = time.perf_counter()
            imp = staff_import.commit(db.session, unit, owner, pv, audit.Actor(user=owner))
            db.session.commit()
            t_commit = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = staff_import.commit(db.session, unit, owner, pv, audit.Actor(user=owner))
            db.session.commit()
            t_again = time.perf_counter() - t0
            subs = db.session.scalar(select(func.count()).select_from(Submission))
            emps = db.session.scalar(select(func.count()).select_from(Employment))
            assert imp.hires == pv.rows == subs == emps and again.id == imp.id and not again.created
            dialect = db.engine.dialect.name
            db.session.remove()
            db.engine.dispose()
        return {"database": dialect, "rows": pv.rows, "preview_s": t_preview, "commit_s": t_commit,
                "recommit_same_s": t_again, "baseline_mb": before, "peak_mb": peak_mb()}
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        elif url.startswith("sqlite"):
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                         cwd=bench_common.ROOT)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"child {args} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- readers -----------------------------------------------------------------------------------------

def readers(path: Path, repeat: int) -> dict:
    data = path.read_bytes()
    result: dict[str, float | str] = {}
    import python_calamine

    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        best = min(best, time.perf_counter() - t0)
    result["calamine_s"] = best
    from importlib.metadata import version

    result["calamine_version"] = version("python-calamine")
    try:
        import openpyxl
    except ImportError:
        result["openpyxl_s"] = "not installed"
        return result
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows2 = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        best = min(best, time.perf_counter() - t0)
    assert len(rows2) == len(rows)
    result["openpyxl_s"] = best
    result["openpyxl_version"] = openpyxl.__version__
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--pg-url", default="postgresql:///bench_staff",
                        help="PostgreSQL database for the commit (a schema of its own is used); '' to skip")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--readers-only", action="store_true")
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "preview":
            result = child_floor_and_preview(rest[0], int(rest[1]))
        elif kind == "memory":
            result = child_preview_memory(rest[0])
        else:
            result = child_commit(rest[0], rest[1])
        print(json.dumps(result))
        return

    files = {n: generate(n) for n in SIZES}
    report: dict[str, object] = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                                 "load_average_at_start": os.getloadavg()}
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    report["readers_10k"] = readers(files[10_000], args.repeat)
    print("readers (10,000 rows):", json.dumps(report["readers_10k"]))
    if args.readers_only:
        return
    for n, path in files.items():
        r = run_child("preview", str(path), str(args.repeat))
        floor, prev = min(r["floor_s"]), min(r["preview_s"])
        # Each preview runs right after its floor, so a pair shares the machine's load: the median of the
        # pairs' ratios is the steadier figure when other processes compete for the two cores.
        pairs = sorted(p / f for f, p in zip(r["floor_s"], r["preview_s"], strict=True))
        r.update(floor_best_s=floor, preview_best_s=prev, ratio=prev / floor,
                 ratio_median_of_pairs=pairs[len(pairs) // 2], load_average=os.getloadavg())
        report[f"preview_{n}"] = r
        print(f"{n:>6} rows: floor {floor:.3f} s, preview {prev:.3f} s, ratio of bests {prev / floor:.2f}, "
              f"median ratio of pairs {r['ratio_median_of_pairs']:.2f} "
              f"(all floor {[round(x, 3) for x in r['floor_s']]}, "
              f"preview {[round(x, 3) for x in r['preview_s']]})")
        m = run_child("memory", str(path))
        report[f"memory_{n}"] = m
        print(f"{n:>6} rows: one preview {m['preview_s']:.3f} s, peak RSS {m['peak_mb']:.0f} MB "
              f"(after start-up {m['baseline_mb']:.0f} MB), Python objects at most "
              f"{m['tracemalloc_peak_mb']:.0f} MB (tracemalloc)")
    targets = [f"sqlite:///{OUT / 'bench-staff-commit.sqlite3'}"]
    if args.pg_url:
        ensure_pg_database(args.pg_url)
        targets.append(args.pg_url)
    for url in targets:
        # a fresh database each time
        runs = [run_child("commit", str(files[10_000]), url) for _ in range(args.repeat)]
        best = min(runs, key=lambda c: c["commit_s"])
        best["all_commit_s"] = [c["commit_s"] for c in runs]
        best["max_peak_mb"] = max(c["peak_mb"] for c in runs)
        report[f"commit_10000_{best['database']}"] = best
        print(f"commit 10,000 on {best['database']}: commit best {best['commit_s']:.3f} s "
              f"(all {[round(c['commit_s'], 3) for c in runs]}), its preview {best['preview_s']:.3f} s, "
              f"same content again {best['recommit_same_s']:.3f} s, peak RSS {best['max_peak_mb']:.0f} MB "
              f"(after start-up {best['baseline_mb']:.0f} MB)")
    report["load_average_at_end"] = os.getloadavg()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    (OUT / "staff_import.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written to {OUT / 'staff_import.json'}")


if __name__ == "__main__":
    main()
