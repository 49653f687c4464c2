"""How a resource API tells monitoring about each call, without importing it."""

from django.dispatch import Signal

# client_id, subject, outcome ("calls", "refused", "insufficient_scope"), ip, user_agent, scopes
api_called = Signal()
