"""Text from outside: agent-supplied text made inert, and account names in one spelling."""

import unicodedata

from .numbers import is_id


def without_controls(value, keep=""):
    """The text without control or format characters (bidi overrides, zero-width), except `keep`."""
    return "".join(ch for ch in str(value or "") if unicodedata.category(ch) not in ("Cc", "Cf") or ch in keep)


def clean_text(value, limit):
    """Agent-supplied text made inert: no control or bidi characters, bounded length."""
    return without_controls(value, keep="\n").strip()[:limit]


def account_name(value):
    """An account name as typed, normalised the way Django's sign-in form does (NFKC, stripped)."""
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def account_key(value):
    """One spelling per account for rate-limit buckets and lookups by hint: the normalised name,
    case-folded; an id in ASCII digits without its leading zeros. "Alice", "ALICE", "02", "²"
    and "2" cannot each get a bucket of their own."""
    key = account_name(value).casefold()
    return str(int(key)) if is_id(key) else key
