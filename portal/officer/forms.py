"""Forms for the officer's queue and decisions."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp

from portal.forms import choices
from portal.services.review import KIND_LABELS, REJECT_REASONS

KIND_CHOICES = [("", _l("All kinds")), *KIND_LABELS.items()]


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    # No Optional(): on a value of blanks it would stop the check of the choices (" " is no kind, no beat).
    kind = SelectField(_l("Kind"), choices=choices(KIND_CHOICES), default="")
    beat = SelectField(_l("Beat"), choices=[], default="")
    flagged = BooleanField(_l("Flagged only"))
    late = BooleanField(_l("Late only"))


class DecisionForm(FlaskForm):
    action = RadioField(_l("Decision"), choices=choices([
                            ("confirmed", _l("Confirm")), ("rejected", _l("Reject")),
                                                 ("site_visit", _l("Ask for a site visit"))]),
                        validators=[InputRequired(_l("Choose a decision."))])
    reason_code = SelectField(_l("Reason for rejecting"),
                              choices=choices([("", _l("Choose a reason")), *REJECT_REASONS.items()]),
                              default="", validators=[Optional()])
    reason_text = TextAreaField(_l("Details for the reporter (optional, required for “Other reason”)"),
                                validators=[Length(max=500, message=_l("Use at most 500 characters."))])
    version = HiddenField(validators=[InputRequired(), Regexp(r"\A[0-9]{1,9}\Z")])  # the page's own


class RevealForm(FlaskForm):
    person = IntegerField(validators=[InputRequired()])
    confirm = HiddenField(validators=[AnyOf(["1"])], default="1")


class ConfirmSelectedForm(FlaskForm):
    """The queue's "confirm selected" button: the ticked items come as `item` values ("id:version")."""


class ConfirmCleanForm(FlaskForm):
    """The one button that confirms an upload's clean rows; needs only the CSRF token."""


class QualityPeriodForm(FlaskForm):
    """The period of the quality page: local dates; services/quality.parse_period checks them."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    start = StringField(_l("From"), name="from", description=_l("For example 2026-01-01"),
                        validators=[Optional()])
    end = StringField(_l("To"), name="to", validators=[Optional()])


class RegisterSearchForm(FlaskForm):
    """The officer's search: one box; services/register_search decides what was typed."""

    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("ID number, name, phone, address or receipt number"),
                    description=_l("For example 430302199001011234, 张三, 13812345678, 银海花园 13栋 or a receipt"),
                    validators=[Optional()])


class FullRecordForm(FlaskForm):
    """Asking for a person's full record: the reason is audited with it."""

    reason = RadioField(_l("Why do you need the full record?"), choices=[],
                        validators=[InputRequired(_l("Choose why you need the full record."))])
    investigation = BooleanField(_l("Part of an investigation: ask an auditor to keep this from the person's own "
                                    "view for now"))


class ExportForm(FlaskForm):
    """Download the list an officer was looking at; the full export (numbers unmasked) needs a reason."""

    format = RadioField(_l("Format"), choices=choices([("xlsx", _l("Excel workbook (XLSX)")), ("csv", _l("CSV"))]),
                        default="xlsx", validators=[InputRequired(_l("Choose XLSX or CSV."))])
    full = BooleanField(_l("Full export: names, ID numbers and phones not masked"))
    reason = RadioField(_l("Why do you need the full export?"), choices=[], validators=[Optional()])
    investigation = BooleanField(_l("Part of an investigation: ask an auditor to keep this from the own view of "
                                    "the people in it for now"))
