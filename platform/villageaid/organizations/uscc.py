"""统一社会信用代码 (GB 32100-2015): 18 characters ending in a mod-31 check character."""

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # I, O, S, V and Z are never used
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, …


def check_character(first17):
    """The check character for the first 17 characters of a code."""
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def normalize(code):
    return (code or "").strip().upper()


def is_valid(code):
    """Whether `code` is a well-formed credit code with the right check character."""
    code = normalize(code)
    if len(code) != 18 or any(ch not in CHARSET for ch in code):
        return False
    if not code[2:8].isdigit():  # the registering authority's division code
        return False
    return check_character(code[:17]) == code[17]
