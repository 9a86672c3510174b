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


def form_for(model, names=None, *, base=FlaskForm, **extra):
    """A Flask-WTF form asking for the declared fields of `model` (services/declarations.py), in their order
    (or only `names`); `extra`: further fields (a hidden form key). The form checks only that a required
    field is there (its declared `missing` message); the service checks every value, with the same words."""
    from wtforms import RadioField, SelectField, StringField
    from wtforms.validators import InputRequired, Optional

    from portal.services import declarations

    attrs = {}
    for name, about in declarations.fields(model):
        if names is not None and name not in names:
            continue
        validators = [InputRequired(about.missing)] if about.missing else [Optional()]
        common = {"label": about.label, "description": about.help or "", "validators": validators}
        if about.input == "radio":
            attrs[name] = RadioField(choices=choices(about.names or {}), validate_choice=False, **common)
        elif about.input == "select":
            options = ([("", about.blank)] if about.blank is not None else []) + list((about.names or {}).items())
            attrs[name] = SelectField(choices=choices(options), validate_choice=False, **common)
        else:
            attrs[name] = StringField(**common)
    attrs.update(extra)
    return type(f"{model.__name__}Form", (base,), attrs)
