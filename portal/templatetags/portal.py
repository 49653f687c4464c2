"""Template filters for agent-supplied text."""

from django import template

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
