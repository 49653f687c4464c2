"""RFC 9396 rich authorization requests: the `authorization_details` types this server knows.

An API registers each type it understands (examples/payments.py registers `payment_initiation`)
with a validator that returns the normalised detail or raises InvalidDetails, a describer that
says it in plain words, labels for the fields it knows, and the risk of granting it.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DetailType:
    validate: Callable  # validate(detail) -> the normalised detail, or raise InvalidDetails
    describe: Callable  # describe(detail) -> "Pay 120.00 EUR to ACME Ltd"
    facts: Callable = lambda detail: {}  # facts(detail) -> {field: (label, value)} for the fields it renders
    risk: str = "high"


_types: dict[str, DetailType] = {}


class InvalidDetails(ValueError):
    """authorization_details is malformed or names a type nobody registered (RFC 9396 §5)."""


def register(detail_type, *, validate, describe, facts=None, risk="high"):
    _types[detail_type] = DetailType(validate, describe, facts or DetailType.facts, risk)


def detail_types():
    return set(_types)


def _refuse_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise InvalidDetails("duplicate member names")  # what is shown must be what runs (FZ-07)
    return dict(pairs)


def parse(text):
    """Parse and validate an authorization_details parameter; returns the normalised list."""
    try:
        value = json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    except InvalidDetails:
        raise
    except (ValueError, RecursionError) as error:
        raise InvalidDetails(f"not JSON: {error}") from None
    if not isinstance(value, list) or not 1 <= len(value) <= 5:
        raise InvalidDetails("expected a JSON array of 1 to 5 objects")
    details = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise InvalidDetails("each detail needs a string type")
        if item["type"] not in _types:
            raise InvalidDetails(f"unknown type {item['type'][:40]!r}")
        details.append(_types[item["type"]].validate(item))
    return details


def _refuse_constant(name):
    raise InvalidDetails(f"{name} is not a number")


def covers(approved, wanted):
    """True when each wanted detail is one the person approved: the same type and, after both are
    normalised, the same value for every member the wanted one states. No details, no cover."""
    if not wanted:
        return False
    for detail in wanted:
        entry = _types.get(detail.get("type"))
        try:
            normal = entry.validate(detail) if entry else None
        except InvalidDetails:
            normal = None
        if normal is None:
            return False
        stated = {key: normal.get(key) for key in detail}
        if not any(all(given.get(key) == value for key, value in stated.items()) for given in approved or []):
            return False
    return True


def describe(details):
    words = []
    for item in details or []:
        entry = _types.get(item.get("type"))
        if entry is not None:
            words.append(entry.describe(item))
    return "; ".join(words)


def facts(details):
    """Every detail in full, as (label, value) pairs for a person: the fields its type renders in
    words, and every other field raw. Nothing a detail says is left out of what the person sees.
    A lone detail of a known type needs no "Request" line: the screen's headline already says it."""
    pairs = []
    for detail in details or []:
        entry = _types.get(detail.get("type"))
        rendered = entry.facts(detail) if entry else {}
        if entry is None or len(details) > 1:
            pairs.append(("Request", entry.describe(detail) if entry else str(detail.get("type"))))
        for name, value in detail.items():
            if name != "type" and value not in ("", {}, []):
                pairs.append(rendered.get(name) or (name, value if isinstance(value, str) else _raw(value)))
    return pairs


def _raw(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def risk(details):
    """The risk levels of these details' types (a type nobody registered is high)."""
    return [(_types[item["type"]].risk if item.get("type") in _types else "high") for item in details or []]
