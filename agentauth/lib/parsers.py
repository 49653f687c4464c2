"""A JSON parser that refuses what could make the shown and the executed request differ."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _unique(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ParseError("Duplicate member names are not accepted (RFC 7493 I-JSON).")
    return dict(pairs)


def _no_constant(name):
    raise ParseError(f"{name} is not a JSON number.")


class StrictJSONParser(JSONParser):
    """I-JSON (RFC 7493): no duplicate keys, no NaN or Infinity, no nesting deep enough to crash."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            text = stream.read().decode(encoding)
            return json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
        except ParseError:
            raise
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise ParseError(f"JSON parse error: {str(error)[:100]}") from None
