"""Forms for the employer's pages: registering a unit, single hires and departures, staff-list uploads."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired

from portal.forms import choices
from portal.services.units import SPECIAL_TRADE_NAMES, UNIT_TYPE_NAMES

# The form checks only shape; services.units checks every value and reports every bad field at once.
UNIT_FIELDS = ("name", "uscc", "unit_type", "industry", "special_trade", "legal_rep_name",
               "legal_rep_id_number", "contact_name", "contact_phone")


class UnitForm(FlaskForm):
    name = StringField(_l("Name of the unit"), description=_l("As on the business licence."))
    uscc = StringField(_l("Unified social credit code"),
                       description=_l("18 characters, on the business licence, for example "
                                      "91430300MA4L3K5P0E."))
    unit_type = RadioField(_l("Type of unit"), choices=choices(UNIT_TYPE_NAMES), validate_choice=False)
    industry = StringField(_l("Industry"), description=_l("For example catering, retail, logistics."))
    special_trade = SelectField(_l("Special trade"),
                                description=_l("Trades that the police license and inspect. Choose “None” if "
                                               "the unit is in none of them."),
                                choices=choices([("", _l("None")), *SPECIAL_TRADE_NAMES.items()]), default="",
                                validate_choice=False)
    legal_rep_name = StringField(_l("Legal representative: full name"))
    legal_rep_id_number = StringField(_l("Legal representative: resident ID number"))
    contact_name = StringField(_l("Security contact: full name"),
                               description=_l("The person the police may call about the unit's staff."))
    contact_phone = StringField(_l("Security contact: mobile phone number"))


class HireForm(FlaskForm):
    name = StringField(_l("Full name, as on the ID card"))
    id_number = StringField(_l("Resident ID number"),
                            description=_l("The sex and date of birth are read from the number."))
    phone = StringField(_l("Mobile phone number (optional)"))
    position = StringField(_l("Position (optional)"))
    hire_date = StringField(_l("Date they started"), description=_l("For example 2026-03-05"))
    form_key = HiddenField()


class DepartureForm(FlaskForm):
    employment = RadioField(_l("Who left?"), choices=[], validate_choice=False)
    departure_date = StringField(_l("Their last day"), description=_l("For example 2026-03-05"))
    form_key = HiddenField()


class UploadForm(FlaskForm):
    file = FileField(_l("Staff list (Excel .xlsx or CSV)"),
                     description=_l("The first row names the columns: 姓名, 性别, 身份证号码, 手机号码, "
                                    "岗位, 入职日期 (or name, sex, id_number, phone, position, hire_date)."),
                     validators=[FileRequired(_l("Choose the file with your staff list."))])
    full_list = BooleanField(_l("This file is the full staff list"),
                             description=_l("Anyone on your staff list who is not in the file is reported as "
                                            "having left. Untick this to report only the hires in the file."),
                             default=True)


class SubmitForm(FlaskForm):
    """The final 'send' button; carries the one-time key that makes a double submit harmless."""

    form_key = HiddenField(validators=[InputRequired()])


class CommitForm(SubmitForm):
    """Sending a staff list: when it reports many people as having left, the employer ticks that they have."""

    confirm_departures = BooleanField(_l("Yes, the people named in the warning have left: report their departure"))


class ActionForm(FlaskForm):
    """A bare button (discard, withdraw) that needs only the CSRF token."""
