from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from sympy import Rational

from exactinterp.core.numbers import QQ, bits, q_to_str, to_q
from exactinterp.errors import NumberError


@pytest.mark.parametrize(
    "raw, expected",
    [
        (3, QQ(3)),
        ("-7", QQ(-7)),
        ("2/6", QQ(1, 3)),
        (" -3 / 4 ", QQ(-3, 4)),
        ("0.1", QQ(1, 10)),
        ("1e-3", QQ(1, 1000)),
        ("-2.5E2", QQ(-250)),
        (Decimal("0.30000000000000004"), QQ(30000000000000004, 10**17)),
        (Fraction(5, 15), QQ(1, 3)),
        (Rational(7, 21), QQ(1, 3)),
        (np.int64(4), QQ(4)),
    ],
)
def test_to_q_reads_exactly(raw, expected):
    assert to_q(raw) == expected


def test_decimal_is_not_binary_float():
    assert to_q("0.1") != to_q(0.1, allow_float=True)
    assert to_q(0.5, allow_float=True) == QQ(1, 2)


@pytest.mark.parametrize(
    "bad", [0.1, float("nan"), True, "abc", "1/0", "nan", "inf", None, [1], "1e999999", "1" * 30000]
)
def test_to_q_refuses(bad):
    with pytest.raises(NumberError):
        to_q(bad)


def test_float_refusal_message_is_clear():
    with pytest.raises(NumberError, match="float 0.1 refused in exact mode"):
        to_q(0.1)


def test_printing_and_bits():
    assert q_to_str(QQ(3, 4)) == "3/4" and q_to_str(QQ(-5)) == "-5"
    assert bits(QQ(-255, 16)) == (8, 5)
