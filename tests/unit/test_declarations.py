"""The one declaration of each report (services/declarations.py) drives the forms, the check, the payload,
the API schema and the pages; a field added to it in a scratch copy of the code appears in all of them."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from portal.services import declarations, identity
from portal.services import values as v

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 6, 1)


def check(raw):
    return declarations.check(declarations.Occupant, raw, today=TODAY)


def errors(raw) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in check(raw)[1]}


PASSPORT = {"id_type": "passport", "id_number": "e1234 5678", "name": "Anna Smith", "nationality": "英国",
            "sex": "F", "birth_date": "1985-06-01", "visa_kind": "residence_work", "visa_expiry": "2030-01-01"}


def test_a_passport_holder_needs_nationality_sex_birth_date_and_visa():
    person, problems = check(PASSPORT)
    assert problems == []
    assert declarations.payload(declarations.Occupant, person) == {
        "id_type": "passport", "id_number": "E12345678", "name": "Anna Smith", "nationality": "GBR", "sex": "F",
        "birth_date": "1985-06-01", "visa_kind": "residence_work", "visa_expiry": "2030-01-01", "phone": None,
        "relation": None, "occupation": None, "workplace": None}
    assert errors({"id_type": "passport", "id_number": "E12345678", "name": "Anna Smith"}) == {
        ("nationality", "required"), ("sex", "invalid_choice"), ("birth_date", "required"),
        ("visa_kind", "invalid_choice"), ("visa_expiry", "required")}


def test_permits_ask_nationality_sex_and_birth_but_no_visa():
    person, problems = check({"id_type": "hk_macau_permit", "id_number": "H12345678", "name": "陈大文",
                              "nationality": "CHN", "sex": "M", "birth_date": "1990-01-01",
                              "visa_kind": "visa_l", "visa_expiry": "1800-01-01"})
    assert problems == [] and (person.visa_kind, person.visa_expiry) == (None, None)  # not asked, not kept


def test_bad_foreign_details_get_a_message_at_their_field():
    assert errors({**PASSPORT, "nationality": "XYZ"}) == {("nationality", "invalid_country")}
    assert errors({**PASSPORT, "nationality": "Atlantis"}) == {("nationality", "invalid_country")}
    assert errors({**PASSPORT, "birth_date": "2027-01-01"}) == {("birth_date", "future_date")}
    assert errors({**PASSPORT, "visa_expiry": "1980-01-01"}) == {("visa_expiry", "before_birth")}
    assert errors({**PASSPORT, "visa_expiry": "soon", "sex": "X"}) == {("visa_expiry", "invalid_date"),
                                                                       ("sex", "invalid_choice")}
    for message in (e.message for e in check({**PASSPORT, "nationality": "XYZ"})[1]):
        assert str(message)  # a translatable message, never a code alone


def test_a_resident_id_number_says_sex_and_birth_whatever_was_typed():
    from tests import factories

    number = factories.resident_id("19950312")
    person, problems = check({"id_type": "resident_id", "id_number": number, "name": "张三", "sex": "F",
                              "birth_date": "2000-01-01", "nationality": "USA"})
    assert problems == []
    assert (person.birth_date, person.nationality) == (date(1995, 3, 12), None)
    assert person.sex == ("M" if int(number[16]) % 2 else "F")


def test_nationality_is_iso_alpha3_with_names_in_both_languages():
    assert len(v.alpha3_codes()) >= 249 and "TWN" in v.alpha3_codes() and "HKG" in v.alpha3_codes()
    assert v.country_names("zh_Hans_CN")["USA"] == "美国"
    assert v.country_names("en")["DEU"] == "Germany"
    enum = declarations.Occupant.model_json_schema()["properties"]["nationality"]["anyOf"][0]["enum"]
    assert set(enum) == set(v.alpha3_codes())


def test_one_masking_rule_per_kind_of_value():
    assert identity.masked("430302199001011234", "id_number", "officer") == "430302********1234"
    assert identity.masked("13812345678", "phone", "officer") == "138****5678"
    assert identity.masked("13812345678", "contact_phone", "officer") == "13812345678"  # a business contact
    assert identity.masked("13812345678", "contact_phone", "reporter") == "138****5678"
    assert identity.masked("张三丰", "name", "list") == "张**"
    assert identity.masked("张三丰", "name", "officer") == "张三丰"
    assert identity.masked("湖南省湘潭市雨湖区云塘街道韶山中路88号", "address", "list") == "湖南省湘潭市雨湖区****"
    assert declarations.personal(declarations.Occupant) == {"id_number", "name", "phone"}


def test_the_staff_list_columns_are_the_hire_declarations():
    from portal.services import staff_import

    assert staff_import.COLUMNS == ("name", "sex", "id_number", "phone", "position", "hire_date", "id_type",
                                    "nationality", "birth_date", "visa_kind", "visa_expiry")
    assert [declarations.about(declarations.Hire, c).staff_column for c in staff_import.COLUMNS] == [
        "姓名", "性别", "身份证号码", "手机号码", "岗位", "入职日期", "证件类型", "国籍", "出生日期", "签证种类",
        "签证有效期至"]


def test_bench_generate_uses_the_applications_flag_rules_and_declaration():
    source = (ROOT / "bench" / "generate.py").read_text(encoding="utf-8")
    assert "flags.move_in_rules(" in source and "declarations.payload(declarations.Occupant" in source
    for code in ("minor_alone", "over_capacity", "other_tenancy", "unknown_region"):
        assert f'"{code}"' not in source  # no copy of a rule


SCRATCH_FIELD = '''    emergency_phone: Annotated[text("A mobile number to call in an emergency.") | None, About(
        _l("Emergency contact phone (optional)"), personal="phone", input="tel", check=v.mobile())] = None
'''

PROBE = r'''
import json, sys
from portal import create_app
from portal.services import declarations
app = create_app({"TESTING": True, "SECRET_KEY": "scratch", "SERVER_NAME": "localhost",
                  "DATABASE_URL": "sqlite:///" + sys.argv[1], "WTF_CSRF_ENABLED": False})
from portal.api import openapi, schemas
from portal.landlord.forms import PersonForm
from flask import render_template, render_template_string
from types import SimpleNamespace
out = {}
with app.test_request_context("/"):
    out["form"] = [f.name for f in PersonForm()]
    out["api"] = sorted(schemas.Occupant.model_fields)
    doc = openapi.document(app) if hasattr(openapi, "document") else None
    person, errors = declarations.check(declarations.Occupant, {"id_type": "passport", "id_number": "E1234567",
        "name": "Anna", "nationality": "GBR", "sex": "F", "birth_date": "1985-01-01", "visa_kind": "visa_z",
        "visa_expiry": "2030-01-01", "emergency_phone": "13912345678"}, today=__import__("datetime").date.today())
    out["payload"] = declarations.payload(declarations.Occupant, person)
    bad = declarations.check(declarations.Occupant, {"id_type": "resident_id", "id_number": "x", "name": "A",
                             "emergency_phone": "12"}, today=__import__("datetime").date.today())[1]
    out["bad"] = sorted(e.field for e in bad)
    page = render_template_string('{% from "components/declared.html" import values %}'
                                  '{{ values(declared.occupant, p, "declarer") }}|'
                                  '{{ values(declared.occupant, p, "officer") }}', p=out["payload"])
    out["page"] = page
print(json.dumps(out, ensure_ascii=False))
'''


def test_a_field_added_to_the_occupant_declaration_reaches_form_check_payload_api_and_pages(tmp_path):
    """The field is added to one file (declarations.py) of a scratch copy; nothing else is edited."""
    for part in ("portal", "templates", "translations"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "portal" / "services" / "declarations.py"
    source = target.read_text(encoding="utf-8")
    anchor = "    relation: Annotated[choice(RELATIONS"
    assert anchor in source
    target.write_text(source.replace(anchor, SCRATCH_FIELD + anchor, 1), encoding="utf-8")
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PORTAL_ENV": "development"}
    done = subprocess.run([sys.executable, "probe.py", str(tmp_path / "x.sqlite3")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "emergency_phone" in out["form"] and "emergency_phone" in out["api"]
    assert out["payload"]["emergency_phone"] == "13912345678"
    assert "emergency_phone" in out["bad"]
    declarer, officer = out["page"].split("|")
    assert "13912345678" in declarer and "139****5678" in officer and "13912345678" not in officer
