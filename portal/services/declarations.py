"""What each kind of report says about a person or a unit, declared once (issue 17).

Each report is a pydantic model; each of its fields carries, beside its JSON type, an `About`: its label and
help text, how the web form asks for it, its normaliser and validator, whether it is personal data and of
which kind (for masking), whether the register's person keeps it, and its staff-list column. From this one
declaration come the web forms (portal/forms.py `form_for`), the service's check (`check`), the stored
payload (`payload`), the API's request bodies and OpenAPI document (portal/api/schemas.py), the staff-list
columns (services/staff_import.py) and the pages that show a report (templates/components/declaration.html
and the landlord's check page, through `shown`).

Adding an optional field to an occupant is a field below (and its strings in the catalogs): the form, the
check, the payload, the API, the check page and the officer's page follow.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from portal.models import IdType
from portal.services import values as v
from portal.services.errors import FieldError

MAX_OCCUPANTS_LIMIT = 200
MAX_PEOPLE_PER_REPORT = 20

# --- display names of the listed values ---------------------------------------------------------------

USE_NAMES = {
    "whole_rental": _l("Whole rental"),
    "shared_rental": _l("Shared rental (rooms let separately)"),
    "owner_occupied_rooms": _l("Owner lives here and lets rooms"),
    "vacant": _l("Vacant"),
    "business": _l("Business premises"),
}
ID_TYPE_NAMES = {
    "resident_id": _l("Resident ID card"),
    "passport": _l("Passport"),
    "hk_macau_permit": _l("Hong Kong/Macau travel permit"),
    "taiwan_permit": _l("Taiwan travel permit"),
    "foreign_permanent_id": _l("Foreign permanent residence ID"),
}
RELATION_NAMES = {
    "main_tenant": _l("Main tenant"),
    "spouse": _l("Spouse"),
    "child": _l("Child"),
    "parent": _l("Parent"),
    "relative": _l("Other relative"),
    "roommate": _l("Flatmate"),
    "other": _l("Other"),
}
RELATIONS = tuple(RELATION_NAMES)
UNIT_TYPE_NAMES = {
    "enterprise": _l("Enterprise"),
    "individual_business": _l("Individual business"),
    "public_institution": _l("Public institution"),
    "social_organisation": _l("Social organisation"),
}
SPECIAL_TRADE_NAMES = {
    "hotel": _l("Hotel or lodging"),
    "seal_engraving": _l("Seal engraving"),
    "locksmith": _l("Lock-smithing"),
    "scrap_metal": _l("Scrap-metal purchase"),
    "pawn": _l("Pawn shop"),
    "used_vehicles": _l("Second-hand vehicles"),
    "entertainment": _l("Entertainment venue"),
}
SEX_NAMES = {"M": _l("Male"), "F": _l("Female")}
# The kinds of Chinese visa (签证) and residence permit (居留许可) a passport holder stays on.
VISA_KIND_NAMES = {
    "visa_l": _l("Visa L (tourism)"),
    "visa_m": _l("Visa M (business)"),
    "visa_f": _l("Visa F (exchange, visits)"),
    "visa_z": _l("Visa Z (work)"),
    "visa_x": _l("Visa X (study)"),
    "visa_q": _l("Visa Q (family reunion)"),
    "visa_s": _l("Visa S (private affairs)"),
    "visa_r": _l("Visa R (talent)"),
    "visa_other": _l("Another visa (C, D, G, J)"),
    "residence_work": _l("Residence permit for work"),
    "residence_study": _l("Residence permit for study"),
    "residence_family": _l("Residence permit for family reunion"),
    "residence_private": _l("Residence permit for private affairs"),
    "visa_free": _l("Visa-free entry"),
}
# Documents whose number says nothing of its holder: nationality, sex and birth date are asked.
FOREIGN_DOCUMENTS = frozenset({"passport", "hk_macau_permit", "taiwan_permit", "foreign_permanent_id"})
PASSPORT = frozenset({"passport"})
DOC_PATTERNS = {
    IdType.passport: re.compile(r"[A-Z0-9]{5,20}", re.ASCII),
    IdType.hk_macau_permit: re.compile(r"[HM][0-9]{8,10}", re.ASCII),
    IdType.taiwan_permit: re.compile(r"[0-9]{8}([0-9]{2})?", re.ASCII),
    IdType.foreign_permanent_id: re.compile(r"[A-Z]{3}[0-9]{12}|9[0-9]{16}[0-9X]", re.ASCII),
}


# --- what a field is beyond its JSON type ----------------------------------------------------------------

@dataclass(frozen=True)
class About:
    """One declared field: how people are asked for it, how it is checked, shown and kept.

    `personal`: the kind of personal value ("id_number", "phone", "name", "address", or "other" for personal
    data with no masking rule), masked by identity.mask on pages that others see; `check`: values.Check;
    `input`: text, tel, id, select, radio or country; `names`: the listed values and their labels; `register`:
    the register's Person keeps it (a column of the same name); `group`: asked in a group of the form (the
    fields for a passport or permit); `shown`: how pages show it (text, choice, date)."""

    label: Any = None
    help: Any = None
    personal: str | None = None
    staff_column: str | None = None  # the staff list's column header (Chinese), its English label and other names
    staff_label: Any = None
    staff_aliases: tuple[str, ...] = ()
    check: v.Check | None = None
    input: str = "text"
    names: Mapping | None = None
    register: bool = False
    group: str | None = None
    missing: Any = None  # the web form's message when a required field is left empty
    blank: Any = None  # a select's empty choice, when it has one (None, Choose)


def text(description: str | None = None, **schema: Any) -> Any:
    """A JSON string, with its description and any further JSON Schema keywords for the document."""
    return Annotated[str, WithJsonSchema({"type": "string", **({"description": description} if description
                                                                 else {}), **schema})]


def choice(values: list[str] | tuple[str, ...] | Mapping, description: str | None = None) -> Any:
    """A string listed in the document as an enumeration; the service checks it, with its own message."""
    return text(description, enum=list(values))


Date = text("A calendar date, YYYY-MM-DD.", format="date", examples=["2026-03-05"])
NAME_MAX = 60  # identity.check_name, after NFKC and folding runs of spaces


class Declaration(BaseModel):
    """A report's body: JSON types exactly (no "2" for 2, no true for 1), and no member it does not declare."""

    model_config = ConfigDict(strict=True, extra="forbid")


# --- houses ----------------------------------------------------------------------------------------------

class HouseRegistration(Declaration):
    address_code: Annotated[text("The standard address code (on the door plate's QR code) of the room or building; "
                                 "see GET /addresses.", examples=["7Q2M4H9KXD"]),
                            About(_l("Standard address"))]
    use: Annotated[choice(USE_NAMES), About(_l("How is the house used?"), input="radio", names=USE_NAMES,
                                            missing=_l("Choose how the house is used."),
                                            check=v.one_of(USE_NAMES, _l("Choose how the house is used."),
                                                           required=True))]
    max_occupants: Annotated[int, WithJsonSchema({
        "type": "integer", "minimum": 0, "maximum": MAX_OCCUPANTS_LIMIT,
        "description": f"The most people who can live here, from 0 to {MAX_OCCUPANTS_LIMIT}."}),
        About(_l("How many people can live here at most?"), help=_l("Count everyone, children too."),
              missing=_l("Enter the largest number of people who can live here."),
              check=v.whole_number(0, MAX_OCCUPANTS_LIMIT, _l("Enter a whole number from 0 to %(max)d.",
                                                              max=MAX_OCCUPANTS_LIMIT)))]
    certificate_no: Annotated[text("Property certificate number, as printed.") | None,
                              About(_l("Property certificate number (optional)"),
                                    help=_l("As printed on the 不动产权证书 or 房产证."), check=v.certificate)] = None


# --- move-ins: the people and the dates ----------------------------------------------------------------

FOREIGN = "foreign"  # the group of fields asked for a passport or permit

class Occupant(Declaration):
    """One person moving in."""

    id_type: Annotated[choice(ID_TYPE_NAMES), About(
        _l("Identity document"), input="select", names=ID_TYPE_NAMES, check=v.document_type(ID_TYPE_NAMES))]
    id_number: Annotated[text("The document number; for resident_id the 18-character number (17 digits and a "
                              "digit or X; spaces are ignored)."), About(
        _l("Document number"), help=_l("For a resident ID card, the sex and date of birth are read from the "
                                       "number."),
        personal="id_number", input="id", check=v.document_number(DOC_PATTERNS),
        missing=_l("Enter the document number."))]
    name: Annotated[text(f"Full name, as on the document: letters, ·, spaces, apostrophes and hyphens, at most "
                         f"{NAME_MAX} characters."), About(
        _l("Full name, as on the document"), personal="name", register=True, check=v.person_name(),
        missing=_l("Enter the name."))]
    nationality: Annotated[choice(v.alpha3_codes(), "ISO 3166-1 alpha-3 code of the nationality. Required with "
                                  "a passport or permit; ignored with a resident ID card.") | None, About(
        _l("Nationality"), help=_l("Type the first letters of the country and choose it from the list."),
        input="country", register=True, group=FOREIGN,
        check=v.for_documents(FOREIGN_DOCUMENTS, v.country(_l("Choose the nationality."))))] = None
    sex: Annotated[choice(SEX_NAMES, "M or F. Required with a passport or permit; with a resident ID card it is "
                          "read from the number.") | None, About(
        _l("Sex"), input="select", names=SEX_NAMES, register=True, group=FOREIGN, blank=_l("Choose"),
        check=v.for_documents(FOREIGN_DOCUMENTS, v.one_of(SEX_NAMES, _l("Choose the sex."), required=True),
                              from_resident_id="sex"))] = None
    birth_date: Annotated[Date | None, About(
        _l("Date of birth"), help=_l("For example 1990-03-05"), input="date", register=True, group=FOREIGN,
        check=v.for_documents(FOREIGN_DOCUMENTS, v.day(missing=_l("Enter the date of birth."), past_only=True),
                              from_resident_id="birth_date"))] = None
    visa_kind: Annotated[choice(VISA_KIND_NAMES, "The visa or residence permit the passport holder stays on. "
                                "Required with a passport.") | None, About(
        _l("Visa or residence permit"), input="select", names=VISA_KIND_NAMES, register=True, group=FOREIGN,
        blank=_l("Choose"),
        help=_l("Only for a passport."),
        check=v.for_documents(PASSPORT, v.one_of(VISA_KIND_NAMES, _l("Choose the visa or residence permit."),
                                                 required=True)))] = None
    visa_expiry: Annotated[Date | None, About(
        _l("Visa or residence permit valid until"), help=_l("Only for a passport. For example 2027-03-05"),
        input="date", register=True, group=FOREIGN,
        check=v.for_documents(PASSPORT, v.day(missing=_l("Enter the date the visa or residence permit ends."),
                                              after="birth_date",
                                              after_message=_l("The visa cannot end before the date of "
                                                               "birth."))))] = None
    phone: Annotated[text("Mainland mobile number, 11 digits.") | None, About(
        _l("Mobile phone number (optional)"), personal="phone", input="tel", register=True,
        check=v.mobile())] = None
    relation: Annotated[choice(RELATIONS, "Relation to the main tenant.") | None, About(
        _l("Relation to the main tenant"), input="select", names=RELATION_NAMES,
        check=v.one_of(RELATION_NAMES, _l("Choose how this person is related to the main tenant.")))] = None
    occupation: Annotated[text("Free text, at most 60 characters.") | None, About(
        _l("Occupation (optional)"), check=v.text(60))] = None
    workplace: Annotated[text("Free text, at most 100 characters.") | None, About(
        _l("Workplace (optional)"), check=v.text(100))] = None


def _first_people(value: Any) -> Any:
    # More people than a report may hold is refused by the service (too_many); it need not check thousands.
    return value[: MAX_PEOPLE_PER_REPORT + 1] if isinstance(value, list) else value


class MoveIn(Declaration):
    move_in_date: Annotated[Date, About(_l("Date they moved in"), help=_l("For example 2026-03-05"), input="date",
                                        missing=_l("Enter the date they moved in."))]
    lease_end_date: Annotated[Date | None, About(_l("Date the lease ends (optional)"), input="date")] = None
    occupants: Annotated[list[Occupant], BeforeValidator(_first_people), Field(json_schema_extra={
        "minItems": 1, "maxItems": MAX_PEOPLE_PER_REPORT,
        "description": f"The people moving in: 1 to {MAX_PEOPLE_PER_REPORT} in one report."}),
        About(_l("People"))]


class MoveOut(Declaration):
    move_out_date: Annotated[Date, About(_l("Date they moved out"), help=_l("For example 2026-03-05"), input="date",
                                         missing=_l("Enter the date they moved out."))]


# --- units and their staff -----------------------------------------------------------------------------

class UnitRegistration(Declaration):
    uscc: Annotated[text("Unified social credit code (统一社会信用代码), 18 characters."), About(
        _l("Unified social credit code"),
        help=_l("18 characters, on the business licence, for example 91430300MA4L3K5P0E."), check=v.uscc)]
    name: Annotated[text(), About(_l("Name of the unit"), help=_l("As on the business licence."),
                                  check=v.text(100, missing=_l("Enter the name of the unit.")))]
    unit_type: Annotated[choice(UNIT_TYPE_NAMES), About(
        _l("Type of unit"), input="radio", names=UNIT_TYPE_NAMES,
        check=v.one_of(UNIT_TYPE_NAMES, _l("Choose the type of unit."), required=True))]
    industry: Annotated[text("Free text."), About(_l("Industry"), help=_l("For example catering, retail, logistics."),
                                                  check=v.text(60, missing=_l("Enter the industry.")))]
    special_trade: Annotated[choice(SPECIAL_TRADE_NAMES, "Set for trades under special police oversight.") | None,
                             About(
        _l("Special trade"), input="select", names=SPECIAL_TRADE_NAMES, blank=_l("None"),
        help=_l("Trades that the police license and inspect. Choose “None” if the unit is in none of them."),
        check=v.one_of(SPECIAL_TRADE_NAMES, _l("Choose a special trade from the list.")))] = None
    address_code: Annotated[text("The standard address code of the workplace."), About(
        _l("Address"), check=v.known_address)]
    legal_rep_name: Annotated[text(), About(
        _l("Legal representative: full name"), personal="name",
        check=v.person_name(_l("Enter the name of the legal representative.")))]
    legal_rep_id_number: Annotated[text(), About(
        _l("Legal representative: resident ID number"), personal="id_number",
        check=v.resident_id(_l("Enter the ID number of the legal representative.")))]
    contact_name: Annotated[text(), About(
        _l("Security contact: full name"), personal="name",
        help=_l("The person the police may call about the unit's staff."),
        check=v.person_name(_l("Enter the name of the security contact.")))]
    # README "Masking": a unit's security contact phone is a business contact, shown in full to officers.
    contact_phone: Annotated[text(), About(_l("Security contact: mobile phone number"), personal="contact_phone",
                                           check=v.mobile(required=True))]


class Hire(Declaration):
    """One worker: a single hire on the web, or one row of a staff list (its columns are these fields')."""

    name: Annotated[text(), About(
        _l("Full name, as on the ID card"), personal="name", register=True, staff_column="姓名",
        staff_label=_l("Full name"), staff_aliases=("姓名", "员工姓名", "name", "full name", "fullname",
                                                   "employee name"))]
    sex: Annotated[choice(SEX_NAMES) | None, About(
        _l("Sex"), names=SEX_NAMES, register=True, staff_column="性别", staff_label=_l("Sex"), input="select",
        blank=_l("Choose"), help=_l("Only for a passport or permit: for a resident ID card it is read from the "
                                    "number."),
        staff_aliases=("性别", "sex", "gender"))] = None
    id_number: Annotated[text(), About(
        _l("Document number"), personal="id_number", input="id",
        help=_l("The sex and date of birth are read from the number."), staff_column="身份证号码",
        staff_label=_l("ID number"), staff_aliases=(
            "身份证号码", "身份证号", "证件号码", "身份证", "公民身份号码", "id_number", "id number", "id no",
            "id no.", "resident id", "resident id number", "id card number", "document number"))]
    phone: Annotated[text() | None, About(
        _l("Mobile phone number (optional)"), personal="phone", input="tel", register=True,
        staff_column="手机号码", staff_label=_l("Mobile phone"), staff_aliases=(
            "手机号码", "手机", "电话", "手机号", "联系电话", "phone", "mobile", "mobile phone", "mobile number",
            "phone number"))] = None
    position: Annotated[text() | None, About(
        _l("Position (optional)"), staff_column="岗位", staff_label=_l("Position"),
        staff_aliases=("岗位", "职务", "职位", "position", "job", "job title", "post"))] = None
    hire_date: Annotated[Date | None, About(
        _l("Date they started"), help=_l("For example 2026-03-05"), input="date", staff_column="入职日期",
        staff_label=_l("Hire date"), staff_aliases=("入职日期", "入职时间", "hire_date", "hire date",
                                                   "date of hire", "start date"))] = None
    # A staff list's columns for people without a resident ID card (issue 18): optional, empty for the others.
    id_type: Annotated[choice(ID_TYPE_NAMES) | None, About(
        _l("Identity document"), names=ID_TYPE_NAMES, input="select", group=FOREIGN, staff_column="证件类型",
        staff_label=_l("Document type"),
        staff_aliases=("证件类型", "证件种类", "id_type", "id type", "document type", "document"))] = None
    nationality: Annotated[choice(v.alpha3_codes()) | None, About(
        _l("Nationality"), input="country", register=True, group=FOREIGN, staff_column="国籍",
        staff_label=_l("Nationality"),
        staff_aliases=("国籍", "nationality", "country"))] = None
    birth_date: Annotated[Date | None, About(
        _l("Date of birth"), input="date", register=True, group=FOREIGN, staff_column="出生日期",
        staff_label=_l("Date of birth"), staff_aliases=("出生日期", "birth_date", "birth date", "date of birth",
                                                        "dob"))] = None
    visa_kind: Annotated[choice(VISA_KIND_NAMES) | None, About(
        _l("Visa or residence permit"), names=VISA_KIND_NAMES, register=True, group=FOREIGN, input="select",
        blank=_l("Choose"), staff_column="签证种类",
        staff_label=_l("Visa or residence permit"), staff_aliases=(
            "签证种类", "签证类型", "居留许可种类", "visa_kind", "visa kind", "visa type", "visa"))] = None
    visa_expiry: Annotated[Date | None, About(
        _l("Visa or residence permit valid until"), input="date", register=True, group=FOREIGN,
        staff_column="签证有效期至",
        staff_label=_l("Visa valid until"), staff_aliases=(
            "签证有效期至", "签证有效期", "签证到期日", "居留许可有效期至", "visa_expiry", "visa expiry",
            "visa valid until"))] = None


# A staff list's document types as people write them (the codes, and the names in Chinese and English).
DOCUMENT_WORDS = {
    "resident_id": ("身份证", "居民身份证", "resident id", "resident id card", "id card"),
    "passport": ("护照", "passport"),
    "hk_macau_permit": ("港澳通行证", "港澳居民来往内地通行证", "回乡证", "hong kong/macau permit"),
    "taiwan_permit": ("台湾通行证", "台胞证", "台湾居民来往大陆通行证", "taiwan permit"),
    "foreign_permanent_id": ("外国人永久居留身份证", "永久居留证", "foreign permanent id"),
}


class Departure(Declaration):
    employment: Annotated[int, About(_l("Who left?"), input="radio")]
    departure_date: Annotated[Date, About(_l("Their last day"), help=_l("For example 2026-03-05"), input="date")]


DECLARATIONS = {"occupant": Occupant, "house_registration": HouseRegistration, "move_in": MoveIn, "move_out": MoveOut,
                "unit_registration": UnitRegistration, "hire": Hire, "departure": Departure}


# --- reading the declaration -----------------------------------------------------------------------------

def about(model: type[BaseModel], name: str) -> About:
    for item in model.model_fields[name].metadata:
        if isinstance(item, About):
            return item
    return About()


def fields(model: type[BaseModel], *, group: str | None = ...) -> list[tuple[str, About]]:
    """The declared fields in their order, with what is declared about each (of one group, if given)."""
    return [(n, a) for n, a in _declared(model) if group is ... or a.group == group]


@functools.cache
def _declared(model: type[BaseModel]) -> tuple[tuple[str, About], ...]:
    """A model's fields and what is declared about each, read once (a class's fields never change)."""
    return tuple((name, about(model, name)) for name in model.model_fields)


def required(model: type[BaseModel], name: str) -> bool:
    return model.model_fields[name].is_required()


def personal(model: type[BaseModel]) -> set[str]:
    return {name for name, a in fields(model) if a.personal}


def staff_columns(model: type[BaseModel] = Hire) -> tuple[str, ...]:
    return tuple(name for name, a in fields(model) if a.staff_column)


@dataclass
class Checked:
    """The values of a declaration as checked, by field name, and what a resident ID number said."""

    values: dict
    resident: Any = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def region_known(self) -> bool:
        return self.resident.region_known if self.resident is not None else True


def check(model: type[BaseModel], raw: Mapping, *, today: date, session=None, partial: bool = False
          ) -> tuple[Checked | None, list[FieldError]]:
    """Every declared field of `raw` through its check, in the declaration's order: the checked values, or
    None (with `partial`: the values that checked) and every error, each at its field. `session`: for checks
    that read the register."""
    ctx = v.Context(today=today, session=session)
    errors: list[FieldError] = []
    for name, a in fields(model):
        if a.check is None:
            continue
        try:
            ctx.values[name] = a.check(raw.get(name), ctx)
        except v.Skip:
            continue
        except FieldError as err:
            errors.append(err.at(name))
    if errors and not partial:
        return None, errors
    return Checked(ctx.values, ctx.resident), errors


def stored(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a StrEnum as its value
    return value


def payload(model: type[BaseModel], checked: Checked) -> dict:
    """What the submission keeps of a checked declaration: every checked field, by its name."""
    return {name: stored(checked.values.get(name)) for name, a in fields(model) if a.check is not None}


def register_values(model: type[BaseModel], declared: Mapping) -> dict:
    """The register person's details of a stored declaration (dates as dates); absent values are left out."""
    out = {}
    for name, a in fields(model):
        value = declared.get(name)
        if a.register and value not in (None, ""):
            out[name] = date.fromisoformat(value) if a.input == "date" and isinstance(value, str) else value
    return out


def shown(model: type[BaseModel], declared: Mapping, *, group: str | None = ...) -> list[tuple[str, About, Any]]:
    """The fields of a stored declaration that have a value, for a page: (name, about, value)."""
    return [(name, a, declared.get(name)) for name, a in fields(model, group=group)
            if declared.get(name) not in (None, "")]
