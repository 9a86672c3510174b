"""Forms for signing up, signing in and managing one's password."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length


class LoginForm(FlaskForm):
    phone = StringField(_l("Mobile phone number"), validators=[DataRequired(_l("Enter your mobile phone number."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password."))])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(_l("6-digit code from your authenticator app"),
                       validators=[DataRequired(_l("Enter the 6-digit code from your authenticator app."))])


class SignUpForm(FlaskForm):
    name = StringField(_l("Full name, as on your ID card"), validators=[DataRequired(_l("Enter your full name."))])
    phone = StringField(_l("Mobile phone number"), validators=[DataRequired(_l("Enter your mobile phone number."))])
    id_number = StringField(_l("Resident ID number"), validators=[DataRequired(_l("Enter your resident ID number."))])
    password = PasswordField(_l("Create a password"),
                             description=_l("At least 12 characters. A few unrelated words make a strong password "
                                            "that is easy to remember."),
                             validators=[InputRequired(_l("Create a password."))])
    confirm_password = PasswordField(_l("Type the password again"), validators=[
        InputRequired(_l("Type the password again.")),
        EqualTo("password", _l("The two passwords are not the same."))])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[InputRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), description=_l("At least 12 characters."),
                                 validators=[InputRequired(_l("Create a new password.")), Length(max=1000)])
    confirm_password = PasswordField(_l("Type the new password again"), validators=[
        InputRequired(_l("Type the new password again.")),
        EqualTo("new_password", _l("The two passwords are not the same."))])
