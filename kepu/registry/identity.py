"""Resident identity numbers (居民身份证号码, GB 11643-1999): check, hash, mask.

Pure functions, no Django. The registry never stores a volunteer's identity number:
it keeps

- ``id_hash``: a keyed hash (HMAC-SHA256 with a server-side key) of the normalised
  number, so that one person is registered once (a unique column) and an import can
  find an existing volunteer by number, without the number being recoverable from the
  database or a dump;
- ``id_masked``: the first 3 and last 4 characters (``530***********123X``), the only
  form any page, export or log ever shows;
- the gender and birth year read from the number (for the yearly statistics).

The key must stay the same for the life of the data (a new key makes every stored hash
unmatchable); see docs/registry.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from operator import mul

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


class IdNumberError(ValueError):
    """The text is not a valid 18-digit identity number (message in Chinese)."""


@dataclass(frozen=True)
class IdNumber:
    number: str  # normalised: 18 characters, upper-case X
    birth: dt.date
    gender: str  # "male" / "female"

    @property
    def masked(self) -> str:
        return mask(self.number)


def normalise(text: str) -> str:
    return "".join(str(text or "").split()).upper().replace("Ｘ", "X")


def check_digit(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("check_digit needs 17 digits")
    return CHECK[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


def parse(text: str, *, today: dt.date | None = None) -> IdNumber:
    """Check an 18-digit number: format, birth date, check digit."""
    number = normalise(text)
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise IdNumberError("身份证号应为 18 位 (最后一位可为 X)")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdNumberError("身份证号中的出生日期无效") from exc
    today = today or dt.date.today()
    if birth.year < 1900 or birth > today:
        raise IdNumberError("身份证号中的出生日期无效")
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("身份证号校验位不正确")
    gender = "male" if int(number[16]) % 2 else "female"
    return IdNumber(number=number, birth=birth, gender=gender)


def id_hash(number: str, key: bytes) -> str:
    """A keyed hash of a normalised number (64 hex characters)."""
    return hmac.new(key, normalise(number).encode(), hashlib.sha256).hexdigest()


def id_hasher(key: bytes) -> Callable[[str], str]:
    """:func:`id_hash` with ``key`` prepared once (for an import of many numbers)."""
    base = hmac.new(key, digestmod=hashlib.sha256)

    def digest(number: str) -> str:
        h = base.copy()
        h.update(normalise(number).encode())
        return h.hexdigest()

    return digest


def mask(number: str) -> str:
    """Keep the first 3 and the last 4 characters: ``530***********123X``."""
    number = normalise(number)
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """A name as people outside the team's office see it: ``张*`` / ``欧阳**``."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
