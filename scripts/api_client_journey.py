"""An integrator's journey through a client generated from our own OpenAPI document (openapi-python-client).

    python scripts/api_client_journey.py BASE_URL LANDLORD_TOKEN EMPLOYER_TOKEN WORK_DIR

Generates the client into WORK_DIR from BASE_URL/api/v1/openapi.json, then, with it alone: searches an
address, registers a house, reports a move-in, and dry-runs a staff list upload as a file. Exits 1 with a
message when the generator fails or any step does not answer as the document says (scripts/api-fuzz runs
it against the same live server as schemathesis).
"""
from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path

PACKAGE = "resident_reporting_portal_api_client"


def generate(base: str, work: Path) -> None:
    document = work / "openapi.json"
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10) as response:  # noqa: S310 (ours)
        document.write_bytes(response.read())
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(bin_dir / "openapi-python-client"), "generate", "--path", str(document),  # noqa: S603
                           "--output-path", str(work / "client"), "--overwrite"],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0 or not (work / "client" / PACKAGE).is_dir():
        sys.exit(f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}")
    sys.path.insert(0, str(work / "client"))


def step(name: str, response, expected: int):
    if response.status_code != expected:
        sys.exit(f"{name}: expected {expected}, got {response.status_code}: {response.content[:500]!r}")
    print(f"ok  {name}: {response.status_code}")
    return response.parsed


def journey(base: str, landlord_token: str, employer_token: str) -> None:
    client_module = importlib.import_module(PACKAGE)
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    for part in ("addresses.addresses_search", "houses.houses_register", "houses.houses_move_in",
                 "units.units_list", "units.units_staff_import"):
        importlib.import_module(f"{api.__name__}.{part}")
    landlord = client_module.AuthenticatedClient(base_url=f"{base}/api/v1", token=landlord_token)
    employer = client_module.AuthenticatedClient(base_url=f"{base}/api/v1", token=employer_token)

    found = step("address search", api.addresses.addresses_search.sync_detailed(client=landlord, q="银海花园 401"),
                 200)
    rooms = [a for a in found if str(a.level.value) == "room"]
    if not rooms:
        sys.exit("address search: no room found for 银海花园 401")
    house = step("register a house", api.houses.houses_register.sync_detailed(
        client=landlord, body=models.HouseRequest(address_code=rooms[-1].code, use=models.HouseRequestUse.SHARED_RENTAL,
                                                  max_occupants=3),
        idempotency_key=f"journey-house-{rooms[-1].code}"), 201)
    occupant = models.Occupant(id_type=models.OccupantIdType.RESIDENT_ID, id_number="430302199505051234",
                               name="周客户")
    moved_in = step("report a move-in", api.houses.houses_move_in.sync_detailed(
        house.id, client=landlord, body=models.MoveInRequest(move_in_date=date.today(), occupants=[occupant]),
        idempotency_key=f"journey-move-in-{house.id}"), 201)
    if len(moved_in.tenancy_ids) != 1 or not moved_in.receipt:
        sys.exit(f"report a move-in: unexpected answer {moved_in}")

    units = step("list units", api.units.units_list.sync_detailed(client=employer), 200)
    staff_list = "姓名,身份证号码,岗位\r\n吴员工,430302199203041233,厨师\r\n".encode()
    upload = models.UnitsStaffImportBody(file=types.File(payload=io.BytesIO(staff_list), file_name="staff.csv",
                                                         mime_type="text/csv"))
    dry_run = step("staff list dry run", api.units.units_staff_import.sync_detailed(
        units[0].id, client=employer, body=upload, dry_run=models.UnitsStaffImportDryRun.TRUE), 200)
    if dry_run.committed or dry_run.valid != 1:
        sys.exit(f"staff list dry run: unexpected answer {json.dumps(dry_run.to_dict(), ensure_ascii=False)}")


def main() -> None:
    base, landlord_token, employer_token, work = sys.argv[1:5]
    generate(base.rstrip("/"), Path(work))
    journey(base.rstrip("/"), landlord_token, employer_token)
    print("the generated client's journey passed")


if __name__ == "__main__":
    main()
