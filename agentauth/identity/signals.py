"""How the identity core tells the floors above that an agent was switched off, and itself that
agents changed without save() (a queryset update)."""

from django.dispatch import Signal

# agent=Agent (suspended or revoked)
agent_disabled = Signal()

# Agents changed by QuerySet.update(), which sends no post_save.
agents_updated = Signal()
