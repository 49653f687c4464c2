"""The registry of critical actions: what runs once a person approves, and how to say it in words.

An API registers its actions at start-up (see examples/apps.py); approvals never imports an API.
"""

from collections.abc import Callable
from dataclasses import dataclass


class ActionFailed(Exception):
    """The approved action could not be carried out; the reason is shown to the person and the agent."""


@dataclass(frozen=True)
class Action:
    name: str
    scope: str
    run: Callable  # run(approval) -> JSON-able result; runs inside the executing transaction
    describe: Callable  # describe(approval) -> "Pay 120.00 EUR to ACME Ltd"


_registry: dict[str, Action] = {}


def register(name, *, scope, run, describe):
    _registry[name] = Action(name=name, scope=scope, run=run, describe=describe)


def get(name):
    return _registry.get(name)


def describe(approval):
    action = get(approval.action)
    if action is None:
        return approval.action
    try:
        return action.describe(approval)
    except (KeyError, TypeError, ValueError):
        return approval.action
