"""Template filters: agent-supplied text made inert, scopes said in words."""

from django import template

from agentauth.identity.scopes import catalogue
from agentauth.lib.text import without_controls

register = template.Library()


@register.filter
def inert(value, limit=80):
    """Agent-supplied text made harmless to read: no control or bidi characters, bounded length.

    Escaping still happens as usual; this removes what escaping cannot (U+202E and friends can
    make "Deny" read as "Allow") and stops a 20 KB name from pushing the buttons off the page.
    """
    text = without_controls(value)
    limit = int(limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def scope_words(name):
    """A scope as a person reads it ("Make payments from your account"); the code if unknown."""
    entry = catalogue.all().get(name)
    return entry.description if entry else name
