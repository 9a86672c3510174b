"""Forms anyone may fill in: the person's own view of who read their record."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from portal.forms import choices
from portal.services.declarations import ID_TYPE_NAMES


class AccessRequestForm(FlaskForm):
    id_type = SelectField(_l("Type of document"), choices=choices(ID_TYPE_NAMES), default="resident_id",
                          validators=[InputRequired(_l("Choose the type of document."))])
    id_number = StringField(_l("Document number"), validators=[
        InputRequired(_l("Enter the document number.")), Length(max=40, message=_l("That is too long."))],
        description=_l("As on the document: for a resident ID card, the 18 characters."))
    phone = StringField(_l("Mobile phone number"), validators=[
        InputRequired(_l("Enter the mobile phone number the police have for you.")),
        Length(max=20, message=_l("That is too long."))],
        description=_l("The one you gave the landlord or employer who reported you. 11 digits."))


class AccessCodeForm(FlaskForm):
    code = StringField(_l("Code from the text message"), validators=[
        InputRequired(_l("Enter the code from the text message.")), Length(max=20, message=_l("That is too long."))],
        description=_l("6 digits."))
