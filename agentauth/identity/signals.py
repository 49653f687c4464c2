"""How the identity core tells the floors above that an agent was switched off."""

from django.dispatch import Signal

# agent=Agent (suspended or revoked)
agent_disabled = Signal()
