import pytest

from dragonnet.domain.identifiers import ISO6346_VALUES, iso6346_check_digit


def test_iso6346_standard_example_and_letter_values() -> None:
    assert iso6346_check_digit("CSQU305438") == 3  # the standard's own example: CSQU 305438 3
    assert iso6346_check_digit("csqu305438") == 3
    assert ISO6346_VALUES["A"] == 10 and ISO6346_VALUES["K"] == 21 and ISO6346_VALUES["Z"] == 38
    assert 11 not in ISO6346_VALUES.values() and 22 not in ISO6346_VALUES.values()


def test_iso6346_rejects_other_characters() -> None:
    with pytest.raises(ValueError, match="ISO 6346"):
        iso6346_check_digit("CSQU30543-")
