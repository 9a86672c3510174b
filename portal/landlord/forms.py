"""Forms for the landlord's journeys: one question (or one person) per page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from portal.forms import choices
from portal.services.occupants import RELATIONS
from portal.templating import ID_TYPE_NAMES, RELATION_NAMES, USE_NAMES


class HouseUseForm(FlaskForm):
    use = RadioField(_l("How is the house used?"), choices=choices(list(USE_NAMES.items())),
                     validators=[InputRequired(_l("Choose how the house is used."))])


class HouseCapacityForm(FlaskForm):
    max_occupants = StringField(_l("How many people can live here at most?"),
                                description=_l("Count everyone, children too."),
                                validators=[InputRequired(_l("Enter the largest number of people who can live "
                                                             "here."))])
    certificate_no = StringField(_l("Property certificate number (optional)"),
                                 description=_l("As printed on the 不动产权证书 or 房产证."), validators=[Optional()])


class PersonForm(FlaskForm):
    id_type = SelectField(_l("Identity document"), choices=choices(ID_TYPE_NAMES), default="resident_id")
    id_number = StringField(_l("Document number"),
                            description=_l("For a resident ID card, the sex and date of birth are read from the "
                                           "number."),
                            validators=[InputRequired(_l("Enter the document number."))])
    name = StringField(_l("Full name, as on the document"), validators=[InputRequired(_l("Enter the name."))])
    phone = StringField(_l("Mobile phone number (optional)"), validators=[Optional()])
    relation = SelectField(_l("Relation to the main tenant"),
                           choices=choices([(r, RELATION_NAMES[r]) for r in RELATIONS]), default="main_tenant")
    occupation = StringField(_l("Occupation (optional)"), validators=[Optional()])
    workplace = StringField(_l("Workplace (optional)"), validators=[Optional()])


class AnotherForm(FlaskForm):
    another = RadioField(_l("Does anyone else move in with them?"),
                         choices=choices([("yes", _l("Yes")), ("no", _l("No"))]),
                         validators=[InputRequired(_l("Choose yes or no."))])


class MoveInDatesForm(FlaskForm):
    move_in_date = StringField(_l("Date they moved in"), description=_l("For example 2026-03-05"),
                               validators=[InputRequired(_l("Enter the date they moved in."))])
    lease_end_date = StringField(_l("Date the lease ends (optional)"), validators=[Optional()])


class MoveOutForm(FlaskForm):
    move_out_date = StringField(_l("Date they moved out"), description=_l("For example 2026-03-05"),
                                validators=[InputRequired(_l("Enter the date they moved out."))])
    form_key = HiddenField()


class SubmitForm(FlaskForm):
    """The final 'send' button; carries the one-time key that makes a double submit harmless."""

    form_key = HiddenField(validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A bare button (withdraw) that needs only the CSRF token."""
