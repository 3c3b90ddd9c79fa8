"""统一社会信用代码 (GB 32100-2015): the check character, the alphabet, normalisation."""
import pytest

from villageaid.organizations.uscc import check_character, is_valid, normalize

# Real codes of real organisations (published on their licences and in the national register).
REAL_CODES = [
    "91350100M000100Y43",
    "9144030071526726XG",
    "914403001922038216",
    "91330100799655058B",
    "91110000802100433B",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert is_valid(code)
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_other_check_character_is_refused(code):
    from villageaid.organizations.uscc import CHARSET

    wrong = [ch for ch in CHARSET if ch != code[17]]
    assert len(wrong) == 30
    assert not any(is_valid(code[:17] + ch) for ch in wrong)


@pytest.mark.parametrize("code", ["9144030071526726X", "9144030071526726XGG", "", "91"])
def test_wrong_length_is_refused(code):
    assert not is_valid(code)


def test_none_is_refused():
    assert not is_valid(None)


@pytest.mark.parametrize("letter", "IOSVZ")
def test_forbidden_letters_are_refused(letter):
    # A letter GB 32100 never uses, in a body position; whatever the check character, it is refused.
    body = "91350100" + letter + "00010" + "0Y4"
    assert len(body) == 17
    assert not any(is_valid(body + ch) for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY")
    assert not is_valid("9144030071526726X" + letter)


def test_a_swapped_pair_of_characters_is_caught():
    code = "91330100799655058B"
    swapped = code[:10] + code[11] + code[10] + code[12:]
    assert swapped != code and not is_valid(swapped)


def test_lowercase_and_spaces_are_normalised():
    assert normalize(" 9144030071526726xg ") == "9144030071526726XG"
    assert is_valid("9144030071526726xg")
    assert is_valid("  91350100m000100y43\n")


def test_registration_authority_division_must_be_digits():
    body = "91ABCDEF" + "799655058"
    assert not is_valid(body + check_character(body))
