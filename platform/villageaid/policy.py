"""Who may act where: curator scopes over the division tree.

A curator's scope is a 12-digit division code (or national); an object lies in the scope when
its own division code starts with the scope's prefix (2 digits for a province, 4 for a
prefecture, 6 for a county).
"""


def scope_prefix(code):
    """The leading digits that identify the division `code` (12 digits, padded)."""
    if not code:
        return ""
    code = code.ljust(12, "0")
    for length in (2, 4, 6, 9):
        if code[length:] == "0" * (12 - length):
            return code[:length]
    return code


def in_scope(scope_code, region_code):
    return bool(region_code) and region_code.startswith(scope_prefix(scope_code))


def curates(user, region_code):
    """Whether `user` is an admin, a national curator, or a curator whose region holds `region_code`."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    return any(scope == "" or in_scope(scope, region_code) for scope in user.curator_scopes)


def scope_filters(user, column):
    """SQL conditions limiting `column` (a 12-digit code column) to the user's scopes, or None for all."""
    from sqlalchemy import false, or_

    if user.is_admin or "" in user.curator_scopes:
        return None
    prefixes = [scope_prefix(s) for s in user.curator_scopes]
    if not prefixes:
        return false()
    return or_(*[column.startswith(p) for p in prefixes])
