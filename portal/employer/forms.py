"""Forms for the employer's pages: registering a unit, single hires and departures, staff-list uploads."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import InputRequired

from portal.forms import form_for
from portal.services import declarations

# The form checks only shape; services.units checks every value and reports every bad field at once.
UNIT_FIELDS = tuple(name for name, _about in declarations.fields(declarations.UnitRegistration)
                    if name != "address_code")  # the address is chosen on the page before
UnitForm = form_for(declarations.UnitRegistration, UNIT_FIELDS)
HireForm = form_for(declarations.Hire, form_key=HiddenField())  # a staff-list row's fields, one person


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
