"""Identity numbers: checked, hashed with a key, shown only masked."""

from __future__ import annotations

import datetime as dt

import pytest

from kepu.registry import identity
from tests.registry.conftest import id_number

TODAY = dt.date(2026, 12, 1)


def test_a_valid_number_gives_birth_and_gender():
    parsed = identity.parse("11010519491231002X", today=TODAY)
    assert parsed.birth == dt.date(1949, 12, 31)
    assert parsed.gender == "female"  # 17th digit 2: even
    assert parsed.masked == "110***********002X"
    male = identity.parse(id_number(1), today=TODAY)
    assert male.gender == "male"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491231002", "18 位"),
        ("1101051949123100AX", "18 位"),
        ("110105194913310028", "出生日期"),
        ("", "18 位"),
    ],
)
def test_bad_numbers_are_refused_in_chinese(text, message):
    with pytest.raises(identity.IdNumberError) as exc:
        identity.parse(text, today=TODAY)
    assert message in str(exc.value)


def test_a_future_birth_date_is_refused():
    first17 = "53030220270101001"
    with pytest.raises(identity.IdNumberError, match="出生日期"):
        identity.parse(first17 + identity.check_digit(first17), today=TODAY)


def test_lower_case_x_and_spaces_are_normalised():
    assert identity.parse(" 110105 19491231002x", today=TODAY).number == "11010519491231002X"


def test_the_hash_depends_on_the_key_and_not_on_spelling():
    a = identity.id_hash("11010519491231002X", b"key-1")
    assert a == identity.id_hash("11010519491231002x ", b"key-1")
    assert a != identity.id_hash("11010519491231002X", b"key-2")
    assert "11010519491231002X" not in a and len(a) == 64


def test_names_and_phones_are_masked():
    assert identity.mask_name("张三") == "张*"
    assert identity.mask_name("欧阳明华") == "欧阳**"
    assert identity.mask_phone("13900001111") == "139****1111"


def test_the_prepared_hasher_equals_id_hash():
    from kepu.registry.identity import id_hash, id_hasher

    digest = id_hasher(b"k")
    for n in ("11010519491231002X", "11010519491231002x ", "530302199001010011"):
        assert digest(n) == id_hash(n, b"k")
