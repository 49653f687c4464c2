"""Numbers from query strings and form fields: plain ASCII decimals in a stated range, or an error.

float() and int() accept what nobody types and no server should act on: 'nan', 'inf', '1e400',
'١٢' (Arabic-Indic digits), '²' (str.isdigit() says yes, int() then raises), ' 12 ', '1_000'.
Every number a client sends in a query or a form goes through `number` or `whole`.
"""

import re
from decimal import Decimal

_PLAIN = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")  # [0-9] is ASCII only, unlike \d


class Invalid(ValueError):
    """Not a plain number in the allowed range; the message says what is expected."""


def number(text, *, low, high):
    """The Decimal `text` spells, if it is a plain decimal from `low` to `high`."""
    if not isinstance(text, str) or not _PLAIN.fullmatch(text):
        raise Invalid(f"expected a number from {low} to {high}")
    value = Decimal(text)
    if not low <= value <= high:
        raise Invalid(f"expected a number from {low} to {high}")
    return value


def whole(text, *, low, high):
    """The int `text` spells, if it is written with ASCII digits only and within the range."""
    if not isinstance(text, str) or "." in text:
        raise Invalid(f"expected a whole number from {low} to {high}")
    return int(number(text, low=low, high=high))


def is_id(text):
    """Whether `text` is a database id as a client may send one (ASCII digits, not absurdly long)."""
    return isinstance(text, str) and 0 < len(text) <= 18 and text.isascii() and text.isdigit()
