"""Critical actions: each says what the person is shown, when they must be asked and how it runs.

An API subclasses `Action` and registers one instance when its module is imported (examples/apps.py
imports them in web and worker processes alike); approvals never imports an API. The executor
finds an approval's action here by the name stored on the approval.
"""

from agentauth.identity import rar, scopes
from agentauth.lib.text import clean_text

from . import policies


class ActionFailed(Exception):
    """The approved action could not be carried out; the reason is shown to the person and the agent."""


class Action:
    """One kind of critical action. `params` are its JSON-able arguments, exactly what the person
    approved and what runs: the approval stores them and a hash of them."""

    name = ""  # stored on every approval, e.g. "payments.create"
    scope = ""  # the scope an agent needs for it; consent is checked against it again at run time
    Request = None  # DRF serializer for the API request body (RequiresApproval validates with it)
    Result = None  # DRF serializer documenting the 201 body, for the OpenAPI schema

    def params(self, data):
        """The validated request as JSON-able params (strings for decimals and datetimes)."""
        return dict(data)

    def scope_for(self, params):
        return self.scope

    def describe(self, params):
        """One line the person reads before deciding: "Pay 120.00 EUR to ACME Ltd"."""
        return self.name

    def facts(self, params):
        """(label, value) pairs the decision screen, the e-mail and the live alert list: everything
        the person should check. By default every authorization detail, in full."""
        return rar.facts(self.authorization_details(params))

    def risk(self, params):
        """How much is at stake ("low", "medium", "high"): the riskiest of its scope and details.
        High-risk approvals need a recent sign-in."""
        return scopes.riskiest(
            [scopes.risk_of([self.scope_for(params)]), *rar.risk(self.authorization_details(params))]
        )

    def authorization_details(self, params):
        """The RFC 9396 form, for people and for matching a CIBA token to what it may do."""
        return []

    def binding_message(self, params):
        return ""

    def amount(self, params):
        """(Decimal amount, currency) when the person's amount limits apply, else None."""
        return None

    def needs_person(self, user, agent, params):
        """The policy: must this one wait for the person? By default the scope's flag and then the
        person's own rule for the agent (e.g. "ask me above 20 EUR")."""
        amount, currency = self.amount(params) or (None, None)
        return policies.needs_person(user, agent, self.scope_for(params), amount, currency)

    def run(self, approval, params):
        """Do it, inside the executing transaction; return a JSON-able result or raise ActionFailed."""
        raise NotImplementedError

    def present(self, approval):
        """The 201 body once it ran."""
        return approval.result or {}


_registry: dict[str, Action] = {}


def register(action):
    """Register an Action instance under its name; returns it, for the view that declares it."""
    _registry[action.name] = action
    return action


def get(name):
    return _registry.get(name)


def describe(approval):
    return _say(approval, "describe", approval.action)


def facts(approval):
    # Agent-supplied values, made inert once for every screen, e-mail and push that shows them.
    return [(label, clean_text(value, 4000)) for label, value in _say(approval, "facts", [])]


def _say(approval, what, fallback):
    # An approval outlives code changes: params that no longer fit their action are shown plainly.
    action = get(approval.action)
    if action is None:
        return fallback
    try:
        return getattr(action, what)(approval.params)
    except (KeyError, TypeError, ValueError):
        return fallback
