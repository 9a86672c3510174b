"""The auditor's filters of the audit log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.forms import choices
from portal.services.admin import ACTIONS, OUTCOMES


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    phone = StringField(_l("Actor's phone"), validators=[Optional(), Length(max=20)])
    action = SelectField(_l("Action"), choices=choices([("", _l("Any action")), *ACTIONS.items()]), default="",
                         validators=[Optional()])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=40)])
    outcome = SelectField(_l("Outcome"), choices=choices([("", _l("Any outcome")), *OUTCOMES.items()]), default="",
                          validators=[Optional()])
    start = DateField(_l("From (UTC date)"), validators=[Optional()])
    end = DateField(_l("To (UTC date)"), validators=[Optional()])
