"""Template filters for agent-supplied text."""

import unicodedata

from django import template

register = template.Library()


@register.filter
def inert(value, limit=80):
    """Agent-supplied text made harmless to read: no control or bidi characters, bounded length.

    Escaping still happens as usual; this removes what escaping cannot (U+202E and friends can
    make "Deny" read as "Allow") and stops a 20 KB name from pushing the buttons off the page.
    """
    text = "".join(ch for ch in str(value or "") if unicodedata.category(ch) not in ("Cc", "Cf"))
    limit = int(limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"
