"""Small helpers shared by the feature forms."""
from wtforms.fields.choices import SelectChoice


def options(pairs):
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def report_service_error(form, error):
    """Show a service's refusal on the form: each field's message by the field, the summary flashed."""
    from flask import flash

    from .extensions import db

    db.session.rollback()
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors.append(message)
    flash(str(error), "danger")
