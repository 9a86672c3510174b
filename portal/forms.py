"""Forms used by more than one blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length


class AddressSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(_l("Address"), description=_l("For example 银海花园 13栋 4单元 402, or 韶山中路 88号"),
                    validators=[Length(max=100, message=_l("Use at most 100 characters."))])


def choices(pairs) -> list[SelectChoice]:
    """Options for a SelectField or RadioField from (value, label) pairs or a value -> label mapping."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]
