"""Employers through the API: units and staff-list uploads (dry run, commit, the same list twice, row
errors, refused files), on the staff-list fixtures of the employer issue; scoped as the web session is."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import Employment, StaffImport, Submission, SubmissionKind, Unit
from tests import factories
from tests.integration.api.conftest import ApiClient, codes, new_token, problem

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "staff"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def counts(session) -> dict[str, int]:
    return {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (StaffImport, Submission, Employment, Unit)
    }


@pytest.fixture
def employer(db_session):
    return factories.make_user(db_session, role="employer", name="王经理")


@pytest.fixture
def emp(app, db_session, employer) -> ApiClient:
    return ApiClient(app.test_client(), new_token(db_session, employer))


@pytest.fixture
def unit(db_session, district, employer):
    sub = factories.make_unit(db_session, employer, district.addresses[0])
    return db_session.get(Unit, sub.unit_id)


def upload(client, unit_id, name, data=None, *, query="", key=None, filename=None):
    files = {"file": (io.BytesIO(fixture(name) if data is None else data), filename or name)}
    return client.post(
        f"/api/v1/units/{unit_id}/staff-imports{query}",
        data=files,
        content_type="multipart/form-data",
        key=key,
    )


# --- units --------------------------------------------------------------------------------------------


def test_register_and_list_units(emp, db_session, district, employer):
    fields = factories.unit_fields(district.addresses[0])
    fields["special_trade"] = "hotel"
    response = emp.post("/api/v1/units", json=fields)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "submission_id", "status", "flags"} and body["status"] == "pending"
    assert body["flags"] == []  # the first unit with this code: nothing to check
    sub = db_session.get(Submission, body["submission_id"])
    assert sub.kind == SubmissionKind.unit_registration and sub.unit_id == body["id"]
    listed = emp.get("/api/v1/units").get_json()
    assert [u["id"] for u in listed] == [body["id"]]
    assert listed[0]["uscc"] == fields["uscc"] and listed[0]["special_trade"] == "hotel"
    assert listed[0]["unit_type"] == "enterprise" and listed[0]["record_status"] == "pending"


def test_unit_errors_come_from_the_service(emp, db_session, district):
    before = counts(db_session)
    bad = factories.unit_fields(
        district.addresses[0],
        uscc="91430300MA0000000X",
        unit_type="company",
        contact_phone="123",
        legal_rep_id_number="430302199001011230",
        special_trade="bakery",
    )
    body = problem(emp.post("/api/v1/units", json=bad), 422)
    assert {"uscc", "unit_type", "contact_phone", "legal_rep_id_number", "special_trade"} <= {
        e["field"] for e in body["errors"]
    }
    missing = problem(emp.post("/api/v1/units", json={"name": "x"}), 422)
    assert ("uscc", "required") in codes(missing) and ("contact_phone", "required") in codes(missing)
    assert counts(db_session) == before


def test_roles_are_scoped_as_in_the_web_session(emp, api, unit, house):
    """An employer's token reaches no landlord endpoint, and a landlord's no employer endpoint: 404."""
    problem(emp.get("/api/v1/houses"), 404)
    problem(emp.post(f"/api/v1/houses/{house.id}/move-ins", json={}), 404)
    problem(api.get("/api/v1/units"), 404)
    problem(upload(api, unit.id, "utf8.csv"), 404)
    assert emp.get("/api/v1/submissions").status_code == api.get("/api/v1/submissions").status_code == 200


def test_another_employers_unit_is_404(app, db_session, unit):
    other = factories.make_user(db_session, role="employer")
    client = ApiClient(app.test_client(), new_token(db_session, other))
    before = counts(db_session)
    problem(upload(client, unit.id, "utf8.csv"), 404)
    assert client.get("/api/v1/units").get_json() == []
    assert counts(db_session) == before


# --- staff lists ----------------------------------------------------------------------------------------


def test_dry_run_writes_nothing(emp, db_session, unit):
    before = counts(db_session)
    response = upload(emp, unit.id, "utf8.csv", query="?dry_run=true")
    assert response.status_code == 200
    assert response.get_json() == {
        "rows": 4,
        "valid": 4,
        "invalid": 0,
        "hires": 4,
        "departures": 0,
        "unchanged": 0,
        "departure_pending": 0,
        "renamed": 0,
        "departures_need_confirmation": False,
        "ignored_columns": ["备注"],
        "committed": False,
        "errors": [],
    }
    assert counts(db_session) == before


def test_commit_then_the_same_list_again_changes_nothing(emp, db_session, unit):
    before = counts(db_session)
    first = upload(emp, unit.id, "utf8.csv")
    assert first.status_code == 201
    assert first.get_json() == {
        "rows": 4,
        "valid": 4,
        "invalid": 0,
        "hires": 4,
        "departures": 0,
        "unchanged": 0,
        "departure_pending": 0,
        "renamed": 0,
        "departures_need_confirmation": False,
        "ignored_columns": ["备注"],
        "committed": True,
        "errors": [],
    }
    after = counts(db_session)
    assert (
        after["StaffImport"] == before["StaffImport"] + 1 and after["Employment"] == before["Employment"] + 4
    )
    # The same people in another encoding and file: recognised, nothing filed.
    again = upload(emp, unit.id, "staff.csv", fixture("utf8.csv").decode("utf-8").encode("gb18030"))
    assert again.status_code == 200
    body = again.get_json()
    assert body["committed"] is False and body["hires"] == 0 and body["departures"] == 0
    again_same = upload(emp, unit.id, "utf8.csv")
    assert again_same.status_code == 200 and again_same.get_json()["committed"] is False
    assert counts(db_session) == after


def test_row_errors_name_row_column_and_code(emp, db_session, unit):
    response = upload(emp, unit.id, "row_errors.csv", query="?dry_run=true")
    body = response.get_json()
    assert (body["rows"], body["valid"], body["invalid"], body["committed"]) == (13, 2, 11, False)
    found = {(e["row"], e["column"], e["code"]) for e in body["errors"]}
    assert {
        (2, "sex", "sex_mismatch"),
        (4, "phone", "phone"),
        (5, "id_number", "checksum"),
        (6, "id_number", "legacy_id"),
        (8, "name", "required"),
        (12, "position", "too_long"),
    } <= found
    assert all(set(e) == {"row", "column", "code", "message"} and e["message"] for e in body["errors"])
    committed = upload(emp, unit.id, "row_errors.csv")
    assert committed.status_code == 201
    result = committed.get_json()
    assert (
        result["committed"] is True and result["hires"] == 2 and len(result["errors"]) == len(body["errors"])
    )


def test_numeric_id_cells_and_duplicates(emp, unit):
    numeric = upload(emp, unit.id, "numeric_ids.csv", query="?dry_run=true").get_json()
    assert {(e["row"], e["code"]) for e in numeric["errors"]} == {
        (2, "numeric_id_cell"),
        (3, "numeric_id_cell"),
        (5, "numeric_id_cell"),
    }
    dup = upload(emp, unit.id, "duplicates.csv", query="?dry_run=true").get_json()
    assert {(e["row"], e["column"], e["code"]) for e in dup["errors"]} == {
        (5, "id_number", "duplicate_in_file"),
        (6, "id_number", "duplicate_in_file"),
    }


def test_full_list_reports_departures_only_when_asked(emp, db_session, unit):
    assert upload(emp, unit.id, "utf8.csv").status_code == 201
    one = factories.staff_csv([["张三", "男", "430302199001011239", "", "保安", "2024/3/5"]])
    partial = upload(emp, unit.id, "x.csv", one, query="?full_list=false&dry_run=true").get_json()
    assert (partial["departures"], partial["unchanged"]) == (0, 1)
    full = upload(emp, unit.id, "x.csv", one, query="?dry_run=true").get_json()
    assert (full["departures"], full["unchanged"]) == (3, 1)


@pytest.mark.parametrize(
    "name,code",
    [
        ("empty.csv", "empty_file"),
        ("not_a_workbook.xlsx", "unsupported_type"),
        ("macros.xlsx", "macros"),
        ("missing_id_column.csv", "missing_columns"),
        ("renamed_png.xlsx", "unsupported_type"),
    ],
)
def test_refused_files_are_422_at_the_file(emp, db_session, unit, name, code):
    before = counts(db_session)
    body = problem(upload(emp, unit.id, name), 422)
    assert codes(body) == {("file", code)}
    assert counts(db_session) == before


def test_upload_request_errors(emp, unit):
    assert codes(
        problem(
            emp.post(
                f"/api/v1/units/{unit.id}/staff-imports",
                data={"other": "x"},
                content_type="multipart/form-data",
            ),
            422,
        )
    ) == {("file", "required")}
    problem(emp.post(f"/api/v1/units/{unit.id}/staff-imports", json={"file": "x"}), 415)
    assert codes(problem(upload(emp, unit.id, "utf8.csv", query="?dry_run=yes"), 422)) == {
        ("dry_run", "invalid_choice")
    }


def test_too_large_upload_is_413(app, emp, unit):
    # A raw body: the test client would spool a multipart body this size into a file it never closes.
    data = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    problem(
        emp.post(
            f"/api/v1/units/{unit.id}/staff-imports",
            data=data,
            content_type="multipart/form-data; boundary=b",
        ),
        413,
    )


def test_an_upload_retried_with_its_key_is_imported_once(emp, db_session, unit):
    first = upload(emp, unit.id, "utf8.csv", key="upload-1")
    after = counts(db_session)
    again = upload(emp, unit.id, "utf8.csv", key="upload-1")  # another multipart boundary, same content
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert counts(db_session) == after
    other = problem(upload(emp, unit.id, "utf8_bom.csv", key="upload-1"), 422)
    assert other["type"] == "urn:portal:problem:idempotency_key_reused"


def test_ignored_columns_are_named_in_the_answer(emp, unit):
    sheet = factories.staff_csv([["张三", "430302199001011239", "红色", "A-1"]],
                                header=("姓名", "身份证号码", "工服颜色", "柜号"))
    answer = upload(emp, unit.id, "x.csv", sheet, query="?dry_run=true").get_json()
    assert answer["ignored_columns"] == ["工服颜色", "柜号"] and answer["valid"] == 1


def test_a_full_list_naming_someone_whose_departure_waits_says_so(emp, db_session, unit, employer):
    """The departure stands (a report stays until its reporter withdraws it); the person is neither
    'unchanged' nor hired again, and the answer and the web preview say so alike."""
    two = [factories.staff_row("张三", id_number="430302199001011239"), factories.staff_row("李四")]
    factories.make_staff_import(db_session, employer, unit.id, two)
    leaving = next(e for e in db_session.scalars(select(Employment).where(
        Employment.unit_id == unit.id)) if e.declared_name == "张三")
    factories.make_departure(db_session, employer, unit.id, leaving.id)
    answer = upload(emp, unit.id, "x.csv", factories.staff_csv(two), query="?dry_run=true").get_json()
    assert (answer["hires"], answer["unchanged"], answer["departure_pending"], answer["departures"]) == (0, 1, 1, 0)
    committed = upload(emp, unit.id, "x.csv", factories.staff_csv(two)).get_json()
    assert (committed["hires"], committed["departure_pending"]) == (0, 1)
    open_departures = db_session.scalar(select(func.count()).select_from(Submission).where(
        Submission.employment_id == leaving.id, Submission.kind == SubmissionKind.departure,
        Submission.is_open.is_(True)))
    assert open_departures == 1
