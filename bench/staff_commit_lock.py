"""How long the web's staff-list commit keeps SQLite's write lock from other writers. Run it by hand:

    .venv/bin/python bench/staff_commit_lock.py                  # 10,000 and 50,000 rows, 3 runs each
    .venv/bin/python bench/staff_commit_lock.py --sizes 10000 --repeat 1

For each run, in a fresh child process with a fresh SQLite file: an employer (through the test client, as a
browser would) uploads bench/out/staff-N.xlsx (made by bench/staff_import.py's generator), then sends the
preview page's commit form while a probe thread tries BEGIN IMMEDIATE on a connection of its own every
0.5 ms (busy_timeout 0; released at once when it gets the lock). The longest stretch in which the probe
could not get the lock is how long any other writer (a landlord's move-in, a CLI command) had to wait; the
same is measured for the upload's POST (it checks the file too). Results: bench/out/staff_commit_lock.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import staff_import as bench_staff  # noqa: E402

OUT = bench_common.OUT


class LockProbe(threading.Thread):
    """Tries to take the write lock every `step` seconds; records the longest stretch it could not."""

    def __init__(self, path: str, step: float = 0.0005) -> None:
        super().__init__(daemon=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout=0")
        self.step, self.stop, self.longest, self.busy_since = step, threading.Event(), 0.0, None

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.perf_counter()
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.execute("ROLLBACK")
                if self.busy_since is not None:
                    self.longest = max(self.longest, now - self.busy_since)
                    self.busy_since = None
            except sqlite3.OperationalError:
                if self.busy_since is None:
                    self.busy_since = now
            time.sleep(self.step)

    def finish(self) -> float:
        self.stop.set()
        self.join()
        if self.busy_since is not None:
            self.longest = max(self.longest, time.perf_counter() - self.busy_since)
        self.conn.close()
        return self.longest


def child(path: str, db_file: str) -> dict:
    from portal.extensions import db
    from tests import factories
    from tests.browser import FormClient, parse
    from tests.factories import post_form

    for suffix in ("", "-wal", "-shm"):
        Path(db_file + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{db_file}"
    app = bench_staff.make_app(url)
    app.config.update(UPLOAD_FOLDER=str(Path(db_file).parent / "bench-lock-uploads"), MAX_CONTENT_LENGTH=64 << 20)
    with app.app_context():
        unit, owner = bench_staff.make_unit(db.session)
        unit_id, phone = unit.id, owner.phone
        db.session.remove()
    client = FormClient(app.test_client())
    client.sign_in(phone, factories.PASSWORD)
    data = Path(path).read_bytes()

    upload_url = f"/employer/units/{unit_id}/upload"
    form = parse(client.get(upload_url)).find("form", enctype="multipart/form-data")
    fields = {"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"],
              "file": (io.BytesIO(data), Path(path).name), "full_list": "y"}
    probe = LockProbe(db_file)
    probe.start()
    t0 = time.perf_counter()
    sent = client.client.post(upload_url, data=fields, content_type="multipart/form-data")
    upload_s = time.perf_counter() - t0
    upload_lock_s = probe.finish()
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    preview_url = sent.headers["Location"]
    page = parse(client.get(preview_url))

    probe = LockProbe(db_file)
    probe.start()
    t0 = time.perf_counter()
    done = post_form(client, page, preview_url, action="/commit")
    commit_s = time.perf_counter() - t0
    commit_lock_s = probe.finish()
    assert done.status_code == 302 and "/imports/" in done.headers["Location"], done.status_code
    with sqlite3.connect(db_file) as check:
        hires = check.execute("SELECT count(*) FROM employment").fetchone()[0]
    db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(db_file + suffix).unlink(missing_ok=True)
    return {"rows": hires, "upload_request_s": upload_s, "upload_lock_s": upload_lock_s,
            "commit_request_s": commit_s, "commit_lock_s": commit_lock_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    report: dict[str, object] = {"load_average_at_start": os.getloadavg()}
    for n in args.sizes:
        path = bench_staff.generate(n)
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--child", str(path), str(OUT / "bench-lock.sqlite3")],
                                 capture_output=True, text=True, cwd=bench_common.ROOT)
            if out.returncode:
                sys.stderr.write(out.stderr)
                raise SystemExit("child failed")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        report[str(n)] = runs
        for key in ("upload_request_s", "upload_lock_s", "commit_request_s", "commit_lock_s"):
            values = sorted(r[key] for r in runs)
            print(f"{n:>6} rows {key:<17} median {values[len(values) // 2]:.3f} s  all {[round(v, 3) for v in values]}")
    report["load_average_at_end"] = os.getloadavg()
    print(f"load average: {report['load_average_at_start'][0]:.2f} at start, {report['load_average_at_end'][0]:.2f} "
          f"at end")
    (OUT / "staff_commit_lock.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
