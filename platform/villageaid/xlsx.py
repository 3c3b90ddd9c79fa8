"""Writing user text into XLSX safely: a string that Excel would read as a formula stays a string."""
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@")


def text_cell(sheet, value):
    """A write-only cell holding `value`; text is typed as a string (openpyxl stores "=…" as a formula)."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
    return cell


def text_row(sheet, values):
    """A row for `sheet.append`: strings as text cells, other values as they are."""
    return [text_cell(sheet, v) if isinstance(v, str) else v for v in values]
