"""The auditor's filters of the audit log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.forms import choices
from portal.services.admin import ACTIONS, OUTCOMES


class DayField(DateField):
    """A UTC day as the date input sends it; anything else is told at the field in the reader's language."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as YYYY-MM-DD, for example 2026-01-31.")) from None


TOO_LONG = _l("That is too long.")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    phone = StringField(_l("Actor's phone"), validators=[Optional(), Length(max=20, message=TOO_LONG)])
    action = SelectField(_l("Action"), choices=choices([("", _l("Any action")), *ACTIONS.items()]), default="",
                         validators=[Optional()])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=40, message=TOO_LONG)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=40, message=TOO_LONG)])
    outcome = SelectField(_l("Outcome"), choices=choices([("", _l("Any outcome")), *OUTCOMES.items()]), default="",
                          validators=[Optional()])
    start = DayField(_l("From (UTC date)"), validators=[Optional()])
    end = DayField(_l("To (UTC date)"), validators=[Optional()])


class JurisdictionForm(FlaskForm):
    """A new bureau, station or beat: the service checks the code and the name (services/jurisdiction.py)."""

    code = StringField(_l("Code"), description=_l("For example 430302510000: letters, digits, - or _. It never "
                                                  "changes."), validators=[Length(max=100)])
    name = StringField(_l("Name"), validators=[Length(max=300)])


class RenameForm(FlaskForm):
    name = StringField(_l("New name"), validators=[Length(max=300)])


class MoveForm(FlaskForm):
    to_beat = SelectField(_l("Move it to the beat"), choices=[], validate_choice=False)


class MoveBeatForm(FlaskForm):
    to_station = SelectField(_l("Move the beat to the police station"), choices=[], validate_choice=False)


class AccountForm(FlaskForm):
    """A new staff account; the choices of role and place are the service's (services/staff_accounts.py)."""

    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    name = StringField(_l("Full name"), validators=[Length(max=300)])
    phone = StringField(_l("Mobile phone number"), description=_l("They sign in with it."),
                        validators=[Length(max=100)])
    where = SelectField(_l("Station or beat"), choices=[], validate_choice=False,
                        description=_l("Officers and address clerks work in one; an administrator of one station "
                                       "manages the accounts and jurisdictions of its bureau only."))


class EditAccountForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    where = SelectField(_l("Station or beat"), choices=[], validate_choice=False)
