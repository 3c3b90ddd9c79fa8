"""Small helpers shared by the feature forms."""
from wtforms.fields.choices import SelectChoice


def options(pairs):
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
