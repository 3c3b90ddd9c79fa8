"""Curator decision form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, Length


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(["verified", "rejected"])])
    reason = TextAreaField(_l("理由（驳回时必填）"), validators=[Length(max=1000)])
