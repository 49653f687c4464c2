"""The scope catalogue: which scopes exist, who may grant them, and the DOT scopes backend."""

import time

from django.db.models.signals import post_delete, post_save
from oauth2_provider.scopes import BaseScopes

from .models import SCOPE_PATTERN, Scope


class _Catalogue:
    """Per-process copy of the Scope table, refreshed every few seconds and on local edits."""

    TTL = 10.0

    def __init__(self):
        self.clear()

    def clear(self, **kwargs):
        self._scopes = None
        self._loaded_at = 0.0

    def all(self):
        if self._scopes is None or time.monotonic() - self._loaded_at > self.TTL:
            self._scopes = {scope.name: scope for scope in Scope.objects.select_related("resource_server")}
            self._loaded_at = time.monotonic()
        return self._scopes


catalogue = _Catalogue()
post_save.connect(catalogue.clear, sender=Scope)
post_delete.connect(catalogue.clear, sender=Scope)


def parse(scope_string):
    """Split a scope parameter into names; None when any name is not well formed (RFC 6749 §3.3)."""
    names = scope_string.split(" ") if scope_string else []
    if any(not SCOPE_PATTERN.match(name) for name in names if name) or "" in names[1:-1]:
        return None
    return sorted(set(filter(None, names)))


def grantable_by(user, names):
    """The subset of `names` this person may grant: an agent never holds more than its person."""
    scopes = catalogue.all()
    allowed = []
    for name in names:
        scope = scopes.get(name)
        if scope is None:
            continue
        if scope.permission and not user.has_perm(scope.permission):
            continue
        allowed.append(name)
    return allowed


def available_to(agent):
    """The scopes an agent may ever ask for."""
    names = set(catalogue.all())
    limit = agent.scope_names() if agent is not None else None
    return sorted(names & set(limit)) if limit is not None else sorted(names)


def describe(names):
    scopes = catalogue.all()
    return [scopes[name] for name in names if name in scopes]


RISK_ORDER = (Scope.Risk.LOW, Scope.Risk.MEDIUM, Scope.Risk.HIGH)


def riskiest(levels):
    """The highest of these risk levels; an unknown level counts as high, no level as low."""
    ranks = [RISK_ORDER.index(level) if level in RISK_ORDER else len(RISK_ORDER) - 1 for level in levels]
    return RISK_ORDER[max(ranks, default=0)]


def risk_of(names):
    """The risk of holding all these scopes together: the riskiest one (unknown scopes are high)."""
    scopes = catalogue.all()
    return riskiest(scopes[name].risk if name in scopes else Scope.Risk.HIGH for name in names)


class CatalogueScopes(BaseScopes):
    """DOT scopes backend over the catalogue; no agent gets every scope by default."""

    def get_all_scopes(self):
        return {name: scope.description for name, scope in catalogue.all().items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return available_to(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return []
