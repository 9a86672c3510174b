"""Forms of the address clerk's pages. The components are checked by the import's rules in the service."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired

from portal.forms import choices

KIND_NAMES = {"door_plate": _l("Door plate"), "building": _l("Building"), "unit": _l("Unit of a building"),
              "room": _l("Room")}


class ComponentsForm(FlaskForm):
    """The standard components of one address, in standard order."""

    division_code = StringField(_l("Division code (GB/T 2260)"), description=_l("6 digits, for example 430302"))
    division_name = StringField(_l("Division name"), description=_l("For example 湖南省湘潭市雨湖区"))
    township = StringField(_l("Township or street (街道)"))
    road = StringField(_l("Road or lane"))
    door_no = StringField(_l("Door number"), description=_l("For example 88号"))
    community = StringField(_l("Community or group"))
    building = StringField(_l("Building"), description=_l("For example 13栋"))
    unit = StringField(_l("Unit"), description=_l("For example 4单元"))
    room = StringField(_l("Room"), description=_l("For example 402"))

    def components(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in ("division_code", "division_name", "township", "road",
                                                          "door_no", "community", "building", "unit", "room")}


class NewAddressForm(ComponentsForm):
    kind = RadioField(_l("What are you adding?"), choices=choices(KIND_NAMES),
                      validators=[InputRequired(_l("Choose what you are adding."))])
    beat_id = SelectField(_l("Beat"), choices=[], validators=[InputRequired(_l("Choose a beat of your bureau."))])


class RetireForm(FlaskForm):
    replacement = StringField(_l("Code of the address that replaces it (optional)"),
                              description=_l("Reports are sent there instead. Leave it empty if none does."))


class MergeForm(FlaskForm):
    first = HiddenField(validators=[InputRequired()])
    second = HiddenField(validators=[InputRequired()])
    survivor = RadioField(_l("Which address stays?"), choices=[],
                          validators=[InputRequired(_l("Choose the address that stays."))])


class PairForm(FlaskForm):
    first = HiddenField(validators=[InputRequired()])
    second = HiddenField(validators=[InputRequired()])


class MergeWithForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only leads to the merge page

    code = StringField(_l("Code of the other address"), validators=[InputRequired(_l("Enter a code."))])


class FindForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    code = StringField(_l("Address code"), validators=[InputRequired(_l("Enter a code."))])


class ImportForm(FlaskForm):
    file = FileField(_l("Address file (CSV)"),
                     description=_l("The columns of “flask addresses import”: bureau_code, bureau_name, station_code, "
                                    "station_name, beat_code, beat_name, division_code, division_name, township, "
                                    "road, door_no, community, building, unit, room, and code if you have one."),
                     validators=[FileRequired(_l("Choose the address file."))])


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])


class PrintPlatesForm(FlaskForm):
    """The button that prints a building's door plates: a POST, so that the audited act carries the CSRF token."""


class BeatPlatesForm(FlaskForm):
    """Print the door plates of a whole beat of the clerk's bureau (choices: the bureau's beats)."""

    beat = SelectField(_l("Beat"), choices=[], validators=[InputRequired(_l("Choose a beat."))])
