"""Forms for the landlord's journeys: one question (or one person) per page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import InputRequired

from portal.forms import choices, form_for
from portal.services import declarations

HouseUseForm = form_for(declarations.HouseRegistration, ("use",))
HouseCapacityForm = form_for(declarations.HouseRegistration, ("max_occupants", "certificate_no"))
# One person of a move-in: every field of the occupant's declaration.
PersonForm = form_for(declarations.Occupant)


class AnotherForm(FlaskForm):
    another = RadioField(_l("Does anyone else move in with them?"),
                         choices=choices([("yes", _l("Yes")), ("no", _l("No"))]),
                         validators=[InputRequired(_l("Choose yes or no."))])


MoveInDatesForm = form_for(declarations.MoveIn, ("move_in_date", "lease_end_date"))
MoveOutForm = form_for(declarations.MoveOut, form_key=HiddenField())


class SubmitForm(FlaskForm):
    """The final 'send' button; carries the one-time key that makes a double submit harmless."""

    form_key = HiddenField(validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A bare button (withdraw) that needs only the CSRF token."""
