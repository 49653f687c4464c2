"""Signals by which the core tells higher layers (approvals, monitoring) that consent changed."""

from django.dispatch import Signal

# grant=Grant, removed=[scope names]
grant_narrowed = Signal()
# user=User, agent=Agent
grant_revoked = Signal()
# agent=Agent (suspended or revoked)
agent_disabled = Signal()
# user=User, session_keys=[str]: browser sessions ended by "sign out everywhere"
sessions_ended = Signal()
# alert=Alert: a monitoring rule fired
alert_raised = Signal()
