"""Agent-supplied text made inert before anyone sees it."""

import unicodedata


def without_controls(value, keep=""):
    """The text without control or format characters (bidi overrides, zero-width), except `keep`."""
    return "".join(ch for ch in str(value or "") if unicodedata.category(ch) not in ("Cc", "Cf") or ch in keep)


def clean_text(value, limit):
    """Agent-supplied text made inert: no control or bidi characters, bounded length."""
    return without_controls(value, keep="\n").strip()[:limit]
